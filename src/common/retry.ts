import { ErrorCode, QmtlError, quote } from './errors.js';

/** Waits `ms` milliseconds; `signal` cuts the wait short. Injectable so tests never really wait. */
export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/** How the delay between tries grows. Shared by {@link retry} and {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. Default 100. */
  readonly baseDelayMs?: number;
  /** Upper bound of any delay, in ms. Default 5000. */
  readonly maxDelayMs?: number;
  /** Growth per retry. Default 2. */
  readonly factor?: number;
  /** Full jitter: the delay is drawn uniformly from `[0, delay)`. Default true. */
  readonly jitter?: boolean;
  /** Source of randomness for the jitter, in `[0, 1)`. Default `Math.random`. */
  readonly random?: () => number;
}

/** Options of {@link retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Retries after the first try; total tries = `maxRetries + 1`. Default 3. */
  readonly maxRetries?: number;
  /** How to wait between tries. Default {@link sleep} (setTimeout-based). */
  readonly sleep?: SleepFn;
  /** Called after a failed try that will be retried, before waiting `delayMs`. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Stops retrying: an abort rejects with `signal.reason`, also during a wait. */
  readonly signal?: AbortSignal;
  /** Whether a failed try may be retried; false rethrows its error at once. Default: always. */
  readonly retryIf?: (error: unknown) => boolean;
}

/**
 * Waits `ms` milliseconds. Rejects with `signal.reason` when the signal aborts first.
 * @example await sleep(250);
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The delay before retry number `retryNumber` (1 for the first retry):
 * `min(maxDelayMs, baseDelayMs * factor^(retryNumber - 1))`, then full jitter when enabled.
 * @example backoffDelay(3, { baseDelayMs: 100, jitter: false }) // 400
 */
export function backoffDelay(retryNumber: number, options: BackoffOptions = {}): number {
  const { baseDelayMs = 100, maxDelayMs = 5000, factor = 2, jitter = true, random = Math.random } = options;
  const exponential = baseDelayMs * factor ** Math.max(0, retryNumber - 1);
  const capped = Math.min(maxDelayMs, exponential);
  return jitter ? Math.floor(random() * capped) : capped;
}

/**
 * Calls `fn` until it resolves, at most `maxRetries + 1` times, waiting an exponentially growing
 * (optionally jittered) delay between tries. Rethrows the last error when every try fails.
 * `fn` receives the 1-based number of the try.
 * @example
 * const rows = await retry((attempt) => fetcher.fetch(start, end, key), {
 *   maxRetries: 5,
 *   onRetry: (error, attempt, delayMs) => logger.warn({ attempt, delayMs }, 'fetch.retry'),
 * });
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { maxRetries = 3, sleep: wait = sleep, onRetry, signal, retryIf } = options;
  validateRetryOptions(options, maxRetries);
  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt > maxRetries || (retryIf !== undefined && !retryIf(error))) throw error;
      signal?.throwIfAborted();
      const delayMs = backoffDelay(attempt, options);
      onRetry?.(error, attempt, delayMs);
      await wait(delayMs, signal);
    }
  }
}

function validateRetryOptions(options: RetryOptions, maxRetries: number): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0)
    problems.push(`maxRetries must be a non-negative integer, got ${quote(maxRetries)}`);
  for (const name of ['baseDelayMs', 'maxDelayMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0))
      problems.push(`${name} must be a non-negative number, got ${quote(value)}`);
  }
  if (options.factor !== undefined && !(Number.isFinite(options.factor) && options.factor >= 1)) {
    problems.push(`factor must be a number >= 1, got ${quote(options.factor)}`);
  }
  if (problems.length > 0)
    throw new QmtlError(ErrorCode.InvalidArgument, `Invalid retry options: ${problems.join('; ')}`);
}

/**
 * `Retry-After` (RFC 9110) in milliseconds from `now`: delay-seconds (digits only) or an HTTP-date
 * ending in `GMT`; null when absent or unreadable. Nothing else is read as a date (`Date.parse`
 * would take "2" or "1.5" for a day in 2001).
 * @example retryAfterMs('3') // 3000
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  const text = header?.trim() ?? '';
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/ GMT$/i.test(text)) return null;
  const date = Date.parse(text);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}
