/**
 * Memory is O(period) per node: the peak RSS of a backtest of 10,000,000 bars against one of
 * 1,000,000, each in a fresh process. History comes from the GARCH provider window by window and
 * no outputs are kept, so nothing grows with the number of bars.
 *   node --import tsx bench/memory-rss.ts            (runs both sizes in child processes)
 *   node --import tsx bench/memory-rss.ts 1000000    (one size, prints its peak RSS)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GarchHistoryProvider } from '../src/generators/garch-history-provider.js';
import { Runner } from '../src/sdk/runner/runner.js';
import { EmaSignal } from './chain-strategies.js';

const start = 1_704_067_200;

async function measure(bars: number): Promise<void> {
  const provider = new GarchHistoryProvider({ seed: 3, start, bars, interval: 60 });
  const t0 = performance.now();
  const result = await Runner.backtest(new EmaSignal(provider), {
    startTime: start,
    endTime: start + (bars - 1) * 60,
    keepOutputs: 'none',
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      bars: result.bars,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      seconds,
      cacheBytes: result.cacheResidentBytes,
    }),
  );
}

if (process.argv[2]) {
  await measure(Number(process.argv[2]));
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (bars: number) =>
    JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', self, String(bars)], { encoding: 'utf8' }),
    ) as { bars: number; peakRssMiB: number; seconds: number; cacheBytes: number };
  const small = run(1_000_000);
  const large = run(10_000_000);
  console.log('memory: peak RSS of a backtest (StreamInput → EMA(20) → signal), fresh process per size');
  for (const r of [small, large])
    console.log(
      `  ${r.bars.toLocaleString('en-US').padStart(10)} bars  peak RSS ${r.peakRssMiB.toFixed(1)} MiB  node caches ${r.cacheBytes} bytes  ${r.seconds.toFixed(2)} s`,
    );
  console.log(`  10M / 1M peak RSS: ${((large.peakRssMiB / small.peakRssMiB - 1) * 100).toFixed(1)} %`);
}
