import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ErrorCode, QmtlError } from './errors.js';
import { backoffDelay, retryAfterMs, retry, sleep } from './retry.js';

/** An injected sleep that records every delay and resolves at once. */
function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return {
    delays,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  };
}

/** A function that fails `failures` times, then resolves with the attempt number. */
function failingTimes(failures: number): { fn: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    fn: (attempt) => {
      attempts.push(attempt);
      return attempt <= failures
        ? Promise.reject(new Error(`boom ${attempt}`))
        : Promise.resolve(`ok ${attempt}`);
    },
  };
}

describe('retry', () => {
  it('returns the first result without waiting when the first try succeeds', async () => {
    const clock = recordingSleep();
    await expect(retry(() => Promise.resolve(42), { sleep: clock.sleep })).resolves.toBe(42);
    expect(clock.delays).toEqual([]);
  });

  it('retries with exponential backoff until a try succeeds', async () => {
    const clock = recordingSleep();
    const { fn, attempts } = failingTimes(3);
    await expect(retry(fn, { sleep: clock.sleep, jitter: false })).resolves.toBe('ok 4');
    expect(attempts).toEqual([1, 2, 3, 4]);
    expect(clock.delays).toEqual([100, 200, 400]);
  });

  it('makes maxRetries + 1 tries and rethrows the last error', async () => {
    const clock = recordingSleep();
    const { fn, attempts } = failingTimes(Infinity);
    await expect(retry(fn, { maxRetries: 2, sleep: clock.sleep, jitter: false })).rejects.toThrow('boom 3');
    expect(attempts).toEqual([1, 2, 3]);
    expect(clock.delays).toEqual([100, 200]);
  });

  it('makes a single try when maxRetries is 0', async () => {
    const clock = recordingSleep();
    const { fn, attempts } = failingTimes(Infinity);
    await expect(retry(fn, { maxRetries: 0, sleep: clock.sleep })).rejects.toThrow('boom 1');
    expect(attempts).toEqual([1]);
    expect(clock.delays).toEqual([]);
  });

  it('caps every delay at maxDelayMs', async () => {
    const clock = recordingSleep();
    const { fn } = failingTimes(Infinity);
    const options = {
      maxRetries: 6,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      factor: 3,
      jitter: false,
      sleep: clock.sleep,
    };
    await expect(retry(fn, options)).rejects.toThrow('boom 7');
    expect(clock.delays).toEqual([100, 300, 900, 1000, 1000, 1000]);
  });

  it('draws jittered delays in [0, delay) from the injected random source', async () => {
    const clock = recordingSleep();
    const { fn } = failingTimes(3);
    await retry(fn, { sleep: clock.sleep, random: () => 0.5 });
    expect(clock.delays).toEqual([50, 100, 200]);
  });

  it('reports each retry to onRetry with the failed attempt and the delay', async () => {
    const clock = recordingSleep();
    const onRetry = vi.fn<(error: unknown, attempt: number, delayMs: number) => void>();
    const { fn } = failingTimes(2);
    await retry(fn, { sleep: clock.sleep, jitter: false, onRetry });
    expect(
      onRetry.mock.calls.map(([error, attempt, delay]) => [(error as Error).message, attempt, delay]),
    ).toEqual([
      ['boom 1', 1, 100],
      ['boom 2', 2, 200],
    ]);
  });

  it('stops with the abort reason when the signal aborts during a wait', async () => {
    const controller = new AbortController();
    const reason = new Error('stopped');
    const { fn, attempts } = failingTimes(Infinity);
    const sleeper = (): Promise<void> => {
      controller.abort(reason);
      return Promise.resolve();
    };
    await expect(retry(fn, { sleep: sleeper, signal: controller.signal })).rejects.toBe(reason);
    expect(attempts).toEqual([1]);
  });

  it('rethrows at once an error retryIf refuses to retry', async () => {
    const clock = recordingSleep();
    const { fn, attempts } = failingTimes(Infinity);
    const retryIf = (error: unknown) => (error as Error).message !== 'boom 2';
    await expect(retry(fn, { sleep: clock.sleep, retryIf })).rejects.toThrow('boom 2');
    expect(attempts).toEqual([1, 2]);
    expect(clock.delays).toHaveLength(1);
  });

  it('does not call fn when the signal is already aborted', async () => {
    const fn = vi.fn(() => Promise.resolve(1));
    await expect(retry(fn, { signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow('early');
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects invalid options with InvalidArgument', async () => {
    const error = await retry(() => Promise.resolve(1), { maxRetries: -1, baseDelayMs: -5 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe(ErrorCode.InvalidArgument);
    expect((error as QmtlError).message).toContain('maxRetries');
    expect((error as QmtlError).message).toContain('baseDelayMs');
  });
});

describe('backoffDelay', () => {
  it('grows by the factor from the base delay', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, { jitter: false }))).toEqual([100, 200, 400, 800]);
  });

  it('stays below the capped delay with jitter', () => {
    expect(backoffDelay(10, { maxDelayMs: 300, random: () => 0.999 })).toBeLessThan(300);
    expect(backoffDelay(10, { maxDelayMs: 300, random: () => 0 })).toBe(0);
  });
});

describe('sleep', () => {
  it('resolves after the timer fires', async () => {
    vi.useFakeTimers();
    try {
      const done = vi.fn();
      const pending = sleep(1000).then(done);
      await vi.advanceTimersByTimeAsync(999);
      expect(done).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      await pending;
      expect(done).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects with the abort reason and clears its timer', async () => {
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      const pending = sleep(10_000, controller.signal);
      controller.abort(new Error('cancelled'));
      await expect(pending).rejects.toThrow('cancelled');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects at once when the signal is already aborted', async () => {
    await expect(sleep(10_000, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(' 120 ')).toBe(120_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      10_000,
    );
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 08:00:00 GMT'))).toBe(
      0,
    );
    expect([retryAfterMs(null), retryAfterMs(''), retryAfterMs('soon')]).toEqual([null, null, null]);
  });

  it('reads nothing else as a date or a delay (Date.parse takes "2" and "1.5" for days in 2001)', () => {
    expect(['2', '1.5', '-1', '0x10', '1e3', 'Infinity', '2024-01-01'].map((h) => retryAfterMs(h))).toEqual([
      2000,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    fc.assert(
      fc.property(fc.string(), (header) => {
        const ms = retryAfterMs(header, 1_700_000_000_000);
        if (ms !== null) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});
