import { ErrorCode, QmtlError, quote } from './errors.js';
import { describeFetchFailure } from './fetch-failure.js';
import { backoffDelay, sleep as defaultSleep, type SleepFn } from './retry.js';

/** Options of {@link postWithBackoff}. */
export interface PostOptions {
  /** Tries in total. Default 3. */
  readonly attempts?: number;
  /** Delay before the first retry, in ms (doubling, capped at 8 s). Default 1000. */
  readonly baseDelayMs?: number;
  /** Per-try timeout in ms. Default 5000. */
  readonly timeoutMs?: number;
  readonly sleep?: SleepFn;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * POSTs `body` as JSON to `url`, retrying network errors, 5xx and 429 with exponential backoff;
 * any 2xx is success. @throws QmtlError `QMTL_UNAVAILABLE` naming the URL and the last failure.
 * @example await postWithBackoff('http://127.0.0.1:8000/callbacks/dag-event', event);
 */
export async function postWithBackoff(url: string, body: unknown, options: PostOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 3;
  const sleep = options.sleep ?? defaultSleep;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      last = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      last = describeFetchFailure(error as Error);
    }
    if (attempt < attempts) {
      await sleep(
        backoffDelay(attempt, {
          baseDelayMs: options.baseDelayMs ?? 1_000,
          maxDelayMs: 8_000,
          jitter: false,
        }),
      );
    }
  }
  throw new QmtlError(ErrorCode.Unavailable, `POST ${quote(url)} failed: ${last}`);
}
