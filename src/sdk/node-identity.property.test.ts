/**
 * Reliability plan, "content-hash dedup", over generated nodes: the key order and whitespace of a
 * DAG's JSON never change a node_id, any change to a semantic field always does, and two
 * strategies sharing a node get one topic for it. (The golden vectors are in src/dag/node-id.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../common/hash.js';
import { validateDag } from '../dag/validate-dag.js';
import { memoryDagManager } from '../gateway/gateway.test-kit.js';
import type { ComputeFn } from './node.js';
import { ProcessingNode, type ProcessingNodeOptions } from './processing-node.js';
import { StreamInput } from './stream-input.js';

/** A node type of its own: the same function, params and inputs under another type. */
class OtherNode extends ProcessingNode {
  static override readonly nodeType: string = 'OtherNode';
}

const COMPUTE_FNS: ComputeFn[] = [
  (view) => view.input().latest(),
  (view) => (view.input().latest() as number) * 2,
  (view) => view.input().length,
  (view) => view.params['k'] ?? null,
];

interface Spec {
  readonly sourceTags: string[];
  readonly interval: number;
  readonly period: number;
  readonly params: Record<string, unknown>;
  readonly fn: number;
  readonly schema: Record<string, unknown>;
  readonly type: new (options: ProcessingNodeOptions) => ProcessingNode;
}

const key = fc.string({ minLength: 1, maxLength: 6 });
const spec: fc.Arbitrary<Spec> = fc.record({
  sourceTags: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }),
  interval: fc.constantFrom(1, 60, 300, 3600, 86_400),
  period: fc.integer({ min: 1, max: 500 }),
  params: fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fn: fc.integer({ min: 0, max: COMPUTE_FNS.length - 1 }),
  schema: fc.dictionary(key, fc.constantFrom('number', 'string', 'bool'), { maxKeys: 2 }),
  type: fc.constant(ProcessingNode),
});

const FIXED: Spec = {
  sourceTags: ['BTC'],
  interval: 60,
  period: 5,
  params: {},
  fn: 0,
  schema: {},
  type: ProcessingNode,
};

function build(s: Spec): { source: StreamInput; node: ProcessingNode } {
  const source = new StreamInput({ tags: s.sourceTags, interval: s.interval });
  const node = new s.type({
    input: source,
    computeFn: COMPUTE_FNS[s.fn]!,
    interval: s.interval,
    period: s.period,
    params: s.params,
    schema: s.schema,
  });
  return { source, node };
}

/** mulberry32: a seeded shuffle, so fast-check can shrink and replay a failing key order. */
function shuffler(seed: number): <T>(items: T[]) => T[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return (items) => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  };
}

/** The value with every object's keys in a shuffled order, at every depth. */
function shuffledKeys(value: unknown, shuffle: <T>(items: T[]) => T[]): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffledKeys(item, shuffle));
  if (typeof value !== 'object' || value === null) return value;
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return Object.fromEntries(
    shuffle(Object.keys(value)).map((k) => [k, shuffledKeys((value as Record<string, unknown>)[k], shuffle)]),
  );
}

