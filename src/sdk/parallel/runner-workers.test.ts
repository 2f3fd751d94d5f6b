import { describe, expect, it } from 'vitest';
import { MODULE_URL, weightedMean } from '../../../tests/fixtures/compute/pure-functions.js';
import { MemoryHistoryProvider } from '../history/memory-history-provider.js';
import { ProcessingNode } from '../processing-node.js';
import { Runner } from '../runner/runner.js';
import { Strategy } from '../strategy.js';
import { StreamInput } from '../stream-input.js';

const T0 = 1_704_067_200;
const provider = new MemoryHistoryProvider(
  Array.from({ length: 3000 }, (_, i) => ({ ts: T0 + i * 60, value: Math.sin(i / 13) * 10 + i / 100 })),
);

class Weighted extends Strategy {
  constructor() {
    super({ defaultInterval: 60, defaultPeriod: 1 });
  }

  override setup(): void {
    const rows = new StreamInput({ tags: ['runner-workers-test'], historyProvider: provider });
    const value = new ProcessingNode({
      name: 'value',
      input: rows,
      computeFn: (view) => view.input<{ value: number }>().latest()!.value,
    });
    const mean = new ProcessingNode({
      name: 'mean',
      input: value,
      period: 32,
      params: { decay: 0.9 },
      computeFn: weightedMean,
      worker: { module: MODULE_URL, export: 'weightedMean' },
    });
    const signal = new ProcessingNode({
      name: 'signal',
      input: [value, mean],
      computeFn: (view) => Math.sign(view.input<number>(0).latest()! - view.input<number>(1).latest()!),
    });
    this.addNodes([rows, value, mean, signal]);
  }
}

describe('Runner with workers', () => {
  it('computes worker nodes on a thread pool with outputs and stats equal to a serial run', async () => {
    const range = { startTime: T0, endTime: T0 + 2999 * 60, keepOutputs: 'all' as const };
    const serial = await Runner.backtest(Weighted, range);
    const parallel = await Runner.backtest(Weighted, { ...range, workers: 2 });
    for (const node of serial.strategy.nodes)
      expect(parallel.outputs(node.nodeId).toArray()).toEqual(serial.outputs(node.nodeId).toArray());
    expect(parallel.nodeStats).toEqual(serial.nodeStats);
    expect(serial.outputs(serial.strategy.nodes[2]!).length).toBe(3000 - 31);
  });

  it('names the option and the value of a bad worker count', async () => {
    await expect(Runner.backtest(Weighted, { startTime: T0, endTime: T0 + 60, workers: -1 })).rejects.toThrow(
      /workers must be a non-negative integer, got -1/,
    );
  });
});
