import { it, expect } from 'vitest';
import { Strategy } from '../src/sdk/strategy.js';
import { StreamInput } from '../src/sdk/stream-input.js';
import { ProcessingNode } from '../src/sdk/processing-node.js';
import { Runner } from '../src/sdk/runner/runner.js';
import { MemoryHistoryProvider } from '../src/sdk/history/memory-history-provider.js';
import { ema } from '../src/indicators/index.js';

it('smoke', async () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ ts: 60 * (i + 1), close: 100 + Math.sin(i / 5) * 10 }));
  const provider = new MemoryHistoryProvider(rows);
  class A extends Strategy {
    constructor() { super({ defaultInterval: 60, defaultPeriod: 1 }); }
    setup() {
      const price = new StreamInput({ tags: ['X'], historyProvider: provider });
      const e = ema(price, { period: 10, field: 'close' });
      const sig = new ProcessingNode({ input: [price, e], name: 'sig', computeFn: (v) => ((v.input<any>(0).latest().close > v.input(1).latest()!) ? 1 : -1) });
      this.addNodes([price, e, sig]);
    }
  }
  class B extends A {}
  const r = await Runner.backtest([A, B], { startTime: 60, endTime: 6000 });
  console.log(r.bars, r.ticks, r.nodeStats, r.dedup, r.outputs(r.strategy.nodes[2]!).toArray().slice(0, 5));
  expect(r.bars).toBe(100);
});
