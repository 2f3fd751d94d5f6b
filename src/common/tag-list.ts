/**
 * Tags as events carry them: a list of strings, or one comma-separated string (the original's
 * `"a,b"` form, trimmed). Empty tags are dropped from both. Null for anything else.
 * @example tagListOf('btc, price') // ['btc', 'price']
 */
export function tagListOf(value: unknown): string[] | null {
  if (typeof value === 'string')
    return value
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== '');
  return Array.isArray(value) && value.every((v): v is string => typeof v === 'string')
    ? value.filter((tag) => tag !== '')
    : null;
}
