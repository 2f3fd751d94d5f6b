/**
 * The message of an error `fetch` threw, with its reason: fetch's own message is only "fetch
 * failed", the reason is in its cause (a refused connection, one the other side closed, a DNS
 * failure). Errors without a cause keep their message.
 * @example describeFetchFailure(error) // 'fetch failed (connect ECONNREFUSED 127.0.0.1:9000)'
 */
export function describeFetchFailure(error: Error): string {
  const cause = error.cause as (Error & { code?: string }) | undefined;
  const reason = cause?.message || cause?.code;
  return reason === undefined || reason === '' ? error.message : `${error.message} (${reason})`;
}
