import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../src/common/logger.js';
import { listeningPort, testGateway } from '../../src/gateway/gateway.test-kit.js';
import { STRATEGY_STATUSES } from '../../src/gateway/strategy-status.js';
import { runQmtl, silenceLogsInEachTest, type CliResult } from '../support/cli-in-process.js';
import { freePort } from '../support/service-process.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = path.join(repoRoot, 'tests', 'fixtures', 'strategies');
const sdkEntry = path.join(repoRoot, 'src', 'sdk', 'index.js');
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-cli-run-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const START = Date.UTC(2024, 0, 1) / 1000;

/** A price stream, its 5-bar mean and a crossover signal; with `liveFeed`, replaying its provider live. */
function meanSignalSource(className: string, liveFeed: boolean): string {
  const feed = liveFeed ? ', liveFeed: new ReplayFeed({ provider })' : '';
  return `import { MemoryHistoryProvider, ProcessingNode, ReplayFeed, Strategy, StreamInput } from ${JSON.stringify(sdkEntry)};

const provider = new MemoryHistoryProvider(Array.from({ length: 120 }, (_, i) => ({ ts: ${START} + i * 60, close: 100 + Math.sin(i / 10) * 5 })));

export class ${className} extends Strategy {
  constructor() {
    super({ defaultInterval: '1m', defaultPeriod: 1 });
  }

  setup(): void {
    const price = new StreamInput({ tags: ['BTC', 'close'], historyProvider: provider${feed} });
    const mean = new ProcessingNode({
      name: 'mean5',
      input: price,
      period: 5,
      computeFn: (view) => (view.input<{ close: number }>().field('close') as number[]).reduce((a, b) => a + b, 0) / 5,
    });
    const signal = new ProcessingNode({
      name: 'signal',
      input: [price, mean],
      computeFn: (view) => (view.input<{ close: number }>(0).latest()!.close > view.input(1).latest()! ? 1 : -1),
    });
    this.addNodes([price, mean, signal]);
  }
}
`;
}

// A project of its own, outside the repo, whose strategy imports the SDK by absolute path.
writeFileSync(path.join(workDir, 'package.json'), JSON.stringify({ type: 'module' }));
writeFileSync(path.join(workDir, 'crossover.ts'), meanSignalSource('Crossover', false));
// The same strategy with a live feed replaying its provider.
writeFileSync(path.join(workDir, 'live.ts'), meanSignalSource('Live', true));

// A strategy with an order node: long when the close rose, short when it fell.
writeFileSync(
  path.join(workDir, 'trader.ts'),
  `import { MemoryHistoryProvider, ProcessingNode, ReplayFeed, Strategy, StreamInput, signalOrders } from ${JSON.stringify(sdkEntry)};

const provider = new MemoryHistoryProvider(Array.from({ length: 120 }, (_, i) => {
  const close = 100 + Math.sin(i / 4) * 5;
  return { ts: ${START} + i * 60, open: close - 0.1, high: close + 1, low: close - 1, close, volume: 1 };
}));

export class Trader extends Strategy {
  constructor() {
    super({ defaultInterval: '1m', defaultPeriod: 1 });
  }

  setup(): void {
    const price = new StreamInput({ tags: ['BTC', 'cli-live'], historyProvider: provider, liveFeed: new ReplayFeed({ provider }) });
    const trend = new ProcessingNode({
      name: 'trend',
      input: price,
      period: 2,
      computeFn: (view) => {
        const closes = view.input<{ close: number }>().field('close') as number[];
        return closes[1]! > closes[0]! ? 1 : -1;
      },
    });
    this.addNodes([price, trend, signalOrders(trend, { symbol: 'BTC', quantity: 1 })]);
  }
}
`,
);

/** Runs `qmtl …args` in-process and returns what it printed and its exit code. */
function qmtl(args: string[], cwd = workDir): Promise<CliResult> {
  return runQmtl(args, cwd);
}

silenceLogsInEachTest();

