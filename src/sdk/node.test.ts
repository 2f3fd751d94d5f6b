import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../common/hash.js';
import { NULL_CODE_HASH, computeNodeId, objectHash } from '../dag/node-id.js';
import { Node } from './node.js';
import { ProcessingNode } from './processing-node.js';
import { SourceNode } from './source-node.js';
import { StreamInput } from './stream-input.js';

const price = () => new StreamInput({ tags: ['BTC'], interval: 60, period: 5 });
const double = (view: { input(k?: number): { latest(): number | null } }) => view.input().latest()! * 2;

describe('Node identity', () => {
  it('has a deterministic 64-hex NodeID built from type, code, config and schema hashes', () => {
    const node = new ProcessingNode({ input: price(), computeFn: double, interval: 60, period: 2 });
    expect(node.nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect(node.nodeId).toBe(
      new ProcessingNode({ input: price(), computeFn: double, interval: 60, period: 2 }).nodeId,
    );
    expect(node.codeHash).toBe(sha256Hex(double.toString().trim()));
    expect(node.configHash).toBe(objectHash(node.identityConfig()));
    expect(node.schemaHash).toBe(sha256Hex('{}'));
    expect(node.nodeId).toBe(
      computeNodeId({
        nodeType: 'ProcessingNode',
        codeHash: node.codeHash,
        configHash: node.configHash,
        schemaHash: node.schemaHash,
      }),
    );
  });

  it('uses sha256("null") as the code hash of a node without a function', () => {
    expect(price().codeHash).toBe(NULL_CODE_HASH);
  });

  it('changes the NodeID with params, interval, period, inputs and schema', () => {
    const base = { input: price(), computeFn: double, interval: 60, period: 2 };
    const id = new ProcessingNode(base).nodeId;
    expect(new ProcessingNode({ ...base, params: { k: 1 } }).nodeId).not.toBe(id);
    expect(new ProcessingNode({ ...base, interval: 120 }).nodeId).not.toBe(id);
    expect(new ProcessingNode({ ...base, period: 3 }).nodeId).not.toBe(id);
    expect(
      new ProcessingNode({ ...base, input: new StreamInput({ tags: ['ETH'], interval: 60 }) }).nodeId,
    ).not.toBe(id);
    expect(new ProcessingNode({ ...base, schema: { type: 'number' } }).nodeId).not.toBe(id);
    expect(new ProcessingNode({ ...base, name: 'renamed' }).nodeId).toBe(id);
  });

  it('does not see variables a compute function captures (use params instead)', () => {
    const make = (threshold: number) =>
      new ProcessingNode({
        input: price(),
        interval: 60,
        period: 1,
        computeFn: (view) => (view.input().latest()! > threshold ? 1 : 0),
      });
    expect(make(1).nodeId).toBe(make(2).nodeId);
    const withParams = (threshold: number) =>
      new ProcessingNode({
        input: price(),
        interval: 60,
        period: 1,
        params: { threshold },
        computeFn: (view) => (view.input().latest()! > view.params.threshold ? 1 : 0),
      });
    expect(withParams(1).nodeId).not.toBe(withParams(2).nodeId);
  });

  it('key order of params does not change the NodeID', () => {
    const a = new ProcessingNode({
      input: price(),
      computeFn: double,
      interval: 60,
      period: 1,
      params: { a: 1, b: { c: 2, d: 3 } },
    });
    const b = new ProcessingNode({
      input: price(),
      computeFn: double,
      interval: 60,
      period: 1,
      params: { b: { d: 3, c: 2 }, a: 1 },
    });
    expect(a.nodeId).toBe(b.nodeId);
  });

  it('addTag does not change the id of a processing node but does change a stream input', () => {
    const stream = price();
    const node = new ProcessingNode({ input: stream, computeFn: double, interval: 60, period: 1 });
    const nodeId = node.nodeId;
    node.addTag('x').addTag('x');
    expect(node.tags).toEqual(['x']);
    expect(node.nodeId).toBe(nodeId);
    const streamId = stream.nodeId;
    stream.addTag('spot');
    expect(stream.nodeId).not.toBe(streamId);
    expect(node.nodeId).not.toBe(nodeId); // its input changed
  });

  it('treats "1m" and 60 as the same interval', () => {
    expect(new StreamInput({ tags: ['a'], interval: '1m' }).nodeId).toBe(
      new StreamInput({ tags: ['a'], interval: 60 }).nodeId,
    );
  });

  it('serialises to DAG JSON with snake_case fields', () => {
    const stream = price();
    const node = new ProcessingNode({
      name: 'x2',
      input: stream,
      computeFn: double,
      interval: 60,
      period: 2,
      tags: ['t'],
    });
    expect(node.toJSON()).toMatchObject({
      node_id: node.nodeId,
      node_type: 'ProcessingNode',
      name: 'x2',
      interval: 60,
      period: 2,
      tags: ['t'],
      inputs: [stream.nodeId],
      code_hash: node.codeHash,
      config_hash: node.configHash,
      schema_hash: node.schemaHash,
      pre_warmup: true,
    });
  });
});

describe('Node validation', () => {
  it('rejects async and generator compute functions, whose results are not the value', () => {
    expect(() => new SourceNode({ computeFn: async (view) => await Promise.resolve(view.time) })).toThrow(
      /computeFn must be a synchronous function returning the bucket's value, got an async function/,
    );
    expect(
      () =>
        new SourceNode({
          computeFn: function* (view) {
            yield view.time;
          },
        }),
    ).toThrow(/got a generator function/);
  });

  it('rejects a compute function that does not take exactly one parameter', () => {
    expect(() => new SourceNode({ computeFn: () => 1 })).toThrow(/exactly one parameter.*declares 0/);
    expect(() => new SourceNode({ computeFn: ((a: unknown, b: unknown) => [a, b]) as never })).toThrow(
      /declares 2/,
    );
    expect(() => new SourceNode({ computeFn: (...args: unknown[]) => args })).toThrow(/declares 0/);
    expect(() => new SourceNode({ computeFn: 'x' as never })).toThrow(/computeFn must be a function/);
  });

  it('rejects zero, negative and malformed intervals and periods, naming the node', () => {
    expect(() => new SourceNode({ name: 'n', interval: 0 })).toThrow(
      /SourceNode "n": interval must be a positive integer/,
    );
    expect(() => new SourceNode({ interval: '5x' })).toThrow(/interval must look like/);
    expect(() => new SourceNode({ period: 0 })).toThrow(/period must be a positive integer/);
    expect(() => new SourceNode({ period: -3 })).toThrow(/got -3/);
  });

  it('requires at least one input for a processing node and rejects maps', () => {
    expect(() => new ProcessingNode({ input: [], computeFn: double })).toThrow(/needs at least one input/);
    expect(() => new ProcessingNode({ input: undefined as never, computeFn: double })).toThrow(
      /needs at least one input/,
    );
    expect(() => new ProcessingNode({ input: { a: price() } as never, computeFn: double })).toThrow(
      /maps and objects are not accepted/,
    );
    expect(() => new ProcessingNode({ input: [price(), 3] as never, computeFn: double })).toThrow(
      /input\[1\] must be a node/,
    );
  });

  it('rejects unknown options, bad names, tags and params', () => {
    expect(() => new Node({ compute: double } as never)).toThrow(/unknown option "compute"/);
    expect(() => new Node({ name: '' })).toThrow(/name must be a non-empty string/);
    expect(() => new Node({ tags: 'x' as never })).toThrow(/tags must be an array of strings/);
    expect(() => new Node({ params: { f: () => 1 } })).toThrow(/params must be JSON-compatible/);
    expect(() => new Node({ params: [1] as never })).toThrow(/params must be a plain object/);
    expect(() => new Node({ params: { x: Number.NaN } })).toThrow(/params must be JSON-compatible/);
    // A Map would hash as {} and collide with every other Map param.
    expect(() => new Node({ params: { m: new Map([[1, 2]]) } })).toThrow(
      /params must be JSON-compatible.*cannot encode a Map/,
    );
    expect(() => new Node(null as never)).toThrow(/options must be an object/);
    expect(() => new StreamInput(null as never)).toThrow(/StreamInput options must be an object, got null/);
  });

  it('passes a single input through when it has no compute function, and refuses several', () => {
    expect(() => new Node({ input: [price(), price()] })).toThrow(/at most one input/);
  });

  it('freezes params so a compute function cannot change its identity', () => {
    const node = new Node({ params: { nested: { k: 1 } } });
    expect(() => {
      (node.params as { nested: { k: number } }).nested.k = 2;
    }).toThrow(TypeError);
  });

  it('rejects a source node with an input', () => {
    expect(() => new SourceNode({ input: price() } as never)).toThrow(/takes no input/);
  });
});
