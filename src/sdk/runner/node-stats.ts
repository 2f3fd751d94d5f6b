/** Per-node counters of one run. */
export interface NodeStats {
  readonly nodeId: string;
  readonly name: string;
  readonly nodeType: string;
  /** Calls of the compute function. */
  readonly computeCalls: number;
  /**
   * Triggers dropped because an upstream bucket was missing (`onMissing: 'skip'`), or, in live
   * runs, because an input already held a later bucket than the trigger's (inputs out of step).
   */
  readonly skips: number;
  /** Appends that opened a gap (the bucket was not previous + interval). */
  readonly gaps: number;
  /** Triggers while the node was still warming up (not every upstream had `period` bars). */
  readonly warmupBars: number;
  /** Late corrections: a bucket that replaced the newest one. */
  readonly corrections: number;
  /** Buckets older than the newest, rejected. */
  readonly rejected: number;
  /**
   * Values emitted (for a StreamInput: rows replayed or received, a row correcting its bucket
   * included, unlike the run's `bars`). A node on a coarser interval than its input re-emits its
   * bucket at each recompute, and each emission counts: this exceeds the number of buckets in its
   * output series.
   */
  readonly outputs: number;
  /** Computes that returned null/undefined (no output). */
  readonly emptyOutputs: number;
  /** How many strategies of the run contain this node. */
  readonly strategies: number;
}
