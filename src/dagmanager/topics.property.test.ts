/**
 * Topic names over generated parts (assets and node types of any text and length, any version):
 * always a legal Kafka topic name, and different for nodes whose ids differ once the hash part
 * has grown to the whole id.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOPIC_HASH_PREFIX, topicName } from './topics.js';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const parts = fc.record({
  asset: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
  nodeType: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
  codeHash: hex64,
  nodeId: hex64,
  version: fc.integer({ min: 1, max: 1_000_000 }),
  dryRun: fc.boolean(),
});

describe('topic names over generated parts', () => {
  it('are legal Kafka topic names: [A-Za-z0-9._-], 1 to 249 characters, not "." or ".."', () => {
    fc.assert(
      fc.property(parts, fc.integer({ min: TOPIC_HASH_PREFIX, max: TOPIC_HASH_PREFIX + 64 }), (p, length) => {
        const name = topicName(p, length);
        expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(name.length, name).toBeLessThanOrEqual(249);
        expect(['.', '..']).not.toContain(name);
      }),
      { numRuns: 5_000 },
    );
  });

  it('tell two nodes apart once the hash part holds the whole node id', () => {
    fc.assert(
      fc.property(parts, hex64, (p, otherId) => {
        fc.pre(otherId !== p.nodeId);
        const full = TOPIC_HASH_PREFIX + 64;
        expect(topicName(p, full)).not.toBe(topicName({ ...p, nodeId: otherId }, full));
      }),
      { numRuns: 2_000 },
    );
  });
});
