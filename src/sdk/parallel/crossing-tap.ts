import { AppendOutcome, SeriesRing } from '../cache/series-ring.js';

/**
 * An edge's ring that stores nothing: it hands every value (and every "no output" mark) to the
 * pipeline, which delivers it to the real consumer later, in stage 2. It answers every append
 * with `Rejected`, which a TickEngine takes as "nothing delivered" (the facade of the edge's target
 * drops the `rejected` count that comes with it).
 */
export class CrossingTap extends SeriesRing {
  readonly #onValue: (bucket: number, value: unknown) => void;
  readonly #onEmpty: (bucket: number) => void;

  constructor(onValue: (bucket: number, value: unknown) => void, onEmpty: (bucket: number) => void) {
    super(1, 1);
    this.#onValue = onValue;
    this.#onEmpty = onEmpty;
  }

  override append(bucket: number, value: unknown): AppendOutcome {
    this.#onValue(bucket, value);
    return AppendOutcome.Rejected;
  }

  override markEmpty(bucket: number): void {
    this.#onEmpty(bucket);
  }
}
