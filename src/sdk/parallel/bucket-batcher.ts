import type { NodeRuntime } from '../runner/node-runtime.js';
import type { BatchOutcome, BucketSnapshot, NodeTask } from './bucket-task.js';
import type { ComputePool } from './compute-pool.js';

/** A bucket the pool is computing, in the tick whose stage 2 needs it. */
export class PendingResult {
  settled = false;
  failed = false;
  value: unknown = undefined;
  error: unknown = undefined;
  /** Resolves (never rejects) once the pool answered for this bucket. */
  readonly done: Promise<void>;
  readonly #tick: { pending: number };
  #resolve: () => void = () => undefined;

  constructor(
    readonly runtime: NodeRuntime,
    readonly bucket: number,
    tick: { pending: number },
  ) {
    this.#tick = tick;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** The compute returned `value`. */
  settle(value: unknown): void {
    this.value = value;
    this.#finish();
  }

  /** The compute threw `error` (or the batch could not run). */
  fail(error: unknown): void {
    this.failed = true;
    this.error = error;
    this.#finish();
  }

  #finish(): void {
    this.settled = true;
    this.#tick.pending--;
    this.#resolve();
  }
}

interface OpenBatch {
  readonly node: NodeTask;
  readonly buckets: BucketSnapshot[];
  readonly results: PendingResult[];
}

/**
 * Groups successive buckets of each offloaded node into one pool task, so the cost of a round
 * trip to a thread is shared by `size` computes.
 */
export class BucketBatcher {
  readonly #pool: ComputePool;
  readonly #size: number;
  readonly #open = new Map<NodeRuntime, OpenBatch>();

  constructor(pool: ComputePool, size: number) {
    this.#pool = pool;
    this.#size = size;
  }

  /** Queues a bucket of `node`; sends its batch once full. */
  add(runtime: NodeRuntime, node: NodeTask, bucket: BucketSnapshot, result: PendingResult): void {
    let batch = this.#open.get(runtime);
    if (batch === undefined) this.#open.set(runtime, (batch = { node, buckets: [], results: [] }));
    batch.buckets.push(bucket);
    batch.results.push(result);
    if (batch.buckets.length >= this.#size) {
      this.#open.delete(runtime);
      this.#send(batch);
    }
  }

  /** Sends every batch not yet full: the caller is about to wait for a result. */
  flush(): void {
    for (const batch of this.#open.values()) this.#send(batch);
    this.#open.clear();
  }

  #send({ node, buckets, results }: OpenBatch): void {
    void this.#pool.run({ ...node, buckets }).then(
      (outcome: BatchOutcome) => {
        results.forEach((result, k) => {
          if (k < outcome.outputs.length) result.settle(outcome.outputs[k]);
          else result.fail(outcome.error);
        });
      },
      (error: unknown) => results.forEach((result) => result.fail(error)),
    );
  }
}