/** One change to a semantic field of a node, and the spec after it. */
const mutated: fc.Arbitrary<{ base: Spec; changed: Spec; what: string }> = spec.chain((base) =>
  fc.oneof(
    fc
      .tuple(key, fc.jsonValue({ maxDepth: 2 }))
      .filter(([k, v]) => canonicalJson(base.params[k] ?? null) !== canonicalJson(v) || !(k in base.params))
      .map(([k, v]) => ({
        base,
        changed: { ...base, params: { ...base.params, [k]: v } },
        what: `params.${k}`,
      })),
    fc
      .constantFrom(1, 60, 300, 3600, 86_400)
      .filter((i) => i !== base.interval)
      .map((interval) => ({ base, changed: { ...base, interval }, what: 'interval' })),
    fc
      .integer({ min: 1, max: 500 })
      .filter((p) => p !== base.period)
      .map((period) => ({ base, changed: { ...base, period }, what: 'period' })),
    fc
      .integer({ min: 0, max: COMPUTE_FNS.length - 1 })
      .filter((fn) => fn !== base.fn)
      .map((fn) => ({ base, changed: { ...base, fn }, what: 'compute function' })),
    key
      .filter((tag) => !base.sourceTags.includes(tag))
      .map((tag) => ({ base, changed: { ...base, sourceTags: [...base.sourceTags, tag] }, what: 'input' })),
    fc.constant({ base, changed: { ...base, type: OtherNode }, what: 'node type' }),
    fc
      .tuple(key, fc.constantFrom('number', 'string', 'bool'))
      .filter(([k, v]) => base.schema[k] !== v)
      .map(([k, v]) => ({ base, changed: { ...base, schema: { ...base.schema, [k]: v } }, what: 'schema' })),
  ),
);

describe('node identity over generated nodes', () => {
  it('does not depend on key order or whitespace (10,000 nodes)', () => {
    fc.assert(
      fc.property(spec, fc.integer(), fc.constantFrom(0, 1, 2, '\t'), (s, seed, indent) => {
        const { source, node } = build(s);
        const dag = { nodes: [source.toJSON(), node.toJSON()] };
        const text = JSON.stringify(shuffledKeys(dag, shuffler(seed)), null, indent);
        const { problems, dag: parsed } = validateDag(JSON.parse(text));
        expect(problems).toEqual([]);
        expect(parsed!.nodes.map((n) => n.node_id)).toEqual([source.nodeId, node.nodeId]);
        const reordered = build({
          ...s,
          params: shuffledKeys(s.params, shuffler(seed + 1)) as Spec['params'],
        });
        expect(reordered.node.nodeId).toBe(node.nodeId);
      }),
      { numRuns: 10_000 },
    );
  });

  it('keeps a "__proto__" param key as a key, on the wire and in the id (found by the test above)', () => {
    const params = JSON.parse('{"window": {"__proto__": 5}}') as Record<string, unknown>;
    const { source, node } = build({ ...FIXED, params });
    expect(node.nodeId).not.toBe(build({ ...FIXED, params: { window: {} } }).node.nodeId);
    const { problems } = validateDag(JSON.parse(JSON.stringify({ nodes: [source.toJSON(), node.toJSON()] })));
    expect(problems).toEqual([]);
  });

  it('changes with any semantic field (10,000 changes)', () => {
    fc.assert(
      fc.property(mutated, ({ base, changed, what }) => {
        expect(build(changed).node.nodeId, what).not.toBe(build(base).node.nodeId);
      }),
      { numRuns: 10_000 },
    );
  });

  it('gives a node shared by two strategies one topic (1,000 pairs)', async () => {
    const manager = memoryDagManager();
    await fc.assert(
      fc.asyncProperty(spec, async (s) => {
        const { source, node } = build(s);
        const leaf = (k: number): ProcessingNode =>
          new ProcessingNode({ input: node, computeFn: COMPUTE_FNS[0]!, params: { leaf: k } });
        const [a, b] = await Promise.all(
          [1, 2].map((k) =>
            manager.diff(
              `s-${k}-${Math.random()}`,
              JSON.stringify({ nodes: [source.toJSON(), node.toJSON(), leaf(k).toJSON()] }),
            ),
          ),
        );
        expect(a!.queueMap.get(node.nodeId)).toBe(b!.queueMap.get(node.nodeId));
        expect(a!.queueMap.get(source.nodeId)).toBe(b!.queueMap.get(source.nodeId));
        expect(a!.queueMap.get(leaf(1).nodeId)).not.toBe(b!.queueMap.get(leaf(2).nodeId));
      }),
      { numRuns: 1_000 },
    );
    await manager.close();
  }, 60_000);
});
