/**
 * The circuit breaker against a model over generated schedules of overlapping calls (each ending
 * in success or failure, in any order), with a fake clock: calls are let through, refused or used
 * as the one half-open probe exactly as the model says, and a call that ends after the breaker
 * changed state since it started changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import { ErrorCode, QmtlError } from './errors.js';

const THRESHOLD = 2;
const RESET_MS = 100;

type Step = { op: 'start' } | { op: 'end'; pick: number; ok: boolean } | { op: 'wait'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ op: 'start' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('end' as const), pick: fc.nat(), ok: fc.boolean() }) },
  fc.record({ op: fc.constant('wait' as const), ms: fc.constantFrom(10, 60, 100, 150) }),
);

interface InFlight {
  readonly phase: number;
  readonly settle: (ok: boolean) => void;
  readonly done: Promise<unknown>;
}

describe('the circuit breaker against a model', () => {
  it('lets through, refuses and probes as the model says, ignoring calls from an earlier phase', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        let now = 0;
        const breaker = new CircuitBreaker({
          name: 'model',
          failureThreshold: THRESHOLD,
          resetTimeoutMs: RESET_MS,
          now: () => now,
        });
        // The model.
        let state: 'closed' | 'open' | 'half-open' = 'closed';
        let failures = 0;
        let openedAt = 0;
        let phase = 0;
        let probing = false;
        const setState = (next: typeof state): void => {
          if (next === state) return;
          state = next;
          phase += 1;
          probing = false;
        };
        // The stored state, read through a function: the compiler cannot see setState change it.
        const observedRaw = (): typeof state => state;
        const observed = (): BreakerState =>
          state === 'open' && now - openedAt >= RESET_MS ? 'half-open' : state;
        const calls: InFlight[] = [];
        for (const s of steps) {
          if (s.op === 'wait') {
            now += s.ms;
          } else if (s.op === 'start') {
            const seen = observed();
            let settle!: (ok: boolean) => void;
            const outcome = new Promise<boolean>((resolve) => (settle = resolve));
            const done = breaker
              .call(async () => {
                if (!(await outcome)) throw new Error('failed on purpose');
              })
              .then(
                () => null,
                (error: unknown) => error,
              );
            if (seen === 'open' || (seen === 'half-open' && probing)) {
              const error = await done;
              expect(error).toBeInstanceOf(QmtlError);
              expect((error as QmtlError).code).toBe(ErrorCode.Unavailable);
              continue;
            }
            if (seen === 'half-open') {
              setState('half-open');
              probing = true;
            }
            calls.push({ phase, settle, done });
          } else {
            if (calls.length === 0) continue;
            const [call] = calls.splice(s.pick % calls.length, 1);
            call!.settle(s.ok);
            await call!.done;
            if (call!.phase === phase) {
              probing = false;
              if (s.ok) {
                failures = 0;
                setState('closed');
              } else {
                failures += 1;
                if (observedRaw() === 'half-open' || failures >= THRESHOLD) {
                  openedAt = now;
                  setState('open');
                }
              }
            }
          }
          expect(breaker.state, JSON.stringify(s)).toBe(observed());
          expect(breaker.failures).toBe(failures);
        }
        for (const call of calls) call.settle(true);
        await Promise.all(calls.map((call) => call.done));
      }),
      { numRuns: 3_000 },
    );
  });
});
