import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = `${root}dist/cli/main.js`;
const run = promisify(execFile);

/** Runs the built `qmtl` bin as a user would (npm install builds dist/ through `prepare`). */
async function qmtl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first`);
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      cwd: root,
      env: { ...process.env, QMTL_LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the qmtl bin', () => {
  it('backtests the example strategy, a TypeScript file importing the package by name', async () => {
    const { code, stdout } = await qmtl(
      'run',
      'examples/ema-crossover.ts',
      '--mode',
      'backtest',
      '--start-time',
      '2024-01-01T00:00:00Z',
      '--end-time',
      '2024-01-02T00:00:00Z',
      '--json',
    );
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as { bars: number; strategies: string[] };
    expect(summary.bars).toBe(1441);
    expect(summary.strategies).toEqual(['EmaCrossover']);
  });

  it('runs the demo and reports the sharing', async () => {
    const { code, stdout } = await qmtl('demo', '--bars', '5000', '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      bars: number;
      dedup: { nodesInDags: number; nodesComputed: number };
    };
    expect(report.bars).toBe(5000);
    expect(report.dedup).toMatchObject({ nodesInDags: 11, nodesComputed: 7 });
  });

  it('exits 1 with a one-line error for a missing strategy file and 2 for a bad flag', async () => {
    const missing = await qmtl('run', 'nowhere.ts', '--mode', 'offline');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      `qmtl: strategy file "nowhere.ts" not found (resolved to ${root}nowhere.ts)`,
    );
    const badMode = await qmtl('run', 'examples/ema-crossover.ts', '--mode', 'sideways');
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/sideways/);
  });

  it('computes on workers a TypeScript worker module named by its .js URL, as on the main thread', async () => {
    const { code, stdout, stderr } = await qmtl(
      'run',
      'tests/fixtures/strategies/worker-js-url.ts',
      '--mode',
      'offline',
      '--workers',
      '2',
      '--json',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as { nodeStats: { name: string; computeCalls: number }[] };
    expect(summary.nodeStats.find((s) => s.name === 'mean')?.computeCalls).toBe(36);
  });
});