describe('qmtl run: choosing the strategy', () => {
  it('reports a file that does not exist with the path it resolved to', async () => {
    const { code, stdout, stderr } = await qmtl(['run', 'missing.ts', '--mode', 'offline']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `qmtl: strategy file "missing.ts" not found (resolved to ${path.join(workDir, 'missing.ts')})\n`,
    );
  });

  it('lists the exports of a file that exports no Strategy subclass', async () => {
    const { code, stderr } = await qmtl(
      ['run', 'tests/fixtures/strategies/no-strategy.ts', '--mode', 'offline'],
      repoRoot,
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      'qmtl: "tests/fixtures/strategies/no-strategy.ts" exports no Strategy subclass (exports: answer, helper)\n',
    );
  });

  it('names an export that is not a Strategy subclass and what it is', async () => {
    const { code, stderr } = await qmtl(['run', `${fixtures}/several.ts:notAStrategy`, '--mode', 'offline']);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^qmtl: export "notAStrategy" of ".*several\.ts" is not a Strategy subclass: it is an object \{"kind":"config"\}\n$/,
    );
  });

  it('lists the available exports when the named one does not exist', async () => {
    const { code, stderr } = await qmtl(['run', `${fixtures}/several.ts:Medium`, '--mode', 'offline']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/has no export "Medium" \(exports: Fast, Slow, notAStrategy\)/);
  });

  it('asks for file:Name when a file exports several strategies', async () => {
    const { code, stderr } = await qmtl(['run', `${fixtures}/several.ts`, '--mode', 'offline']);
    expect(code).toBe(1);
    expect(stderr).toContain('exports several Strategy subclasses (Fast, Slow)');
    expect(stderr).toContain(`choose one with "${fixtures}/several.ts:Fast"`);
  });

  it('names the file and the cause when the module fails to load', async () => {
    const { code, stderr } = await qmtl(
      ['run', 'tests/fixtures/strategies/throws-on-import.ts', '--mode', 'offline'],
      repoRoot,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^qmtl: cannot load strategy file "tests\/fixtures\/strategies\/throws-on-import\.ts" \(.*\): Cannot read properties of undefined/,
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('prints the cause’s stack with QMTL_DEBUG=1', async () => {
    vi.stubEnv('QMTL_DEBUG', '1');
    const { stderr } = await qmtl(
      ['run', 'tests/fixtures/strategies/throws-on-import.ts', '--mode', 'offline'],
      repoRoot,
    );
    expect(stderr).toMatch(/throws-on-import\.ts:\d+/);
  });
});

describe('qmtl run: arguments', () => {
  it('names the flag and the value of a bad time', async () => {
    const { code, stderr } = await qmtl([
      'run',
      'crossover.ts',
      '--mode',
      'backtest',
      '--start-time',
      'yesterday',
      '--end-time',
      '2024-01-02',
    ]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'qmtl: --start-time: expected epoch seconds or an ISO-8601 date such as "2024-01-01T00:00:00Z", got "yesterday"\n',
    );
  });

  it('says a time given in epoch milliseconds is one, naming the flag', async () => {
    const { code, stderr } = await qmtl([
      'run',
      'crossover.ts',
      '--mode',
      'backtest',
      '--start-time',
      '1704067200000',
      '--end-time',
      '1704153600',
    ]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      'qmtl: --start-time must be between year 1 and year 9999, got "1704067200000"; it looks like epoch milliseconds (2024-01-01T00:00:00Z): give seconds\n',
    );
  });

  it('needs both times for a backtest', async () => {
    const { code, stderr } = await qmtl([
      'run',
      'crossover.ts',
      '--mode',
      'backtest',
      '--start-time',
      '2024-01-01',
    ]);
    expect(code).toBe(2);
    expect(stderr).toBe('qmtl: --mode backtest needs --start-time and --end-time\n');
  });

  it('rejects a start after the end', async () => {
    const { code, stderr } = await qmtl([
      'run',
      'crossover.ts',
      '--mode',
      'offline',
      '--start-time',
      '1704070000',
      '--end-time',
      '1704067200',
    ]);
    expect(code).toBe(2);
    expect(stderr).toBe('qmtl: --start-time "1704070000" is after --end-time "1704067200"\n');
  });

  it('treats an unknown mode or policy as a usage error naming the flag and the value', async () => {
    const mode = await qmtl(['run', 'crossover.ts', '--mode', 'paper']);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(
      /--mode <mode>' argument 'paper' is invalid\. Allowed choices are backtest, offline, dryrun, live/,
    );
    const policy = await qmtl(['run', 'crossover.ts', '--mode', 'offline', '--on-missing', 'ignore']);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toMatch(/--on-missing <policy>' argument 'ignore' is invalid/);
    const missing = await qmtl(['run', 'crossover.ts']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--mode <mode>' not specified/);
  });

  it('runs a dry-run embedded: warms up from history, then follows the live feed to --end-time', async () => {
    const { code, stdout } = await qmtl([
      'run',
      'live.ts',
      '--mode',
      'dryrun',
      '--start-time',
      String(START + 60 * 60),
      '--end-time',
      String(START + 89 * 60),
      '--json',
    ]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as {
      mode: string;
      bars: number;
      outputs: { name: string; length: number }[];
    };
    expect(summary.mode).toBe('dryrun');
    expect(summary.bars).toBe(30);
    // Warm-up replays the last 5 bars (mean5's period): signal emits on the 5th, then on each of 30 live bars.
    expect(summary.outputs.find((o) => o.name === 'signal')?.length).toBe(31);
  });

  it('sends a live run’s orders to the venue of --broker-url, starts from --position, and refuses a live run with orders and no broker', async () => {
    const received: unknown[] = [];
    const venue = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ path: request.url, ...(JSON.parse(body) as object) });
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ order_id: `v${received.length}`, status: 'accepted' }));
      });
    });
    await new Promise<void>((resolve) => venue.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(venue.address() as AddressInfo).port}`;
      const range = ['--start-time', String(START + 60 * 60), '--end-time', String(START + 89 * 60)];
      const live = (...flags: string[]) => qmtl(['run', 'trader.ts', '--mode', 'live', ...flags, ...range]);
      const { code, stdout } = await live('--broker-url', url, '--json');
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as { execution: { orders: { status: string; bucket: number }[] } };
      expect(received.length).toBeGreaterThanOrEqual(2);
      expect(summary.execution.orders).toHaveLength(received.length);
      expect(summary.execution.orders.every((order) => order.status === 'accepted')).toBe(true);
      expect(received[0]).toMatchObject({ path: '/orders', order: { symbol: 'BTC' } });
      // Restarted holding what the first order bought or sold: that order is not placed again.
      const first = (received[0] as { order: { side: string; quantity: number } }).order;
      const held = first.side === 'buy' ? first.quantity : -first.quantity;
      const trades = (orders: unknown[]): unknown[] =>
        orders.map((o) => {
          const { bucket, order } = o as { bucket: number; order: { side: string; quantity: number } };
          return [bucket, order.side, order.quantity];
        });
      const before = trades(received.splice(0));
      const restarted = await live('--broker-url', url, '--position', `BTC=${held}`, '--json');
      expect(restarted.code).toBe(0);
      expect(trades(received)).toEqual(before.slice(1));
      const unknownSymbol = await live('--broker-url', url, '--position', 'ETH=1');
      expect(unknownSymbol.code).toBe(1);
      expect(unknownSymbol.stderr).toMatch(
        /positions\.ETH: no order node of the run trades "ETH" \(order nodes: "signal_orders_BTC"\)/,
      );
      const malformed = await live('--position', 'BTC');
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toBe(
        'qmtl: --position must be SYMBOL=QUANTITY (a finite number, negative when short), got "BTC"\n',
      );
      const refused = await live();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/a live run with order nodes \("signal_orders_BTC"\) needs a broker/);
    } finally {
      await new Promise<void>((resolve) => venue.close(() => resolve()));
    }
  });

  it('charges --fee-bps and --slippage-bps on backtest fills, and names a bad value', async () => {
    const range = ['--start-time', String(START), '--end-time', String(START + 119 * 60), '--json'];
    const free = JSON.parse((await qmtl(['run', 'trader.ts', '--mode', 'backtest', ...range])).stdout) as {
      execution: { fees: number; fills: { price: number }[] };
    };
    const costly = JSON.parse(
      (
        await qmtl([
          'run',
          'trader.ts',
          '--mode',
          'backtest',
          '--fee-bps',
          '10',
          '--slippage-bps',
          '5',
          ...range,
        ])
      ).stdout,
    ) as { execution: { fees: number; fills: { price: number; side: string }[] } };
    expect(free.execution.fees).toBe(0);
    expect(costly.execution.fees).toBeGreaterThan(0);
    const [plain, slipped] = [free.execution.fills[0]!, costly.execution.fills[0]!];
    const sign = slipped.side === 'buy' ? 1 : -1;
    expect(slipped.price).toBeCloseTo(plain.price * (1 + (sign * 5) / 1e4), 9);
    const bad = await qmtl(['run', 'trader.ts', '--mode', 'backtest', '--fee-bps', 'lots', ...range]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('qmtl: --fee-bps must be a non-negative number, got "lots"\n');
  });

  it('names the Gateway a dry-run cannot reach (exit 1), and rejects a Gateway for an offline run (exit 2)', async () => {
    const unreachable = await qmtl([
      'run',
      'live.ts',
      '--mode',
      'dryrun',
      '--gateway-url',
      'http://127.0.0.1:9',
      '--bus-dsn',
      'memory',
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^qmtl: gateway unreachable at "http:\/\/127\.0\.0\.1:9"/);
    const offline = await qmtl([
      'run',
      'crossover.ts',
      '--mode',
      'offline',
      '--gateway-url',
      'http://127.0.0.1:8000',
    ]);
    expect(offline.code).toBe(2);
    expect(offline.stderr).toMatch(/^qmtl: an offline run uses no services; drop gatewayUrl/);
  });

  it('fails fast, before registering at the Gateway, when the topic bus of --bus-dsn does not answer', async () => {
    const gw = await testGateway({ listen: true });
    try {
      const port = await freePort();
      const began = Date.now();
      const { code, stderr } = await qmtl([
        'run',
        'live.ts',
        '--mode',
        'dryrun',
        '--gateway-url',
        `http://127.0.0.1:${listeningPort(gw.gateway)}`,
        '--bus-dsn',
        `redis://127.0.0.1:${port}`,
      ]);
      expect(stderr).toBe(
        `qmtl: the topic bus at busDsn (--bus-dsn) "redis://127.0.0.1:${port}" does not answer (Redis at 127.0.0.1:${port} cannot be reached: connect ECONNREFUSED 127.0.0.1:${port})\n`,
      );
      expect(code).toBe(1);
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(await gw.store.listByStatus(STRATEGY_STATUSES)).toEqual([]);
    } finally {
      await gw.gateway.close();
    }
  });

  it('validates --config and every problem of the file', async () => {
    const config = path.join(workDir, 'bad.yml');
    writeFileSync(config, 'gateway:\n  port: abc\n  colour: blue\n');
    const { code, stderr } = await qmtl(['run', 'crossover.ts', '--mode', 'offline', '--config', 'bad.yml']);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `qmtl: invalid config file "${config}":\n  - gateway.port: expected number, got "abc"\n  - gateway.colour: unknown key`,
    );
  });

  it('names a missing --config once, as given and resolved, and logs no "using" line before it fails', async () => {
    const info = vi.spyOn(logger, 'info');
    try {
      const resolved = path.join(workDir, 'conf', 'missing.yml');
      for (const args of [
        ['run', 'crossover.ts', '--mode', 'offline', '--config', 'conf/missing.yml'],
        ['gw', '--config', 'conf/missing.yml'],
      ]) {
        const { code, stderr } = await qmtl(args);
        expect(code).toBe(1);
        expect(stderr).toBe(`qmtl: config file "conf/missing.yml" not found (resolved to ${resolved})\n`);
      }
      expect(info.mock.calls.map((call) => JSON.stringify(call))).not.toContainEqual(
        expect.stringContaining('config'),
      );
    } finally {
      info.mockRestore();
    }
  });

  it('validates qmtl.yml found in the working directory', async () => {
    const project = mkdtempSync(path.join(workDir, 'project-'));
    writeFileSync(path.join(project, 'qmtl.yml'), 'dagmanager: 3\n');
    const { code, stderr } = await qmtl(
      ['run', path.join(workDir, 'crossover.ts'), '--mode', 'offline'],
      project,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('dagmanager: expected a mapping, got 3');
  });
});

