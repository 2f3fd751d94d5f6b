import { quote } from '../common/errors.js';

/**
 * The time column of a file's columns: `wanted` when given, else `ts` or `timestamp`. Column
 * names must be non-empty and distinct. Problems go to `fail` as a phrase completing "the file
 * …" (e.g. `repeats column "close"`), which the caller turns into its error.
 */
export function resolveTimeColumn(
  names: readonly string[],
  wanted: string | undefined,
  fail: (problem: string) => never,
): string {
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') fail('has an empty column name');
    if (seen.has(name)) fail(`repeats column ${quote(name)}`);
    seen.add(name);
  }
  const found =
    wanted === undefined
      ? ['ts', 'timestamp'].find((name) => seen.has(name))
      : seen.has(wanted)
        ? wanted
        : undefined;
  if (found !== undefined) return found;
  const expected = wanted === undefined ? '"ts" or "timestamp" column' : `time column ${quote(wanted)}`;
  return fail(`has no ${expected} (columns: ${names.join(', ')})`);
}
