/**
 * parseConfig over generated files: any text (YAML or not), and valid files with one key given a
 * value of any type. Each is either accepted, with every key of the result of its declared type,
 * or refused with one QMTL_INVALID_CONFIG error naming the file: never another exception.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig, qmtlConfigSchema } from './config.js';
import { ErrorCode, QmtlError } from './errors.js';

const defaults = defaultConfig() as unknown as Record<string, Record<string, unknown>>;
const keys = Object.entries(defaults).flatMap(([section, values]) =>
  Object.keys(values).map((key) => [section, key] as const),
);

/** Whether the schema lets `section.key` be null. */
function nullable(section: string, key: string): boolean {
  return qmtlConfigSchema.safeParse({ [section]: { [key]: null } }).success;
}

function parsedOrRefused(text: string): void {
  let config: Record<string, Record<string, unknown>>;
  try {
    config = parseConfig(text, '/fuzz/qmtl.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe(ErrorCode.InvalidConfig);
    expect((error as QmtlError).message).toContain('"/fuzz/qmtl.yml"');
    return;
  }
  for (const [section, key] of keys) {
    const value = config[section]![key];
    const fallback = defaults[section]![key];
    // Nullable keys (DSNs, secrets, URLs) take a string or null; the rest keep their default's type.
    if (value === null) expect(nullable(section, key), `${section}.${key} = null`).toBe(true);
    else if (fallback === null) expect(typeof value, `${section}.${key}`).toBe('string');
    else expect(typeof value, `${section}.${key} = ${JSON.stringify(value)}`).toBe(typeof fallback);
  }
}

describe('parseConfig over generated files', () => {
  it('accepts or refuses any text with one config error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (text) =>
        parsedOrRefused(text),
      ),
      { numRuns: 3_000 },
    );
  });

  it('accepts or refuses one key set to a value of any type', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.oneof(fc.jsonValue(), fc.constantFrom(-1, 0, 1.5, 1e308, '', ' ', 'true', '8000', '-5', null)),
        fc.boolean(),
        ([section, key], value, misplaced) => {
          const doc = misplaced ? { [key]: value } : { [section]: { [key]: value } };
          parsedOrRefused(stringify(doc));
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
