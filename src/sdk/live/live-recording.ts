import { logger } from '../../common/logger.js';
import type { EventRecorder } from '../history/protocols.js';

/**
 * Hands a live run's bars to their streams' event recorders (SPEC §3.7) without holding the run
 * up, and at the run's end waits for them and flushes each recorder that buffers (`flush`), so
 * the bars a run saw are stored, or the run says they were not, before it ends.
 * @example
 * const recording = new LiveRecording();
 * recording.record(recorder, nodeId, 60, bucket, row); // per live bar
 * await recording.finish(); // at the end; recording.error: the first failure, else null
 */
export class LiveRecording {
  readonly #recorders = new Set<EventRecorder>();
  readonly #inFlight = new Set<Promise<void>>();
  #error: Error | null = null;

  /**
   * The first failure of a recorder's closing flush (bars it could not store, e.g. QuestDB
   * unreachable when the run ended), else null. Set by {@link finish}.
   */
  get error(): Error | null {
    return this.#error;
  }

  /** Persists one bar; a rejection (a bar the recorder refuses) is logged, not thrown. */
  record(recorder: EventRecorder, nodeId: string, interval: number, bucket: number, payload: unknown): void {
    this.#recorders.add(recorder);
    const persisted = recorder
      .persist(nodeId, interval, bucket, payload)
      .catch((error: unknown) => logger.warn({ err: error, node_id: nodeId }, 'recording a live bar failed'))
      .finally(() => this.#inFlight.delete(persisted));
    this.#inFlight.add(persisted);
  }

  /** Waits for the bars handed over so far, then flushes every recorder that has `flush`. */
  async finish(): Promise<void> {
    await Promise.all(this.#inFlight);
    await Promise.all(
      [...this.#recorders].map(async (recorder) => {
        try {
          await recorder.flush?.();
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          this.#error ??= failure;
          logger.error({ err: failure }, 'the run ended with bars its event recorder did not store');
        }
      }),
    );
  }
}
