import { logger } from '../common/logger.js';
import { postWithBackoff, type PostOptions } from '../common/post-with-backoff.js';

/** Where operational alerts go. */
export interface Alerter {
  alert(severity: 'warning' | 'critical', text: string): Promise<void>;
}

/**
 * Posts alerts to Slack (`{text}` to an incoming webhook) and/or PagerDuty (Events API v2
 * `trigger` to the given URL, routing key included), with backoff. Critical alerts go to both,
 * warnings to Slack only. Delivery failures are logged, never thrown.
 */
export class WebhookAlerter implements Alerter {
  constructor(
    private readonly targets: { slackUrl?: string | null; pagerDutyUrl?: string | null; routingKey?: string },
    private readonly options: PostOptions = {},
  ) {}

  async alert(severity: 'warning' | 'critical', text: string): Promise<void> {
    const posts: Promise<void>[] = [];
    if (this.targets.slackUrl)
      posts.push(this.post(this.targets.slackUrl, { text: `[${severity}] ${text}` }));
    if (severity === 'critical' && this.targets.pagerDutyUrl) {
      posts.push(
        this.post(this.targets.pagerDutyUrl, {
          routing_key: this.targets.routingKey ?? '',
          event_action: 'trigger',
          payload: { summary: text, source: 'qmtl-dagmanager', severity: 'critical' },
        }),
      );
    }
    await Promise.all(posts);
  }

  private post(url: string, body: unknown): Promise<void> {
    return postWithBackoff(url, body, this.options).catch((error: unknown) =>
      logger.error({ err: error }, 'alert delivery failed'),
    );
  }
}
