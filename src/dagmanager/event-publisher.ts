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
 */
export class HttpEventPublisher implements EventPublisher {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly options: PostOptions = {},
  ) {}

  publish(type: string, data: unknown): void {
    const event = dagManagerEvent(type, data);
    this.tail = this.tail.then(() =>
      postWithBackoff(this.url, event, this.options).catch((error: unknown) =>
        logger.warn({ err: error, type }, 'could not deliver a DAG Manager event to the Gateway'),
      ),
    );
  }

  flush(): Promise<void> {
    return this.tail;
  }
}
