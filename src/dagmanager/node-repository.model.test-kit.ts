/**
 * Model-based checks every {@link NodeRepository} adapter runs (from the contract): generated
 * sequences of attaches and releases, and generated tag queries, against a plain-object model of
 * SPEC §5 (one producer per node: the first active strategy to attach it; a release hands its
 * nodes back; a released strategy that returns starts from what it attaches again).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { NodeRecord, TagQuery } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import { testRecord } from './node-repository.contract.test-kit.js';

const STRATEGIES = ['s0', 's1', 's2', 's3'];
const TAGS = ['a', 'b', 'c', 'd'];

type Step = { op: 'attach'; strategy: string; nodes: number[] } | { op: 'release'; strategy: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('attach' as const),
      strategy: fc.constantFrom(...STRATEGIES),
      nodes: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('release' as const), strategy: fc.constantFrom(...STRATEGIES) }),
  },
);

/** Five records with generated tags and intervals (the sixth index is an unknown node id). */
const records: fc.Arbitrary<NodeRecord[]> = fc
  .array(
    fc.record({
      tags: fc.uniqueArray(fc.constantFrom(...TAGS), { maxLength: 3 }),
      interval: fc.constantFrom(60, 3600),
      tagQuery: fc.boolean(),
    }),
    { minLength: 5, maxLength: 5 },
  )
  .map((specs) =>
    specs.map((spec, i) =>
      testRecord(`model-${i}`, {
        tags: spec.tags,
        interval: spec.interval,
        topic: `t_model_${i}`,
        ...(spec.tagQuery && i === 4 && { nodeType: 'TagQueryNode' }),
      }),
    ),
  );

const query: fc.Arbitrary<TagQuery> = fc.record({
  tags: fc.uniqueArray(fc.constantFrom(...TAGS, 'z'), { maxLength: 3 }),
  interval: fc.constantFrom(60, 3600),
  matchMode: fc.constantFrom('any' as const, 'all' as const),
});

/** Attach/release sequences: producers, roles and orphans as the model says. */
export async function checkRolesAgainstModel(
  create: () => Promise<NodeRepository>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const repo = await create();
      try {
        const nodes = Array.from({ length: 5 }, (_, i) => testRecord(`roles-${i}`));
        await repo.createNodes(nodes);
        const id = (k: number): string => (k < 5 ? nodes[k]!.nodeId : 'unknown-node');
        const active = new Set<string>();
        const uses = new Map<string, Set<string>>();
        const producer = new Map<string, string>();
        let now = 1_000;
        for (const s of steps) {
          now += 10;
          if (s.op === 'attach') {
            const known = s.nodes.filter((k) => k < 5).map(id);
            const got = await repo.attachStrategy(s.strategy, s.nodes.map(id), now);
            active.add(s.strategy);
            const used = uses.get(s.strategy) ?? new Set<string>();
            uses.set(s.strategy, used);
            for (const nodeId of known) {
              used.add(nodeId);
              if (!producer.has(nodeId)) producer.set(nodeId, s.strategy);
            }
            expect(new Map(got), JSON.stringify(s)).toEqual(new Map(known.map((n) => [n, producer.get(n)!])));
          } else {
            const released = await repo.releaseStrategy(s.strategy, now);
            const produced = active.has(s.strategy)
              ? [...producer].filter(([, p]) => p === s.strategy).map(([n]) => n)
              : [];
            for (const nodeId of produced) producer.delete(nodeId);
            active.delete(s.strategy);
            uses.delete(s.strategy);
            expect(released.sort(), JSON.stringify(s)).toEqual(produced.sort());
          }
          for (const strategy of STRATEGIES) {
            const expected = new Map(
              [...(active.has(strategy) ? (uses.get(strategy) ?? []) : [])].map((n) => [
                n,
                producer.get(n) === strategy ? 'producer' : 'consumer',
              ]),
            );
            expect(
              await repo.strategyRoles(strategy),
              `roles of ${strategy} after ${JSON.stringify(s)}`,
            ).toEqual(expected);
          }
          const used = new Set([...active].flatMap((s) => [...(uses.get(s) ?? [])]));
          const orphans = (await repo.listOrphanQueues()).map((q) => q.nodeId).sort();
          expect(orphans, `orphans after ${JSON.stringify(s)}`).toEqual(
            nodes
              .map((n) => n.nodeId)
              .filter((n) => !used.has(n))
              .sort(),
          );
        }
      } finally {
        await repo.close();
      }
    }),
    { numRuns },
  );
}

/** Tag queries over generated nodes: any = a tag in common, all = every query tag, same interval. */
export async function checkTagQueriesAgainstModel(
  create: () => Promise<NodeRepository>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(records, fc.array(query, { minLength: 1, maxLength: 6 }), async (stored, queries) => {
      const repo = await create();
      try {
        await repo.createNodes(stored);
        for (const q of queries) {
          const expected = stored
            .filter((r) => r.interval === q.interval && r.nodeType !== 'TagQueryNode' && q.tags.length > 0)
            .filter((r) =>
              q.matchMode === 'all'
                ? q.tags.every((t) => r.tags.includes(t))
                : q.tags.some((t) => r.tags.includes(t)),
            )
            .map((r) => r.topic)
            .sort();
          expect((await repo.getQueuesByTags(q)).sort(), JSON.stringify(q)).toEqual(expected);
        }
      } finally {
        await repo.close();
      }
    }),
    { numRuns },
  );
}

/**
 * Rounds of concurrent attaches and releases: after each round no node has two producers, and a
 * producer is an active strategy that uses the node.
 */
export async function checkConcurrentRoles(
  create: () => Promise<NodeRepository>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(step, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
      async (rounds) => {
        const repo = await create();
        try {
          const nodes = Array.from({ length: 5 }, (_, i) => testRecord(`concurrent-${i}`));
          await repo.createNodes(nodes);
          let now = 1_000;
          for (const round of rounds) {
            await Promise.all(
              round.map((s) =>
                s.op === 'attach'
                  ? repo.attachStrategy(
                      s.strategy,
                      s.nodes.filter((k) => k < 5).map((k) => nodes[k]!.nodeId),
                      (now += 1),
                    )
                  : repo.releaseStrategy(s.strategy, (now += 1)),
              ),
            );
            const producers = new Map<string, string[]>();
            for (const strategy of STRATEGIES) {
              for (const [nodeId, role] of await repo.strategyRoles(strategy)) {
                if (role === 'producer') producers.set(nodeId, [...(producers.get(nodeId) ?? []), strategy]);
              }
            }
            for (const [nodeId, by] of producers)
              expect(by, `producers of ${nodeId.slice(0, 8)}`).toHaveLength(1);
          }
        } finally {
          await repo.close();
        }
      },
    ),
    { numRuns },
  );
}
