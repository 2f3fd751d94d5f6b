import { logger } from '../../common/logger.js';
import type { LiveRecording } from './live-recording.js';
import type { OutputPublisher } from './output-publisher.js';

/** What a {@link LiveSessionShutdown} ends. */
export interface LiveSessionShutdownOptions {
  /** Where the session publishes; null when every node is local (nothing to flush). */
  readonly publisher: OutputPublisher | null;
  /** The bus as logs name it (its DSN, password hidden). */
  readonly busName: string;
  /** How long stop() leaves a bus that does not take outputs to take what is left, in ms. Default 10 s. */
  readonly stopGraceMs?: number;
  /**
   * Stops every input (feeds, subscriptions) and resolves once no event is being applied: after
   * it, nothing more reaches the publisher.
   */
  readonly stopInputs: () => Promise<void>;
  /** The bars handed to event recorders: flushed once the inputs stopped. */
  readonly recording: LiveRecording;
}

/**
 * How a live session ends: by itself (every input passed `until`), on {@link stop}, or on an error
 * ({@link finish}). It stops the inputs, flushes the event recorders, then waits until the bus
 * took every output; a stop gives
 * a bus that does not take them a grace period, after which they are abandoned and reported. The
 * end of a run waits for the bus without limit: nothing it computed is lost.
 */
export class LiveSessionShutdown {
  /** Settles when the session ends: every input passed `until`, every feed ended, stop, or an error. */
  readonly done: Promise<void>;
  readonly #options: LiveSessionShutdownOptions;
  /** Aborted when the session starts closing: releases a feed waiting for room in the backlog. */
  readonly #closing = new AbortController();
  #closed: Promise<void> | null = null;
  #stopRequested = false;
  /** True once the closing flush settled: nothing is left to abandon. */
  #flushed = false;
  /** When unpublished outputs are abandoned (a stop's grace ends), epoch ms; null: not set. */
  #abandonAt: number | null = null;
  #abandonTimer: NodeJS.Timeout | undefined;
  #finished = false;
  #resolveDone!: () => void;
  #rejectDone!: (error: Error) => void;

  constructor(options: LiveSessionShutdownOptions) {
    this.#options = options;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolveDone = resolve;
      this.#rejectDone = reject;
    });
    this.done.catch(() => undefined);
  }

  /** True once the session ended (or failed): no event is applied any more. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Aborted once the session starts closing. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /**
   * Stops the inputs and publishes what is left. A bus that does not take it gets `graceMs`
   * (default `stopGraceMs`, 10 s; 0: none), then the rest is abandoned and reported. Idempotent;
   * a later call can only shorten the grace.
   */
  async stop(graceMs = this.#options.stopGraceMs ?? 10_000): Promise<void> {
    const publisher = this.#options.publisher;
    if (!this.#stopRequested && publisher !== null && publisher.backlog > 0 && !publisher.abandoned)
      logger.warn(
        { bus: this.#options.busName, unpublished: publisher.backlog, graceMs },
        'stopping with outputs the topic bus has not taken: they are abandoned unless it takes them within graceMs',
      );
    this.#stopRequested = true;
    this.#abandonWithin(graceMs);
    await this.close();
  }

  /**
   * Stops the inputs, then waits until the bus took every output or a stop's grace ran out. The
   * end of a run (endTime, feeds ended) waits for the bus without limit: nothing it computed is lost.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort();
      await this.#options.stopInputs();
      await this.#options.recording.finish();
      const { publisher, busName } = this.#options;
      if (publisher === null) return this.finish(null);
      if (!this.#stopRequested && publisher.backlog > 0)
        logger.warn(
          { bus: busName, unpublished: publisher.backlog },
          'the run reached its end with outputs the topic bus has not taken: it ends once they are published (stop() or Ctrl-C abandons them)',
        );
      const unpublished = await publisher.flush();
      clearTimeout(this.#abandonTimer);
      this.#flushed = true;
      if (unpublished > 0)
        logger.error(
          { bus: busName, unpublished },
          'the run stopped with outputs the topic bus did not take: they are not published',
        );
      this.finish(null);
    })();
    return this.#closed;
  }

  /** Ends the session: `done` resolves, or rejects with `error`, which also stops the session. */
  finish(error: Error | null): void {
    if (this.#finished) return;
    this.#finished = true;
    if (error === null) this.#resolveDone();
    else {
      logger.error({ err: error }, 'live run failed');
      this.#rejectDone(error);
      void this.stop();
    }
  }

  /** Abandons unpublished outputs `ms` from now, unless an earlier deadline is set. */
  #abandonWithin(ms: number): void {
    const publisher = this.#options.publisher;
    if (publisher === null || this.#flushed || !(ms < Infinity)) return;
    const at = Date.now() + Math.max(0, ms);
    if (this.#abandonAt !== null && this.#abandonAt <= at) return;
    this.#abandonAt = at;
    clearTimeout(this.#abandonTimer);
    if (ms <= 0) publisher.abandon();
    else this.#abandonTimer = setTimeout(() => publisher.abandon(), ms).unref();
  }
}
