import { afterAll, describe, expect, it } from 'vitest';
import { MODULE_URL } from '../../../tests/fixtures/compute/pure-functions.js';
import { QmtlError } from '../../common/errors.js';
import { NodeCache } from '../cache/node-cache.js';
import type { BucketBatch, BucketSnapshot } from './bucket-task.js';
import { createComputePool } from './compute-pool.js';
import { computeBuckets } from './compute-worker.js';
import { snapshotCache } from './ring-snapshot.js';

/** Buckets 180 (a gap before it: 120 is missing) and 240 of a record stream and a numeric one. */
function buckets(): BucketSnapshot[] {
  const cache = new NodeCache(3);
  const out: BucketSnapshot[] = [];
  for (const t of [60, 180, 240]) {
    cache.append('rows', 60, t, { value: t / 6 });
    cache.append('peer', 60, t, t / 60);
    if (t > 60) out.push({ time: t, rings: snapshotCache(cache) });
  }
  return out;
}

function batch(exportName: string, params: Record<string, unknown>): BucketBatch {
  return {
    module: MODULE_URL,
    exportName,
    nodeId: `${exportName}-${JSON.stringify(params)}`,
    nodeName: exportName,
    period: 3,
    inputs: [
      { id: 'rows', interval: 60 },
      { id: 'peer', interval: 60 },
    ],
    params,
    buckets: buckets(),
  };
}

const pool = await createComputePool(2);
afterAll(() => pool.close());

describe('createComputePool', () => {
  it('computes a batch in a worker thread as the function does on the main thread', async () => {
    const inline = await computeBuckets(batch('gatedSpread', { every: 7 }));
    expect(inline).toEqual({
      outputs: [
        { spread: 27.1, at: 180, bars: 1002 },
        { spread: 36.1, at: 240, bars: 3 },
      ],
      failed: false,
    });
    expect(await pool.run(batch('gatedSpread', { every: 7 }))).toEqual(inline);
    expect(await pool.run(batch('gatedSpread', { every: 27 }))).toEqual({
      outputs: [null, { spread: 36.1, at: 240, bars: 3 }],
      failed: false,
    });
  });

  it('stops a batch at the first compute that throws, with its error', async () => {
    const outcome = await pool.run(batch('failAt', { failAt: 240 }));
    expect(outcome.outputs).toEqual([{ value: 30 }]);
    expect(outcome.failed).toBe(true);
    expect((outcome.error as Error).message).toBe('refusing bucket 240');
  });

  it('rejects a batch whose function cannot be loaded', async () => {
    await expect(pool.run(batch('nothing', {}))).rejects.toThrow(/has no function export "nothing"/);
  });

  it('rejects a thread count that is not a positive integer', async () => {
    for (const threads of [0, -1, 1.5, Number.NaN])
      await expect(createComputePool(threads)).rejects.toThrow(QmtlError);
    await expect(createComputePool(0)).rejects.toThrow(
      'workers must be a positive integer (worker threads), got 0',
    );
  });
});
