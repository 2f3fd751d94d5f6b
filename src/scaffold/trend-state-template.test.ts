import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { feed, testIndicatorContract } from '../indicators/indicator-contract.test-kit.js';
import type { StreamingIndicator } from '../indicators/indicator.js';
import { templatesDirectory } from './templates.js';

/**
 * The state_machine template's `indicators/trend-state.ts`, loaded against this checkout's
 * sources: its `qmtl` imports are pointed at src/ in a temporary copy.
 */
async function loadTrendStateTemplate(): Promise<{
  TrendState: new (period: number, band: number) => StreamingIndicator<number, 1 | -1>;
}> {
  const src = fileURLToPath(new URL('..', import.meta.url));
  const source = readFileSync(
    path.join(templatesDirectory(), 'state_machine', 'indicators', 'trend-state.ts'),
    'utf8',
  )
    .replace(/from 'qmtl\/indicators'/g, `from ${JSON.stringify(path.join(src, 'indicators', 'index.js'))}`)
    .replace(/from 'qmtl'/g, `from ${JSON.stringify(path.join(src, 'index.js'))}`);
  expect(source).not.toMatch(/from 'qmtl/);
  const file = path.join(workDir, 'trend-state.ts');
  writeFileSync(file, source);
  return (await import(pathToFileURL(file).href)) as Awaited<ReturnType<typeof loadTrendStateTemplate>>;
}

const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-trend-state-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const { TrendState } = await loadTrendStateTemplate();

testIndicatorContract('the state_machine template TrendState(5, 0.002)', () => new TrendState(5, 0.002), {
  warmupPeriod: 5,
});
testIndicatorContract('the state_machine template TrendState(1, 0)', () => new TrendState(1, 0), {
  warmupPeriod: 1,
});

describe("the state_machine template's TrendState", () => {
  it('turns only when the input leaves the band around its EMA (the example of its doc comment)', () => {
    expect(feed(new TrendState(3, 0.01), [10, 10, 10, 11, 10.95, 9])).toEqual([null, null, 1, 1, 1, -1]);
  });

  it('keeps its state inside the band', () => {
    // EMA(2) starts at 99, and 98 is below its 1% band: down. 100.5 and 99.9 are inside the band
    // around the EMA (100, then 99.93), so the state stays down.
    expect(feed(new TrendState(2, 0.01), [100, 98, 100.5, 99.9])).toEqual([null, -1, -1, -1]);
  });

  it('rejects a band outside [0, 1), naming it', () => {
    expect(() => new TrendState(5, -0.1)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidArgument,
        message: 'TrendState band must be a number in [0, 1), got -0.1',
      }),
    );
  });
});
