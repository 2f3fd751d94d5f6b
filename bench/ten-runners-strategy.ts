/**
 * The files `ten-runners.ts` generates into its temp dir: the `--import` preload that prints a
 * process's CPU time on exit, and the strategy of one phase.
 */

/** What the strategy of one phase is made of. */
export interface BenchStrategyOptions {
  /** Absolute path of the built `dist/sdk/index.js`. */
  readonly sdkModule: string;
  readonly tag: string;
  /** First bucket of the history (epoch seconds) and bar interval (seconds). */
  readonly start: number;
  readonly interval: number;
  /** Bars of history: warm-up plus live bars. */
  readonly historyBars: number;
  /** First and last live bucket: where the leaf notes the CPU used so far. */
  readonly liveStart: number;
  readonly liveEnd: number;
}

/** Starts the line the preload prints on exit. */
export const CPU_MARK = 'QMTL_BENCH_CPU ';

/** Prints on exit the process's CPU time (user and system µs over its whole life) and the strategy's marks. */
export const CPU_PRELOAD = `import { writeSync } from 'node:fs';
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  const marks = globalThis.__benchMarks ?? {};
  writeSync(2, '\\n${CPU_MARK}' + JSON.stringify({ user, system, marks }) + '\\n');
});
`;

/**
 * The strategy of one phase: `tag` names its stream and, as a comment in every compute function,
 * enters the code hashes, so each phase gets topic names of its own (they are derived from the
 * code hash) and no consumer reads an earlier phase's messages. BENCH_LEAF numbers the leaf;
 * BENCH_GATED=1 holds the live feed until the first SIGUSR2 and the end of the run until the second.
 */
export function strategySource(options: BenchStrategyOptions): string {
  const { tag, start, interval, historyBars, liveStart, liveEnd } = options;
  const sdk = JSON.stringify(options.sdkModule);
  return `import { MemoryHistoryProvider, ProcessingNode, ReplayFeed, Strategy, StreamInput } from ${sdk};

const rows = Array.from({ length: ${historyBars} }, (_, i) => ({
  ts: ${start} + i * ${interval},
  close: 100 + 8 * Math.sin(i / 37) + 3 * Math.sin(i / 5.3) + ((i * 7919) % 13) / 10 + i / 500,
}));
const provider = new MemoryHistoryProvider(rows);

/** CPU ms at points of the run, printed by the preload on exit. */
const marks = (globalThis.__benchMarks ??= {});
const mark = (name) => {
  const { user, system } = process.cpuUsage();
  marks[name] = (user + system) / 1000;
};
mark('loaded');

/** SIGUSR2 count, and the gates waiting for it. */
let signals = 0;
const waiting = [];
if (process.env.BENCH_GATED === '1')
  process.on('SIGUSR2', () => {
    signals++;
    for (const waiter of waiting.filter((w) => w.n <= signals)) waiter.resolve();
  });
const gate = (n) =>
  process.env.BENCH_GATED !== '1' || signals >= n
    ? Promise.resolve()
    : new Promise((resolve) => waiting.push({ n, resolve }));

class GatedFeed {
  constructor(inner) { this.inner = inner; }
  async start(options) {
    await gate(1);
    const handle = await this.inner.start(options);
    return { done: handle.done.then(() => gate(2)), stop: () => handle.stop() };
  }
}

const mean = (xs) => { let s = 0; for (let k = 0; k < xs.length; k++) s += xs[k]; return s / xs.length; };
/** Extra CPU per bucket of the chain's first node (BENCH_CHAIN_WORK rounds), to model a costly chain. */
const WORK = Number(process.env.BENCH_CHAIN_WORK ?? 0);
const burn = (rounds) => { let x = 0; for (let k = 0; k < rounds; k++) x += Math.sqrt(k + x % 7); return x; };

export class Bench extends Strategy {
  setup() {
    const price = new StreamInput({
      name: 'price',
      tags: ['BENCH', ${JSON.stringify(tag)}],
      interval: ${interval},
      period: 20,
      historyProvider: provider,
      liveFeed: new GatedFeed(new ReplayFeed({ provider })),
    });
    const sma20 = new ProcessingNode({
      name: 'sma20', input: price, interval: ${interval}, period: 20, params: { work: WORK },
      computeFn: (view) => { /* ${tag} */ const w = view.input(0); let s = burn(view.params.work) * 0; for (let k = 0; k < w.length; k++) s += w.at(k).close; return s / w.length; },
    });
    const zscore50 = new ProcessingNode({
      name: 'zscore50', input: sma20, interval: ${interval}, period: 50,
      computeFn: (view) => {
        /* ${tag} */
        const xs = view.input(0).values();
        const m = mean(xs);
        let v = 0;
        for (let k = 0; k < xs.length; k++) v += (xs[k] - m) ** 2;
        const sd = Math.sqrt(v / xs.length);
        return sd === 0 ? 0 : (xs[xs.length - 1] - m) / sd;
      },
    });
    const wma30 = new ProcessingNode({
      name: 'wma30', input: zscore50, interval: ${interval}, period: 30,
      computeFn: (view) => {
        /* ${tag} */
        const xs = view.input(0).values();
        let s = 0, w = 0;
        for (let k = 0; k < xs.length; k++) { s += xs[k] * (k + 1); w += k + 1; }
        return s / w;
      },
    });
    const slope20 = new ProcessingNode({
      name: 'slope20', input: wma30, interval: ${interval}, period: 20,
      computeFn: (view) => {
        /* ${tag} */
        const ys = view.input(0).values();
        const n = ys.length, mx = (n - 1) / 2, my = mean(ys);
        let sxy = 0, sxx = 0;
        for (let k = 0; k < n; k++) { sxy += (k - mx) * (ys[k] - my); sxx += (k - mx) ** 2; }
        return sxy / sxx;
      },
    });
    const id = Number(process.env.BENCH_LEAF);
    const leaf = new ProcessingNode({
      name: 'leaf_' + id, input: slope20, interval: ${interval}, period: 1, params: { id },
      computeFn: (view) => {
        /* ${tag} */
        if (view.time === ${liveStart}) mark('firstBar');
        else if (view.time === ${liveEnd}) mark('lastBar');
        return Math.sign(view.input(0).latest()) * (view.params.id + 1);
      },
    });
    this.addNodes([price, sma20, zscore50, wma30, slope20, leaf]);
  }
}
`;
}
