import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { logger } from '../../common/logger.js';
import { transferList, TSX_REGISTERED, type BatchOutcome, type BucketBatch } from './bucket-task.js';

/** A pool of worker threads that compute buckets of pure nodes (SPEC §3.5, `--workers N`). */
export interface ComputePool {
  readonly threads: number;
  /**
   * Computes successive buckets of one node in a worker thread; resolves to their outputs
   * (structured-cloned), up to the first compute that threw.
   */
  run(batch: BucketBatch): Promise<BatchOutcome>;
  /** Lets running tasks finish (their results are dropped), then stops the threads. */
  close(): Promise<void>;
}

/** Running from TypeScript sources (tsx, Vitest): the worker is a .ts file too, and needs tsx inside its thread. */
const fromSources = import.meta.url.endsWith('.ts');

/**
 * Starts `threads` worker threads (piscina) that load compute modules by URL, once per thread.
 *
 * @example
 * const pool = await createComputePool(2);
 * try {
 *   await replayParallel(graph, sources, start, end, { pool, onMissing: 'skip' });
 * } finally {
 *   await pool.close();
 * }
 */
export async function createComputePool(threads: number): Promise<ComputePool> {
  checkThreads(threads);
  // Loaded here: runs without workers (every live run, most backtests) never pay for the import.
  const { Piscina } = await import('piscina');
  const piscina = new Piscina<BucketBatch, BatchOutcome>({
    filename: new URL(fromSources ? './compute-worker.ts' : './compute-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    // A second queued task per thread starts as soon as the first ends, not after a round trip to the main thread.
    concurrentTasksPerWorker: 2,
    ...(fromSources && { execArgv: [...process.execArgv, '--import', tsxPreload()] }),
  });
  // A thread that dies outside a task (it failed to start) is reported here; its tasks reject on their own.
  piscina.on('error', (error: unknown) => logger.error({ err: error }, 'compute worker thread failed'));
  return {
    threads,
    run: (batch) => piscina.run(batch, { name: 'computeBuckets', transferList: transferList(batch) }),
    close: () => piscina.close(),
  };
}

/** Throws unless `threads` (the run's `workers`) is a positive integer. */
export function checkThreads(threads: unknown): asserts threads is number {
  if (typeof threads === 'number' && Number.isInteger(threads) && threads >= 1) return;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `workers must be a positive integer (worker threads), got ${quote(threads)}`,
  );
}

/** Registers tsx in a worker thread (tsx's own `--import tsx` hooks only the main thread). */
function tsxPreload(): string {
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import { register } from ${JSON.stringify(api)}; register(); globalThis[Symbol.for(${JSON.stringify(TSX_REGISTERED.description)})] = true;`;
  return `data:text/javascript,${encodeURIComponent(code)}`;
}
