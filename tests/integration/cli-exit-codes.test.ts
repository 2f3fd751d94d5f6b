/**
 * The exit codes of `qmtl`, across its subcommands: 2 when the command line itself is wrong
 * (checked before any file is read or any server contacted), 1 when the command fails once it runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runQmtl, silenceLogsInEachTest, type CliResult } from '../support/cli-in-process.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const sdkEntry = path.join(repoRoot, 'src', 'sdk', 'index.js');
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-cli-exit-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

// A strategy whose compute function throws on its first call.
writeFileSync(path.join(workDir, 'package.json'), JSON.stringify({ type: 'module' }));
writeFileSync(
  path.join(workDir, 'broken.ts'),
  `import { MemoryHistoryProvider, ProcessingNode, Strategy, StreamInput } from ${JSON.stringify(sdkEntry)};

const provider = new MemoryHistoryProvider([{ ts: 1704067200, close: 1 }, { ts: 1704067260, close: 2 }]);

export class Broken extends Strategy {
  constructor() {
    super({ defaultInterval: '1m', defaultPeriod: 1 });
  }

  setup(): void {
    const price = new StreamInput({ tags: ['BTC'], historyProvider: provider });
    const boom = new ProcessingNode({ name: 'boom', input: price, computeFn: (_view) => { throw new Error('kaput'); } });
    this.addNodes([price, boom]);
  }
}
`,
);

function qmtl(...args: string[]): Promise<CliResult> {
  return runQmtl(args, workDir);
}

silenceLogsInEachTest();

describe('qmtl exits 2 when the command line is wrong, before reading a file or contacting a server', () => {
  // The strategy file does not exist: a command that read it first would exit 1 saying so.
  const run = (...flags: string[]) => qmtl('run', 'missing.ts', ...flags);

  it('for a flag value the argument parser refuses (a choice, a demo --bars)', async () => {
    expect((await run('--mode', 'sideways')).code).toBe(2);
    expect((await qmtl('demo', '--bars', '0')).code).toBe(2);
  });

  it('for a flag value qmtl refuses: a time, a number, a position, a URL, a DSN', async () => {
    for (const [flags, message] of [
      [['--mode', 'offline', '--start-time', 'yesterday'], '--start-time: expected epoch seconds'],
      [['--mode', 'offline', '--workers', 'many'], '--workers must be a non-negative integer, got "many"'],
      [['--mode', 'offline', '--fee-bps', 'lots'], '--fee-bps must be a non-negative number, got "lots"'],
      [['--mode', 'live', '--position', 'BTC'], '--position must be SYMBOL=QUANTITY'],
      [['--mode', 'live', '--broker-url', 'venue:9000'], 'url must be an http(s) URL, got "venue:9000"'],
      [['--mode', 'dryrun', '--gateway-url', 'gw:8000'], 'gatewayUrl must be an http(s) URL, got "gw:8000"'],
      [
        ['--mode', 'dryrun', '--gateway-url', 'http://127.0.0.1:9', '--bus-dsn', 'amqp://x:5672'],
        'busDsn (--bus-dsn) "amqp://x:5672" is not supported',
      ],
      [
        ['--mode', 'dryrun', '--gateway-url', 'http://127.0.0.1:9', '--bus-dsn', 'kafka://broker'],
        'busDsn (--bus-dsn) "kafka://broker": each Kafka broker must be host:port',
      ],
    ] as const) {
      const { code, stderr } = await run(...flags);
      expect({ flags, stderr }).toEqual({ flags, stderr: expect.stringContaining(message) });
      expect({ flags, code }).toEqual({ flags, code: 2 });
    }
  });

  it('for flags that do not go together, or one missing that another needs', async () => {
    for (const [flags, message] of [
      [
        ['--mode', 'backtest', '--start-time', '2024-01-01'],
        '--mode backtest needs --start-time and --end-time',
      ],
      [
        ['--mode', 'offline', '--start-time', '1704070000', '--end-time', '1704067200'],
        '--start-time "1704070000" is after --end-time "1704067200"',
      ],
      [['--mode', 'offline', '--gateway-url', 'http://127.0.0.1:8000'], 'an offline run uses no services'],
      [
        ['--mode', 'dryrun', '--gateway-url', 'http://127.0.0.1:8000'],
        'needs the topic bus the other Runners use',
      ],
      [['--mode', 'dryrun', '--position', 'BTC=1'], 'positions are what a live venue already holds'],
    ] as const) {
      const { code, stderr } = await run(...flags);
      expect({ flags, stderr }).toEqual({ flags, stderr: expect.stringContaining(message) });
      expect({ flags, code }).toEqual({ flags, code: 2 });
    }
  });

  it('for a dagm --timeout that is not a positive number of seconds', async () => {
    const { code, stderr } = await qmtl('dagm', '--timeout', 'soon', 'queue-stats');
    expect(stderr).toBe('qmtl: --timeout must be a positive number of seconds, got "soon"\n');
    expect(code).toBe(2);
  });
});

describe('qmtl exits 1 when the command fails once it runs', () => {
  it('for a strategy file that does not exist, or a config file that does not', async () => {
    expect((await qmtl('run', 'missing.ts', '--mode', 'offline')).code).toBe(1);
    expect((await qmtl('gw', '--config', 'missing.yml')).code).toBe(1);
    expect((await qmtl('dagmgr-server', '--config', 'missing.yml')).code).toBe(1);
    expect((await qmtl('dagm', 'diff', '--file', 'missing.json', '--dry-run')).code).toBe(1);
  });

  it('for a strategy that throws while it runs', async () => {
    const { code, stderr } = await qmtl('run', 'broken.ts', '--mode', 'offline');
    expect(stderr).toMatch(/^qmtl: node "boom" .* failed computing bucket .*: kaput\n$/);
    expect(code).toBe(1);
  });

  // A Gateway that cannot be reached (exit 1): tests/integration/cli-run.test.ts.
});

describe('qmtl --help', () => {
  it('documents the exit codes', async () => {
    const { stdout } = await qmtl('--help');
    expect(stdout).toContain(
      'Exit codes: 0 success; 1 the command failed; 2 the command line is wrong (a flag, its value, or flags that do not go together).',
    );
  });
});
