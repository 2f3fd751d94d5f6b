import { ErrorCode, quote, type Problem } from '../common/errors.js';

/** Shows a value in a message; unlike `quote`, keeps `NaN` and `Infinity` readable. */
export function showValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : quote(value);
}

/** A validation problem about `field`, with code `QMTL_INVALID_ARGUMENT`. */
export function invalid(field: string, rule: string, value: unknown): Problem {
  return { code: ErrorCode.InvalidArgument, message: `${field} must be ${rule}, got ${showValue(value)}` };
}

/**
 * The fields of `options` that are not `undefined`, so spreading them keeps the defaults. No
 * options at all (`new GarchGenerator()`) is an empty set, so the checks name each required one.
 */
export function definedFields<T extends object>(options: T | null | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(options ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/** Whether `value` is a finite number. */
export const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/** Whether `value` is a safe integer. */
export const isSafeInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value);

/** A rule an option value must follow, and how messages state it (`… must be <text>`). */
export interface OptionRule {
  readonly text: string;
  readonly test: (value: unknown) => boolean;
}

/** The rules shared by the generators' options. */
export const OptionRules = {
  safeInteger: { text: 'a safe integer', test: isSafeInteger },
  finite: { text: 'a finite number', test: isFiniteNumber },
  positive: { text: 'a finite number > 0', test: (v) => isFiniteNumber(v) && v > 0 },
  nonNegative: { text: 'a finite number >= 0', test: (v) => isFiniteNumber(v) && v >= 0 },
  correlation: { text: 'a finite number in [-1, 1]', test: (v) => isFiniteNumber(v) && Math.abs(v) <= 1 },
  positiveInteger: { text: 'a positive integer', test: (v) => isSafeInteger(v) && v > 0 },
  seconds: {
    text: 'a positive integer number of seconds',
    test: (v) => isSafeInteger(v) && v > 0,
  },
} as const satisfies Record<string, OptionRule>;

/** One problem for each field of `values` that has no rule (a misspelt option), then for each that breaks its rule, in the order of `rules`. */
export function checkFields<T extends object>(
  values: T,
  rules: { readonly [K in keyof T]?: OptionRule },
): Problem[] {
  const problems: Problem[] = [];
  const known = Object.keys(rules);
  for (const key of Object.keys(values).filter((key) => !known.includes(key))) {
    problems.push({
      code: ErrorCode.InvalidArgument,
      message: `unknown option ${quote(key)} (known: ${known.join(', ')})`,
    });
  }
  for (const [field, rule] of Object.entries(rules) as [keyof T & string, OptionRule][]) {
    const value = values[field];
    if (!rule.test(value)) problems.push(invalid(field, rule.text, value));
  }
  return problems;
}
