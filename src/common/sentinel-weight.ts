import { quote } from './errors.js';

/** The longest strategy id a diff accepts. */
export const MAX_STRATEGY_ID_LENGTH = 256;

/** What a strategy's version sentinel id appends to the strategy id: `{strategy_id}-sentinel`. */
export const SENTINEL_SUFFIX = '-sentinel';

/** The longest sentinel id: that of the longest strategy id. */
export const MAX_SENTINEL_ID_LENGTH = MAX_STRATEGY_ID_LENGTH + SENTINEL_SUFFIX.length;

/** Control characters and lone surrogates: nothing a sentinel id, a log line or a label needs. */
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

/**
 * The one rule for a canary weight, as the DAG Manager's `POST /callbacks/sentinel-traffic` and
 * the Gateway's `sentinel_weight` event both receive it (SPEC §2.8): the sentinel id a non-blank
 * string of at most {@link MAX_SENTINEL_ID_LENGTH} characters without control characters, the
 * weight a number in [0, 1]. Returns one message per bad field, quoting its value (empty when
 * both are fine); `idField` is the id's name on the caller's wire (`version`, `sentinel_id`).
 *
 * @example
 * sentinelWeightProblems('version', '', 2);
 * // → ['version must be a non-blank string of at most 265 characters without control characters, got ""',
 * //    'weight must be a number in [0, 1], got 2']
 */
export function sentinelWeightProblems(idField: string, sentinelId: unknown, weight: unknown): string[] {
  const problems: string[] = [];
  if (
    typeof sentinelId !== 'string' ||
    sentinelId.trim() === '' ||
    sentinelId.length > MAX_SENTINEL_ID_LENGTH ||
    UNPRINTABLE.test(sentinelId)
  )
    problems.push(
      `${idField} must be a non-blank string of at most ${MAX_SENTINEL_ID_LENGTH} characters without control characters, got ${quote(sentinelId)}`,
    );
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1)
    problems.push(`weight must be a number in [0, 1], got ${quote(weight)}`);
  return problems;
}