describe('qmtl run: running', () => {
  it('runs offline over everything the provider holds and prints the summary', async () => {
    const { code, stdout, stderr } = await qmtl(['run', 'crossover.ts', '--mode', 'offline']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^Strategy: Crossover\nMode: +offline\nRange: +2024-01-01T00:00:00Z \.\. 2024-01-01T01:59:00Z\nBars: +120 \(120 ticks, /,
    );
    expect(stdout).toMatch(/\nnode +type +id +computes +emitted +warm-up +skips +gaps\n/);
    expect(stdout).toMatch(/\nmean5 +ProcessingNode +[0-9a-f]{8} +116 +116 +4 +0 +0\n/);
    expect(stdout).toMatch(/\n {2}signal +[0-9a-f]{8} +116 values, last -?1 at 2024-01-01T01:59:00Z\n/);
  });

  it('backtests [start, end] given as ISO-8601 and epoch seconds', async () => {
    const { code, stdout } = await qmtl([
      'run',
      'crossover.ts:Crossover',
      '--mode',
      'backtest',
      '--start-time',
      '2024-01-01T00:10:00Z',
      '--end-time',
      String(Date.UTC(2024, 0, 1, 0, 39) / 1000),
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'Mode:     backtest\nRange:    2024-01-01T00:10:00Z .. 2024-01-01T00:39:00Z\nBars:     30 (30 ticks',
    );
  });

  it('runs a static fixture that imports the SDK by relative path', async () => {
    const { code, stdout } = await qmtl(
      ['run', 'tests/fixtures/strategies/momentum.ts', '--mode', 'offline', '--on-missing', 'fail'],
      repoRoot,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Strategy: Momentum\n/);
    expect(stdout).toMatch(/\n {2}change +[0-9a-f]{8} +29 values, last 1 at 2024-01-01T00:29:00Z\n/);
  });

  it('prints one parseable JSON object with --json', async () => {
    const { code, stdout } = await qmtl([
      'run',
      'crossover.ts',
      '--mode',
      'backtest',
      '--start-time',
      '1704067200',
      '--end-time',
      '1704067740',
      '--json',
    ]);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      strategies: ['Crossover'],
      mode: 'backtest',
      start: '2024-01-01T00:00:00Z',
      end: '2024-01-01T00:09:00Z',
      bars: 10,
      ticks: 10,
      dedup: { strategies: 1, nodesComputed: 3 },
      historyGaps: [],
    });
    expect(report['barsPerSecond']).toEqual(expect.any(Number));
    expect(
      (report['nodeStats'] as Array<{ name: string; computeCalls: number }>).map((s) => [
        s.name,
        s.computeCalls,
      ]),
    ).toEqual([
      ['stream_input', 0],
      ['mean5', 6],
      ['signal', 6],
    ]);
  });

  it('raises the log level to info for run, unless QMTL_LOG_LEVEL is set', async () => {
    vi.stubEnv('QMTL_LOG_LEVEL', undefined);
    logger.level = 'warn';
    await qmtl(['run', 'missing.ts', '--mode', 'offline']);
    expect(logger.level).toBe('info');
    vi.stubEnv('QMTL_LOG_LEVEL', 'error');
    logger.level = 'error';
    await qmtl(['run', 'missing.ts', '--mode', 'offline']);
    expect(logger.level).toBe('error');
    vi.stubEnv('QMTL_LOG_LEVEL', undefined);
    logger.level = 'warn';
    await qmtl(['demo', '--bars', '2000', '--json']);
    expect(logger.level).toBe('warn');
  });
});

describe('qmtl', () => {
  it('prints the package version', async () => {
    const { code, stdout } = await qmtl(['--version']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists run and demo in its help', async () => {
    const { code, stdout } = await qmtl(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\n {2}run \[options\] <file>/);
    expect(stdout).toMatch(/\n {2}demo \[options\]/);
  });

  it('treats an unknown command as a usage error', async () => {
    const { code, stderr } = await qmtl(['fly']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown command 'fly'/);
  });

  it('rejects a --bars that is not a positive integer', async () => {
    for (const bars of ['0', '-5', '1.5', 'many']) {
      const { code, stderr } = await qmtl(['demo', '--bars', bars]);
      expect(code).toBe(2);
      expect(stderr).toContain(
        `option '--bars <n>' argument '${bars}' is invalid. must be a positive integer, got "${bars}"`,
      );
    }
  });

  it('runs the demo with --bars and --json', async () => {
    const { code, stdout, stderr } = await qmtl(['demo', '--bars', '2000', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(() => JSON.parse(stdout) as unknown).not.toThrow();
  });
});
