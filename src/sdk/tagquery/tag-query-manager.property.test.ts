/**
 * The TagQueryManager against a model Gateway over generated histories of queues appearing (each
 * announced by a `queue_update` for its tags, as the DAG Manager sends) and queues dropped by GC
 * (a `gc` event): once settled, every registered tag query holds exactly the queues the Gateway
 * answers for it, and the hooks saw exactly the queues that came and went.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TagQueryNode } from '../tag-query-node.js';
import { TagQueryManager } from './tag-query-manager.js';

const TAGS = ['a', 'b', 'c'];

interface Queue {
  readonly name: string;
  readonly tags: string[];
  readonly interval: number;
}

type Step = { op: 'add'; tags: string[]; interval: number } | { op: 'drop'; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      tags: fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 3 }),
      interval: fc.constantFrom(60, 300),
    }),
  },
  fc.record({ op: fc.constant('drop' as const), pick: fc.nat() }),
);

const querySpec = fc.record({
  tags: fc.uniqueArray(fc.constantFrom(...TAGS), { minLength: 1, maxLength: 2 }),
  interval: fc.constantFrom(60, 300),
  mode: fc.constantFrom('any' as const, 'all' as const),
});

/** What the Gateway answers for a tag query (SPEC §2.5). */
function answer(
  queues: readonly Queue[],
  tags: readonly string[],
  interval: number,
  mode: 'any' | 'all',
): string[] {
  return queues
    .filter((q) => q.interval === interval)
    .filter((q) =>
      mode === 'all' ? tags.every((t) => q.tags.includes(t)) : tags.some((t) => q.tags.includes(t)),
    )
    .map((q) => q.name)
    .sort();
}

describe('TagQueryManager against a model Gateway', () => {
  it('ends with every query holding what the Gateway answers, after any history of queues', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(querySpec, { minLength: 1, maxLength: 4 }),
        fc.array(step, { maxLength: 15 }),
        async (specs, steps) => {
          const db: Queue[] = [];
          const net = new Map<TagQueryNode, Map<string, number>>();
          const count = (node: TagQueryNode, queues: readonly string[], sign: number): void => {
            const held = net.get(node) ?? new Map<string, number>();
            net.set(node, held);
            for (const q of queues) held.set(q, (held.get(q) ?? 0) + sign);
          };
          const manager = new TagQueryManager({
            gatewayUrl: 'http://gateway.test',
            wsClient: () => ({ start: () => undefined, close: () => Promise.resolve() }),
            fetch: (input) => {
              const url = new URL(input instanceof Request ? input.url : input.toString());
              const tags = (url.searchParams.get('tags') ?? '').split(',').filter((t) => t !== '');
              const queues = answer(
                db,
                tags,
                Number(url.searchParams.get('interval')),
                url.searchParams.get('match_mode') as 'any' | 'all',
              );
              return Promise.resolve(Response.json({ queues }));
            },
            onQueuesAdded: (node, queues) => count(node, queues, 1),
            onQueuesRemoved: (node, queues) => count(node, queues, -1),
          });
          const nodes = specs.map(
            (spec) =>
              new TagQueryNode({
                queryTags: spec.tags,
                interval: spec.interval,
                period: 1,
                matchMode: spec.mode,
              }),
          );
          for (const node of nodes) manager.register(node);
          await manager.start();
          let made = 0;
          for (const s of steps) {
            if (s.op === 'add') {
              db.push({ name: `q${(made += 1)}`, tags: s.tags, interval: s.interval });
              manager.handleEvent('queue_update', {
                tags: s.tags,
                interval: s.interval,
                match_mode: 'any',
                queues: answer(db, s.tags, s.interval, 'any'),
              });
            } else if (db.length > 0) {
              const [gone] = db.splice(s.pick % db.length, 1);
              manager.handleEvent('gc', { id: `gc-${s.pick}`, queues: [gone!.name] });
            }
          }
          await manager.settled();
          nodes.forEach((node, i) => {
            const expected = answer(db, specs[i]!.tags, specs[i]!.interval, specs[i]!.mode);
            expect([...node.queues].sort(), JSON.stringify(specs[i])).toEqual(expected);
            const held = [...(net.get(node) ?? new Map<string, number>())].filter(([, n]) => n !== 0);
            expect(held.map(([q]) => q).sort()).toEqual(expected);
            expect(held.every(([, n]) => n === 1)).toBe(true);
          });
          await manager.stop();
        },
      ),
      { numRuns: 500 },
    );
  });
});
