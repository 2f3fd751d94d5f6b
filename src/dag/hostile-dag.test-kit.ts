/**
 * Generated hostile DAGs for property tests (reliability plan, "malformed DAG"): the JSON text of
 * a DAG that no service may accept, built by breaking a valid DAG in one of many ways: wrong
 * types in every field, identity fields that do not match, unknown inputs, duplicates, cycles,
 * NaN and Infinity in the text, truncated or garbage text, and deep nesting.
 */
import fc from 'fast-check';
import { chainDag } from '../dagmanager/dag.test-kit.js';
import type { DagJson, NodeJson } from './node-json.js';

/** A generated hostile DAG: its text, and what was broken (for the failure message). */
export interface HostileDag {
  readonly text: string;
  readonly why: string;
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const shallowJson = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
);
const notString = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  shallowJson.filter((v) => typeof v !== 'string'),
);
const notStringArray = fc.oneof(
  shallowJson.filter((v) => !Array.isArray(v)),
  fc.array(
    shallowJson.filter((v) => typeof v !== 'string'),
    { minLength: 1, maxLength: 3 },
  ),
);
const badCount = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ min: 0.01, max: 1e6, noNaN: true }).filter((v) => !Number.isInteger(v)),
  fc.boolean(),
  fc.constantFrom('', 'soon', '5 minutes', '-5m', '0s', 'm5', '1.5'),
  fc.array(fc.integer({ min: 1 }), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }),
);

/** For each node field, values that make a node invalid (for an SDK-style node of chainDag). */
const BAD_FIELD_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  node_id: fc.oneof(notString, fc.constant(''), hex64),
  node_type: fc.oneof(
    notString,
    fc.constant(''),
    fc.string({ minLength: 1, maxLength: 12 }).filter((t) => t !== 'StreamInput' && t !== 'ProcessingNode'),
  ),
  name: shallowJson.filter((v) => typeof v !== 'string'),
  interval: badCount,
  period: badCount,
  tags: notStringArray.filter((v) => v !== null),
  inputs: fc.oneof(
    notStringArray.filter((v) => v !== null),
    fc.array(hex64, { minLength: 1, maxLength: 2 }),
  ),
  code_hash: fc.oneof(notString, fc.string({ maxLength: 70 }), hex64),
  config_hash: fc.oneof(notString, fc.string({ maxLength: 70 }), hex64),
  schema_hash: fc.oneof(notString, fc.string({ maxLength: 70 }), hex64),
  pre_warmup: shallowJson.filter((v) => typeof v !== 'boolean'),
  config: fc.oneof(
    fc.constant(null),
    shallowJson.filter((v) => typeof v !== 'object' || Array.isArray(v)),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { minKeys: 1, maxKeys: 3 }),
  ),
};

/** A fresh copy of the valid DAG every hostile DAG is made from (3 nodes, 60 s bars). */
export function baseDag(): DagJson {
  return chainDag(3, 'base');
}

const nodeIndex = fc.integer({ min: 0, max: 2 });

/** One node field set to an invalid value. */
const badField: fc.Arbitrary<HostileDag> = fc
  .constantFrom(...Object.keys(BAD_FIELD_VALUES))
  .chain((field) => fc.tuple(fc.constant(field), nodeIndex, BAD_FIELD_VALUES[field]!))
  .map(([field, index, value]) => {
    const dag = baseDag();
    (dag.nodes[index] as unknown as Record<string, unknown>)[field] = value;
    return { text: JSON.stringify(dag), why: `nodes[${index}].${field} = ${JSON.stringify(value)}` };
  });

/** The graph broken: a duplicate node, a cycle, a missing upstream, nodes that are not objects. */
const badStructure: fc.Arbitrary<HostileDag> = fc.oneof(
  nodeIndex.map((index) => {
    const dag = baseDag();
    dag.nodes.push({ ...dag.nodes[index]! });
    return { text: JSON.stringify(dag), why: `node ${index} twice` };
  }),
  fc.constantFrom(0, 1).map((from) => {
    const dag = baseDag();
    dag.nodes[from]!.inputs = [dag.nodes[2]!.node_id];
    return { text: JSON.stringify(dag), why: `cycle through node ${from}` };
  }),
  fc.constantFrom(0, 1).map((index) => {
    const dag = baseDag();
    dag.nodes.splice(index, 1);
    return { text: JSON.stringify(dag), why: `upstream ${index} missing` };
  }),
  fc
    .tuple(
      nodeIndex,
      shallowJson.filter((v) => typeof v !== 'object' || Array.isArray(v)),
    )
    .map(([index, value]) => {
      const dag = baseDag() as unknown as { nodes: unknown[] };
      dag.nodes[index] = value;
      return { text: JSON.stringify(dag), why: `nodes[${index}] = ${JSON.stringify(value)}` };
    }),
  fc
    .oneof(notString, fc.string({ maxLength: 8 }))
    // Not undefined: `{}` is the original's empty DAG, which the DAG Manager accepts.
    .filter((value) => !Array.isArray(value) && value !== undefined)
    .map((value) => ({
      text: JSON.stringify({ nodes: value }),
      why: `nodes = ${JSON.stringify(value)}`,
    })),
  shallowJson
    .filter((v) => typeof v !== 'object' || Array.isArray(v))
    .map((value) => ({ text: JSON.stringify(value), why: `the DAG is ${JSON.stringify(value)}` })),
);

/** The text broken: NaN or Infinity for a number, truncation, garbage, deep nesting. */
const badText: fc.Arbitrary<HostileDag> = fc.oneof(
  fc
    .tuple(fc.nat(), fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '0x10'))
    .map(([k, literal]) => {
      const text = JSON.stringify(baseDag());
      const numbers = [...text.matchAll(/(?<=:)\d+(?=[,}])/g)];
      const target = numbers[k % numbers.length]!;
      return {
        text: text.slice(0, target.index) + literal + text.slice(target.index + target[0].length),
        why: `a number replaced by ${literal}`,
      };
    }),
  fc.nat().map((k) => {
    const text = JSON.stringify(baseDag());
    return { text: text.slice(0, k % text.length), why: `truncated at ${k % text.length}` };
  }),
  fc.string({ maxLength: 40 }).map((text) => ({ text, why: `garbage ${JSON.stringify(text)}` })),
  fc.integer({ min: 1_000, max: 100_000 }).map((depth) => {
    const dag = baseDag();
    const node = JSON.stringify(dag.nodes[0]).slice(0, -1);
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    return {
      text: `{"nodes":[${node},"config":${nested}},${dag.nodes
        .slice(1)
        .map((n: NodeJson) => JSON.stringify(n))
        .join(',')}]}`,
      why: `config nested ${depth} deep`,
    };
  }),
);

/** Any hostile DAG text. */
export const hostileDag: fc.Arbitrary<HostileDag> = fc.oneof(
  { weight: 6, arbitrary: badField },
  { weight: 2, arbitrary: badStructure },
  { weight: 2, arbitrary: badText },
);
