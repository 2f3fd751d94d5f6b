import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GarchHistoryProvider } from '../generators/garch-history-provider.js';
import { CsvHistoryProvider } from '../io/csv-history-provider.js';
import { SAMPLE_MARKET, sampleOhlcvCsv, sampleRange } from './sample-data.js';
import { templatesDirectory } from './templates.js';

const { start, bars, interval } = SAMPLE_MARKET;
const key = { nodeId: 'sample', interval };
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-sample-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('the sample market', () => {
  it('is one day of one-minute bars from 2024-01-01T00:00:00Z', () => {
    expect(sampleRange()).toEqual({ startTime: '2024-01-01T00:00:00Z', endTime: '2024-01-01T23:59:00Z' });
  });

  it('is written as the same CSV on every call, a header and one row per bar', () => {
    const csv = sampleOhlcvCsv();
    expect(sampleOhlcvCsv()).toBe(csv);
    const lines = csv.trimEnd().split('\n');
    expect(lines).toHaveLength(bars + 1);
    expect(lines[0]).toBe('timestamp,open,high,low,close,volume');
    expect(lines[1]).toMatch(/^2024-01-01T00:00:00Z,100\.0000,/);
    expect(lines.at(-1)).toMatch(/^2024-01-01T23:59:00Z,/);
  });

  it("holds the bars of the project's generator, rounded, read back by CsvHistoryProvider", async () => {
    const file = path.join(workDir, 'sample.csv');
    writeFileSync(file, sampleOhlcvCsv());
    const end = start + bars * interval;
    const fromCsv = await new CsvHistoryProvider(file).fetch(start, end, key);
    const generated = await new GarchHistoryProvider(SAMPLE_MARKET).fetch(start, end, key);
    expect(fromCsv.map((row) => row.ts)).toEqual(generated.map((row) => row.ts));
    const worst = (fields: readonly string[]): number =>
      Math.max(
        ...generated.flatMap((row, k) =>
          fields.map((field) =>
            Math.abs((fromCsv[k]![field] as number) - (row as Record<string, number>)[field]!),
          ),
        ),
      );
    expect(worst(['open', 'high', 'low', 'close'])).toBeLessThanOrEqual(5e-5);
    expect(worst(['volume'])).toBeLessThanOrEqual(5e-3);
  });

  it("is declared with the same values in the template's generators/index.ts", () => {
    const source = readFileSync(path.join(templatesDirectory(), 'common', 'generators', 'index.ts'), 'utf8');
    const literal = /export const SAMPLE_MARKET = (\{[^}]*\})/.exec(source)?.[1];
    expect(literal, 'generators/index.ts declares SAMPLE_MARKET as an object literal').toBeDefined();
    const declared = Object.fromEntries(
      [...literal!.matchAll(/(\w+):\s*([\d.e+-]+)/g)].map(([, name, value]) => [name, Number(value)]),
    );
    expect(declared).toEqual({ ...SAMPLE_MARKET });
  });
});
