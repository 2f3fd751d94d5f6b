/**
 * WebSocket client messages over generated input (any text, any JSON, near-valid subscriptions):
 * parseClientMessage always answers a filter of string lists or a list of problems, and never
 * throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClientMessage } from './ws-hub.js';

const nearValid = fc
  .record(
    {
      types: fc.oneof(fc.array(fc.constantFrom('progress', 'queue_map', 'nope')), fc.jsonValue()),
      strategy_ids: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
      tags: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((subscribe) => JSON.stringify({ subscribe }));

describe('parseClientMessage over generated input', () => {
  it('answers a filter of string lists or problems, never throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), nearValid), (text) => {
        const result = parseClientMessage(text);
        if ('filter' in result) {
          for (const values of Object.values(result.filter))
            expect(Array.isArray(values) && values.every((v) => typeof v === 'string')).toBe(true);
        } else {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const problem of result.problems) expect(typeof problem).toBe('string');
        }
      }),
      { numRuns: 5_000 },
    );
  });
});
