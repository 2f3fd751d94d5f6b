import { errorFields, logger } from '../../common/logger.js';
import { backoffDelay, sleep as realSleep, type SleepFn } from '../../common/retry.js';
import type { TopicBus, TopicMessage } from '../../transport/topic-bus.js';

/** Options of an {@link OutputPublisher}. */
export interface OutputPublisherOptions {
  /** Messages buffered before {@link OutputPublisher.room} makes producers wait. Default 10,000. */
  readonly maxBacklog?: number;
  /** The bus as logs name it (its DSN, password hidden). Default `'topic bus'`. */
  readonly busName?: string;
  /** While the bus fails, the shortest time between two reminders in the log, in ms. Default 60,000. */
  readonly reminderMs?: number;
  /** Clock of the outage log, in ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How to wait between retries. Default a real timer. */
  readonly sleep?: SleepFn;
}

/** A bus that does not take outputs: since when, how many publishes failed, when it was last logged. */
interface Outage {
  readonly since: number;
  retries: number;
  loggedAt: number;
}

/**
 * Publishes the outputs of the nodes a process computes to their topics (SPEC §2.9), in order per
 * topic, batching what accumulates while a publish is in flight. Nothing is dropped: a failed
 * publish is retried with backoff (the bus is at-least-once; consumers ignore redelivered buckets).
 * An outage is logged as one warning, a reminder with the retry count every `reminderMs`, and one
 * line when the bus takes outputs again; each retry only at `debug`.
 */
export class OutputPublisher {
  readonly #bus: TopicBus;
  readonly #maxBacklog: number;
  readonly #busName: string;
  readonly #reminderMs: number;
  readonly #now: () => number;
  readonly #sleep: SleepFn;
  #outage: Outage | null = null;
  /** When producers were last told, in the log, that they wait for room. */
  #waitLoggedAt = -Infinity;
  #buffer = new Map<string, TopicMessage[]>();
  #backlog = 0;
  #flushing: Promise<void> | null = null;
  #published = 0;
  readonly #abandon = new AbortController();

  constructor(bus: TopicBus, options: OutputPublisherOptions = {}) {
    this.#bus = bus;
    this.#maxBacklog = options.maxBacklog ?? 10_000;
    this.#busName = options.busName ?? 'topic bus';
    this.#reminderMs = options.reminderMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
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

  /**
   * Resolves at once while the backlog is small, else when the current batch has left: producers
   * wait here while the bus does not take outputs. `signal` (the run stopping) and
   * {@link abandon} release them.
   */
  async room(signal?: AbortSignal): Promise<void> {
    if (!this.#full(signal)) return;
    // Once per reminder interval: a slow bus can make producers wait at every output.
    const now = this.#now();
    if (now - this.#waitLoggedAt >= this.#reminderMs) {
      this.#waitLoggedAt = now;
      logger.warn(
        { bus: this.#busName, backlog: this.#backlog },
        `publishing is ${this.#maxBacklog} outputs behind: the live inputs wait until the topic bus takes them (endTime cannot be reached meanwhile)`,
      );
    }
    // A signal of its own, so no listener stays on the long-lived ones after this wait.
    const released = aborted(AbortSignal.any([this.#abandon.signal, ...(signal ? [signal] : [])]));
    while (this.#full(signal)) await Promise.race([this.#flushing, released]);
  }

  /**
   * Resolves when everything added so far is published, or once publishing is abandoned
   * ({@link abandon}, or `timeoutMs` passed), with the number of messages left unpublished.
   */
  async flush(timeoutMs = Infinity): Promise<number> {
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => this.abandon(), timeoutMs) : undefined;
    const released = aborted(this.#abandon.signal);
    while (this.#flushing !== null && !this.#abandon.signal.aborted)
      await Promise.race([this.#flushing, released]);
    clearTimeout(timer);
    return this.#backlog;
  }

  /** Stops retrying: what is not published now never will be, and {@link flush} resolves at once. */
  abandon(): void {
    this.#abandon.abort();
  }

  /** True once {@link abandon} was called. */
  get abandoned(): boolean {
    return this.#abandon.signal.aborted;
  }

  #full(signal: AbortSignal | undefined): boolean {
    return (
      this.#backlog > this.#maxBacklog &&
      this.#flushing !== null &&
      !this.#abandon.signal.aborted &&
      signal?.aborted !== true
    );
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
        this.#recovered();
        return;
      } catch (error) {
        const delayMs = backoffDelay(attempt, { baseDelayMs: 100, maxDelayMs: 5_000 });
        this.#failed(error);
        logger.debug(
          { err: error, topic, messages: messages.length, attempt, delayMs },
          'publish failed; retrying',
        );
        await this.#sleep(delayMs, this.#abandon.signal).catch(() => undefined);
      }
    }
  }

  /** Logs the start of an outage, then a reminder every `reminderMs` while it lasts. */
  #failed(error: unknown): void {
    const now = this.#now();
    const outage = this.#outage;
    if (outage === null) {
      this.#outage = { since: now, retries: 0, loggedAt: now };
      logger.warn(
        { bus: this.#busName, ...errorFields(error), backlog: this.#backlog },
        'the topic bus does not take outputs; retrying until it does (nothing is dropped)',
      );
      return;
    }
    outage.retries++;
    if (now - outage.loggedAt < this.#reminderMs) return;
    outage.loggedAt = now;
    logger.warn(
      {
        bus: this.#busName,
        ...errorFields(error),
        retries: outage.retries,
        downForMs: now - outage.since,
        backlog: this.#backlog,
      },
      'the topic bus still does not take outputs; retrying',
    );
  }

  #recovered(): void {
    const outage = this.#outage;
    if (outage === null) return;
    this.#outage = null;
    logger.info(
      {
        bus: this.#busName,
        retries: outage.retries + 1,
        downForMs: this.#now() - outage.since,
        backlog: this.#backlog,
      },
      'the topic bus takes outputs again',
    );
  }
}

/** Resolves when `signal` aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
