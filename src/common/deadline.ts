/** The longest delay setTimeout takes (2^31 − 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A call that did not settle within its deadline (the default error of {@link withDeadline}). */
export class DeadlineError extends Error {}

/**
 * `call` (a promise, or a plain value from a method that is not async), or a rejection with
 * `timeout()` when it has not settled within `ms` (Infinity: never), or with `signal.reason` when
 * the signal aborts first. The call keeps running either way; its outcome is then ignored. The
 * timer is cleared once it settles, so it keeps the process alive only while the call is awaited.
 */
export function withDeadline<T>(
  call: T | PromiseLike<T>,
  ms: number,
  timeout: () => Error = () => new DeadlineError(`no reply within ${ms} ms`),
  signal?: AbortSignal,
): Promise<T> {
  const promise = Promise.resolve(call);
  if (ms === Infinity && signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      settle();
      reject(signal?.reason as Error);
    };
    if (signal?.aborted === true) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (ms !== Infinity)
      timer = setTimeout(() => {
        settle();
        reject(timeout());
      }, ms);
    promise.then(
      (value) => {
        settle();
        resolve(value);
      },
      (error: unknown) => {
        settle();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on whatever the call rejected with
        reject(error);
      },
    );
  });
}
