import { logger } from '../../common/logger.js';
import { backoffDelay, sleep } from '../../common/retry.js';
import type { TopicBus, TopicMessage } from '../../transport/topic-bus.js';

/** Options of an {@link OutputPublisher}. */
export interface OutputPublisherOptions {
  /** Messages buffered before {@link OutputPublisher.room} makes producers wait. Default 10,000. */
  readonly maxBacklog?: number;
}

/**
 * Publishes the outputs of the nodes a process computes to their topics (SPEC §2.9), in order per
 * topic, batching what accumulates while a publish is in flight. Nothing is dropped: a failed
 * publish is retried with backoff (the bus is at-least-once; consumers ignore redelivered buckets).
 */
export class OutputPublisher {
  readonly #bus: TopicBus;
  readonly #maxBacklog: number;
  #buffer = new Map<string, TopicMessage[]>();
  #backlog = 0;
  #flushing: Promise<void> | null = null;
  #published = 0;
  readonly #abandon = new AbortController();

  constructor(bus: TopicBus, options: OutputPublisherOptions = {}) {
    this.#bus = bus;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
  }

  /** Messages accepted and not yet published. */
  get backlog(): number {
    return this.#backlog;
  }

  /** Messages published so far. */
  get published(): number {
    return this.#published;
  }

  /** Queues one output; it leaves with the next batch of its topic. */
  add(topic: string, message: TopicMessage): void {
    let batch = this.#buffer.get(topic);
    if (batch === undefined) this.#buffer.set(topic, (batch = []));
    batch.push(message);
    this.#backlog++;
    this.#flushing ??= this.#drain();
  }

  /** Resolves at once while the backlog is small, else when the current batch has left. */
  async room(): Promise<void> {
    while (this.#backlog > this.#maxBacklog && this.#flushing !== null) await this.#flushing;
  }

  /**
   * Resolves when everything added so far is published, or after `timeoutMs` (the bus is down):
   * then it gives up retrying and resolves with the number of messages left unpublished.
   */
  async flush(timeoutMs = Infinity): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const expired = new Promise<void>((resolve) => {
      if (Number.isFinite(timeoutMs))
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, timeoutMs);
    });
    while (this.#flushing !== null && !timedOut) await Promise.race([this.#flushing, expired]);
    clearTimeout(timer);
    if (this.#flushing !== null) this.#abandon.abort();
    return this.#backlog;
  }

  async #drain(): Promise<void> {
    // Let the current tick add the rest of its outputs first: one batch per topic per tick.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#buffer.size > 0 && !this.#abandon.signal.aborted) {
      const batches = this.#buffer;
      this.#buffer = new Map();
      await Promise.all([...batches].map(([topic, messages]) => this.#publish(topic, messages)));
    }
    this.#flushing = null;
  }

  async #publish(topic: string, messages: TopicMessage[]): Promise<void> {
    for (let attempt = 1; !this.#abandon.signal.aborted; attempt++) {
      try {
        await this.#bus.publish(topic, messages);
        this.#backlog -= messages.length;
        this.#published += messages.length;
        return;
      } catch (error) {
        const delayMs = backoffDelay(attempt, { baseDelayMs: 100, maxDelayMs: 5_000 });
        logger.warn(
          { err: error, topic, messages: messages.length, attempt, delayMs },
          'publish failed; retrying',
        );
        await sleep(delayMs, this.#abandon.signal).catch(() => undefined);
      }
    }
  }
}
