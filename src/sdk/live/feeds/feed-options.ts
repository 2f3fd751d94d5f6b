import { ErrorCode, QmtlError, quote, type Problem } from '../../../common/errors.js';
import { isRecord } from '../../../common/is-record.js';

/** One option check: the problem with `value`, or null when it is fine. */
type Check = (name: string, value: unknown) => Problem | null;

function problem(name: string, expected: string, value: unknown): Problem {
  return { code: ErrorCode.InvalidArgument, message: `${name} must be ${expected}, got ${quote(value)}` };
}

/** A finite number >= 0 (a delay in ms). */
export const nonNegativeNumber: Check = (name, value) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? null
    : problem(name, 'a non-negative number', value);

/** A finite number > 0 (a period in ms). */
export const positiveNumber: Check = (name, value) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0
    ? null
    : problem(name, 'a positive number', value);

/** An integer >= 1 (a count). */
export const positiveInteger: Check = (name, value) =>
  Number.isSafeInteger(value) && (value as number) >= 1 ? null : problem(name, 'a positive integer', value);

/** An integer (epoch seconds). */
export const safeInteger: Check = (name, value) =>
  Number.isSafeInteger(value) ? null : problem(name, 'an integer (epoch seconds)', value);

/** A string with at least one character. */
export const nonEmptyString: Check = (name, value) =>
  typeof value === 'string' && value !== '' ? null : problem(name, 'a non-empty string', value);

/** A function. */
export const aFunction: Check = (name, value) =>
  typeof value === 'function' ? null : problem(name, 'a function', value);

/** A check that `value` is an object with every method in `methods`. */
export function objectWith(...methods: readonly string[]): Check {
  return (name, value) =>
    typeof value === 'object' &&
    value !== null &&
    methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function')
      ? null
      : problem(name, `an object with ${methods.map((m) => `${m}()`).join(' and ')}`, value);
}

/** Checks of one option bag: option name → check, run only when the option is present. */
export type OptionChecks = Readonly<Record<string, Check>>;

/**
 * Validates an option bag and throws one `QMTL_INVALID_ARGUMENT` error listing every problem:
 * options that are not an object, unknown option names (typos), missing `required` options and
 * values that fail their check.
 */
export function validateOptions(
  what: string,
  options: unknown,
  checks: OptionChecks,
  required: readonly string[] = [],
): void {
  if (!isRecord(options))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `${what} options must be an object, got ${quote(options)}`,
    );
  const problems: Problem[] = [];
  for (const key of Object.keys(options))
    if (!(key in checks))
      problems.push({
        code: ErrorCode.InvalidArgument,
        message: `unknown option ${quote(key)} (known: ${Object.keys(checks).join(', ')})`,
      });
  for (const [name, check] of Object.entries(checks)) {
    const value = options[name];
    if (value === undefined) {
      if (required.includes(name)) problems.push(problem(name, 'given', value));
      continue;
    }
    const found = check(name, value);
    if (found !== null) problems.push(found);
  }
  if (problems.length > 0) throw QmtlError.fromProblems(`Invalid ${what} options`, problems);
}

/**
 * Validates a nested `{ initial/initialMs, max/maxMs, … }` backoff bag: every field with its own
 * check, and the maximum not below the initial delay.
 */
export function backoffCheck(initialKey: string, maxKey: string, extra: OptionChecks = {}): Check {
  return (name, value) => {
    if (!isRecord(value)) return problem(name, `an object { ${initialKey}, ${maxKey} }`, value);
    const messages: string[] = [];
    const checks: OptionChecks = { [initialKey]: positiveNumber, [maxKey]: positiveNumber, ...extra };
    for (const key of Object.keys(value))
      if (!(key in checks)) messages.push(`unknown option ${quote(`${name}.${key}`)}`);
    for (const [key, check] of Object.entries(checks)) {
      const field = value[key];
      const optional = key in extra;
      if (field === undefined && optional) continue;
      const found = check(`${name}.${key}`, field);
      if (found !== null) messages.push(found.message);
    }
    const initial = value[initialKey];
    const max = value[maxKey];
    const comparable = positiveNumber('', initial) === null && positiveNumber('', max) === null;
    if (comparable && (max as number) < (initial as number))
      messages.push(
        `${name}.${maxKey} must be >= ${name}.${initialKey} (${quote(initial)}), got ${quote(max)}`,
      );
    return messages.length === 0 ? null : { code: ErrorCode.InvalidArgument, message: messages.join('; ') };
  };
}
