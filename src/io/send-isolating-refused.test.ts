import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { IlpRejectedError, type IlpSender } from './ilp-sender.js';
import { sendIsolatingRefused } from './send-isolating-refused.js';

/**
 * A sender that, like QuestDB over ILP/HTTP, writes a batch whole or rejects it whole: with
 * `status` when a line holds "bad", and fails with `failWith` from request `failAt` on.
 */
function allOrNothingSender(status = 400): IlpSender & {
  written: string[];
  requests: number;
  failAt: number;
  failWith: Error | null;
} {
  const sender = {
    written: [] as string[],
    requests: 0,
    failAt: Infinity,
    failWith: null as Error | null,
    send(batch: string): Promise<void> {
      sender.requests += 1;
      if (sender.failWith !== null && sender.requests >= sender.failAt)
        return Promise.reject(sender.failWith);
      const lines = batch.split(/(?<=\n)/);
      if (lines.some((line) => line.includes('bad')))
        return Promise.reject(new IlpRejectedError(status, '{"message":"cast error","line":1}'));
      sender.written.push(...lines);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
  return sender;
}

const linesWithBad = (count: number, bad: ReadonlySet<number>): string[] =>
  Array.from({ length: count }, (_, i) => `t v=${bad.has(i) ? '"bad"' : i} ${i}\n`);

describe('sendIsolatingRefused', () => {
  it('sends a batch QuestDB takes in one request and refuses nothing', async () => {
    const sender = allOrNothingSender();
    const lines = linesWithBad(10, new Set());
    expect(await sendIsolatingRefused(sender, lines)).toEqual([]);
    expect(sender.requests).toBe(1);
    expect(sender.written).toEqual(lines);
  });

  it('writes every line but those QuestDB refuses on their own, in order, with its reason', async () => {
    const sender = allOrNothingSender();
    const lines = linesWithBad(100, new Set([49, 50]));
    const refused = await sendIsolatingRefused(sender, lines);
    expect(refused.map((r) => r.line)).toEqual([lines[49], lines[50]]);
    expect(refused[0]!.error.reason).toBe('cast error');
    expect(sender.written).toEqual(lines.filter((_, i) => i !== 49 && i !== 50));
    expect(sender.requests).toBeLessThanOrEqual(1 + 2 * 2 * 7);
  });

  it('costs at most 1 + 2k·⌈log2 n⌉ requests for k refused lines of n', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 300 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.uniqueArray(fc.nat(n - 1), { maxLength: Math.min(n, 8) })),
          ),
        async ([n, badIndexes]) => {
          const bad = new Set(badIndexes);
          const sender = allOrNothingSender();
          const lines = linesWithBad(n, bad);
          const refused = await sendIsolatingRefused(sender, lines);
          expect(refused.map((r) => r.line)).toEqual(lines.filter((_, i) => bad.has(i)));
          expect(sender.written).toEqual(lines.filter((_, i) => !bad.has(i)));
          expect(sender.requests).toBeLessThanOrEqual(1 + 2 * bad.size * Math.ceil(Math.log2(n)));
        },
      ),
    );
  });

  it('does not split a batch rejected for another reason than its lines (HTTP 500)', async () => {
    const sender = allOrNothingSender(500);
    const error = await sendIsolatingRefused(sender, linesWithBad(8, new Set([3]))).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500, blamesLines: false });
    expect(sender.requests).toBe(1);
  });

  it('throws an outage met while splitting, so the caller can keep the whole batch', async () => {
    const sender = allOrNothingSender();
    sender.failAt = 3;
    sender.failWith = new QmtlError(ErrorCode.Unavailable, 'connection refused');
    await expect(sendIsolatingRefused(sender, linesWithBad(8, new Set([6])))).rejects.toThrow(
      'connection refused',
    );
    expect(sender.written).toEqual(linesWithBad(4, new Set()));
  });
});
