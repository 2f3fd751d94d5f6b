import { GarchHistoryProvider } from '../../src/generators/garch-history-provider.js';
const START = Date.UTC(2024, 0, 1) / 1000;
for (let r = 0; r < 3; r++) {
const p = new GarchHistoryProvider({ seed: 42, start: START, bars: 200000, interval: 60, omega: 3e-9 });
const t0 = performance.now();
const rows = await p.fetch(START, START + 199999 * 60, { nodeId: 'x', interval: 60 } as any);
console.log((rows as any).length ?? (rows as any).numRows, (performance.now() - t0).toFixed(1), 'ms');
}
