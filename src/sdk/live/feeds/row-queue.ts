import { Fifo } from '../../../common/fifo.js';
import type { HistoryRow } from '../../history/protocols.js';
import type { FeedRun } from './feed-run.js';

/** Options of a {@link RowQueue}. */
export interface RowQueueOptions {
  /** Queued rows at which `onPressure(true)` asks the source to pause. Default 1024. */
  readonly highWaterMark?: number;
  /** Called with true when the queue reaches the high-water mark, false once it drained to a quarter. */
  readonly onPressure?: (paused: boolean) => void;
}

/**
 * Serialises rows that arrive as events (socket messages) into one `onRow` call at a time, in
 * arrival order, through {@link FeedRun.deliver}. When the consumer falls behind, it asks the
 * source to pause instead of letting the queue grow without bound.
 *
 * @example
 * const queue = new RowQueue(run, { onPressure: (paused) => (paused ? socket.pause() : socket.resume()) });
 * socket.on('message', (data) => queue.push(parseRows(data)));
 */
export class RowQueue {
  readonly #run: FeedRun;
  readonly #highWaterMark: number;
  readonly #onPressure: (paused: boolean) => void;
  readonly #rows = new Fifo<HistoryRow>();
  #draining = false;
  #paused = false;

  constructor(run: FeedRun, options: RowQueueOptions = {}) {
    this.#run = run;
    this.#highWaterMark = options.highWaterMark ?? 1024;
    this.#onPressure = options.onPressure ?? (() => undefined);
    run.signal.addEventListener('abort', () => this.#clear(), { once: true });
  }

  /** Rows waiting for delivery. */
  get size(): number {
    return this.#rows.length;
  }

  /** True while the queue asked the source to pause. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Queues rows for delivery after those already queued; ignored once the run ended. */
  push(rows: readonly HistoryRow[]): void {
    if (this.#run.ended || rows.length === 0) return;
    for (const row of rows) this.#rows.push(row);
    if (!this.#paused && this.size >= this.#highWaterMark) this.#setPaused(true);
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.size > 0 && !this.#run.ended) {
        const row = this.#rows.first() as HistoryRow;
        this.#rows.drop(1);
        await this.#run.deliver(row);
        if (this.#paused && this.size <= this.#highWaterMark / 4) this.#setPaused(false);
      }
    } finally {
      this.#draining = false;
    }
  }

  #setPaused(paused: boolean): void {
    this.#paused = paused;
    this.#run.log('debug', { paused, queued: this.size }, 'live feed queue back-pressure');
    this.#onPressure(paused);
  }

  #clear(): void {
    this.#rows.clear();
  }
}
