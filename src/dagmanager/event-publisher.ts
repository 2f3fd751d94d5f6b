import { cloudEvent, type CloudEventJson } from '../common/cloud-event.js';
import { logger } from '../common/logger.js';
import { postWithBackoff, type PostOptions } from '../common/post-with-backoff.js';

/** Builds a CloudEvent from the DAG Manager (`source: qmtl.dagmanager`). */
export function dagManagerEvent<T>(type: string, data: T, now = Date.now()): CloudEventJson<T> {
  return cloudEvent('qmtl.dagmanager', type, data, now);
}

/** Sends DAG Manager events (queue_update, sentinel_weight, gc) somewhere. */
export interface EventPublisher {
  publish(type: string, data: unknown): void;
  /** Resolves when every event published so far has been delivered or given up on. */
  flush(): Promise<void>;
}

/** Drops events: the DAG Manager without a Gateway callback. */
export const nullPublisher: EventPublisher = {
  publish: () => undefined,
  flush: () => Promise.resolve(),
};

/**
 * Posts each event to the Gateway's `/callbacks/dag-event` with backoff, in order, without
 * blocking the caller; an event still failing after its retries is logged and dropped.
 *
 * An event that states the whole current value of something replaces one of the same subject
 * still waiting to be sent, in its place: a `queue_update` (the full queue list of one tag
 * query) and a `sentinel_weight` (one sentinel's weight). So a burst of new nodes, or an
 * unreachable Gateway, holds at most one pending event per subject, and later events of other
 * kinds are not stuck behind thousands of outdated lists.
 */
export class HttpEventPublisher implements EventPublisher {
  /** Events waiting to be sent, in order, by subject (or a unique key for other events). */
  private readonly pending = new Map<string, CloudEventJson<unknown>>();
  private sequence = 0;
  private draining: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly options: PostOptions = {},
  ) {}

  publish(type: string, data: unknown): void {
    this.pending.set(subjectOf(type, data) ?? `#${this.sequence++}`, dagManagerEvent(type, data));
    this.draining ??= this.drain();
  }

  flush(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    for (const [key, event] of this.pending) {
      this.pending.delete(key);
      await postWithBackoff(this.url, event, this.options).catch((error: unknown) =>
        logger.warn({ err: error, type: event.type }, 'could not deliver a DAG Manager event to the Gateway'),
      );
    }
    this.draining = null;
  }
}

/** What an event states the whole value of, when a later event of the subject makes it stale. */
function subjectOf(type: string, data: unknown): string | null {
  const fields = data as Record<string, unknown> | null;
  if (type === 'queue_update')
    return `${type}\u0000${JSON.stringify([fields?.['tags'], fields?.['interval'], fields?.['match_mode']])}`;
  if (type === 'sentinel_weight') return `${type}\u0000${String(fields?.['sentinel_id'])}`;
  return null;
}
