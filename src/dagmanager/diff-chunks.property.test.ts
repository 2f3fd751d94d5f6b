/**
 * Chunking over generated diff outcomes (up to 3,000 nodes, names up to 12,000 characters, buffer
 * instructions with non-ASCII tags): every chunk holds at most 100 nodes and, encoded with the
 * real protobuf `DiffChunk`, at most 1 MiB (unless one node alone is larger); every node is in
 * exactly one chunk, in order, and the chunks merge back into the outcome's maps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNK_LIMITS, toChunks } from './diff-chunks.js';
import type { BufferInstruction, DiffOutcome } from './diff-types.js';
import { dagManagerProto } from './grpc-proto.js';
import { chunkMessage } from './grpc-server.js';

const MiB = 1024 * 1024;

const outcome: fc.Arbitrary<DiffOutcome> = fc
  .record({
    nodes: fc.integer({ min: 0, max: 3_000 }),
    idLength: fc.integer({ min: 1, max: 200 }),
    topicLength: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1_000, max: 12_000 })),
    produced: fc.double({ min: 0, max: 1, noNaN: true }),
    buffered: fc.double({ min: 0, max: 0.3, noNaN: true }),
    tag: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  })
  .map(({ nodes, idLength, topicLength, produced, buffered, tag }) => {
    // Never integer-like: an object puts such keys first (real node ids are 64 hex characters).
    const ids = Array.from({ length: nodes }, (_, i) => `n${i}`.padStart(idLength, 'n'));
    const topic = (id: string): string => `t_${id}`.padEnd(topicLength, 'x');
    const buffers: BufferInstruction[] = ids
      .filter((_, i) => (i * 0.618) % 1 < buffered)
      .map((nodeId) => ({
        nodeId,
        nodeType: 'ProcessingNode',
        codeHash: 'c'.repeat(64),
        schemaHash: 's'.repeat(64),
        interval: 60,
        period: 5,
        tags: [tag, `${tag}✓`],
        lag: 5,
      }));
    return {
      strategyId: 's',
      sentinelId: 's-sentinel',
      queueMap: new Map(ids.map((id) => [id, topic(id)])),
      topicMap: new Map(ids.filter((_, i) => (i * 0.381) % 1 < produced).map((id) => [id, topic(id)])),
      newNodes: [],
      bufferNodes: buffers,
      sentinelWritten: true,
    };
  });

describe('toChunks over generated outcomes', () => {
  it('keeps every chunk within 100 nodes and 1 MiB encoded, and loses nothing', () => {
    const serialize = (
      dagManagerProto().DiffService as unknown as {
        service: { Diff: { responseSerialize: (value: unknown) => Buffer } };
      }
    ).service.Diff.responseSerialize;
    fc.assert(
      fc.property(outcome, (o) => {
        const chunks = toChunks(o);
        expect(chunks.length).toBeGreaterThan(0);
        const ids: string[] = [];
        chunks.forEach((chunk, k) => {
          const nodes = Object.keys(chunk.queueMap);
          expect(nodes.length).toBeLessThanOrEqual(DEFAULT_CHUNK_LIMITS.maxNodes);
          expect([chunk.chunkId, chunk.totalChunks]).toEqual([k + 1, chunks.length]);
          const bytes = serialize(chunkMessage(chunk)).length;
          if (nodes.length > 1)
            expect(bytes, `chunk ${k + 1} of ${nodes.length} nodes`).toBeLessThanOrEqual(MiB);
          ids.push(...nodes);
        });
        expect(ids).toEqual([...o.queueMap.keys()]);
        expect(Object.assign({}, ...chunks.map((c) => c.topicMap))).toEqual(Object.fromEntries(o.topicMap));
        expect(chunks.flatMap((c) => c.bufferNodes)).toEqual(o.bufferNodes);
      }),
      { numRuns: 200 },
    );
  });
});
