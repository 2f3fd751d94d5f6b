import { describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { sha256Hex } from '../common/hash.js';
import { NULL_CODE_HASH, computeNodeId, objectHash } from './node-id.js';
import { assertValidDag, validateDag } from './validate-dag.js';

/** A node on the wire, as a test builds it (fields may hold invalid values on purpose). */
type WireNode = Record<string, unknown> & { node_id: string; name: string; inputs: string[] };

interface NodeOptions {
  readonly nodeType?: string;
  readonly inputs?: string[];
  readonly interval?: number | string;
  readonly period?: number;
  /** Put the identity config on the node, so the validator can check `config_hash` against it. */
  readonly withConfig?: boolean;
  /** Take the SHA3-256 fallback id instead of the sha256 one. */
  readonly sha3?: boolean;
}

/** Builds a valid node whose hashes and id are computed as SPEC §2.3 says. */
function makeNode(name: string, options: NodeOptions = {}): WireNode {
  const nodeType = options.nodeType ?? 'ProcessingNode';
  const inputs = options.inputs ?? [];
  const interval = options.interval ?? 60;
  const period = options.period ?? 1;
  const config = { interval, period, inputs, params: { label: name } };
  const identity = {
    nodeType,
    codeHash: NULL_CODE_HASH,
    configHash: objectHash(config),
    schemaHash: objectHash({}),
  };
  const node: WireNode = {
    node_id: computeNodeId(identity, () => options.sha3 === true),
    node_type: nodeType,
    name,
    interval,
    period,
    tags: [],
    inputs,
    code_hash: identity.codeHash,
    config_hash: identity.configHash,
    schema_hash: identity.schemaHash,
    pre_warmup: true,
  };
  if (options.withConfig === true) node['config'] = config;
  return node;
}

/** The ids of the nodes of a validated DAG, in the order returned. */
function idsOf(dag: { nodes: { node_id: string }[] } | null): string[] {
  return dag?.nodes.map((n) => n.node_id) ?? [];
}

const UNKNOWN_ID = 'f'.repeat(64);

describe('validateDag', () => {
  describe('a valid DAG', () => {
    it('returns the nodes in topological order and no problems', () => {
      const source = makeNode('source');
      const left = makeNode('left', { inputs: [source.node_id] });
      const right = makeNode('right', { inputs: [source.node_id] });
      const sink = makeNode('sink', { inputs: [left.node_id, right.node_id] });
      const { problems, dag } = validateDag({ nodes: [sink, right, left, source] });
      expect(problems).toEqual([]);
      expect(idsOf(dag)).toEqual([source.node_id, right.node_id, left.node_id, sink.node_id]);
    });

    it('accepts an empty DAG', () => {
      expect(validateDag({ nodes: [] })).toEqual({ problems: [], dag: { nodes: [] } });
    });

    it('does not reorder the nodes of its input', () => {
      const source = makeNode('source');
      const sink = makeNode('sink', { inputs: [source.node_id] });
      const input = { nodes: [sink, source] };
      validateDag(input);
      expect(input.nodes).toEqual([sink, source]);
    });

    it('fills in defaults for optional fields', () => {
      const bare: Record<string, unknown> = makeNode('bare');
      for (const field of ['name', 'tags', 'pre_warmup', 'interval', 'period']) delete bare[field];
      const { problems, dag } = validateDag({ nodes: [bare] });
      expect(problems).toEqual([]);
      expect(dag?.nodes[0]).toMatchObject({
        name: null,
        tags: [],
        pre_warmup: true,
        interval: null,
        period: null,
      });
    });

    it('normalises interval "1m" to 60 seconds', () => {
      const { problems, dag } = validateDag({ nodes: [makeNode('minutely', { interval: '1m' })] });
      expect(problems).toEqual([]);
      expect(dag?.nodes[0]?.interval).toBe(60);
    });

    it('accepts the SHA3-256 fallback id', () => {
      const node = makeNode('collided', { sha3: true });
      expect(node.node_id).not.toBe(makeNode('collided').node_id);
      const { problems, dag } = validateDag({ nodes: [node] });
      expect(problems).toEqual([]);
      expect(idsOf(dag)).toEqual([node.node_id]);
    });

    it('accepts a config that matches config_hash and inputs', () => {
      const source = makeNode('source');
      const node = makeNode('sma', { inputs: [source.node_id], withConfig: true });
      expect(validateDag({ nodes: [source, node] }).problems).toEqual([]);
    });

    it('accepts a TagQueryNode with match_mode "all"', () => {
      const query = {
        ...makeNode('query', { nodeType: 'TagQueryNode' }),
        query_tags: ['btc', 'price'],
        match_mode: 'all',
      };
      expect(validateDag({ nodes: [query] }).problems).toEqual([]);
    });

    it('preserves unknown fields on nodes and on the DAG', () => {
      const node = { ...makeNode('custom'), vendor_hint: { priority: 3 }, notes: 'keep me' };
      const { dag } = validateDag({ nodes: [node], schema_version: 2, meta: { origin: 'test' } });
      expect(dag).toMatchObject({ schema_version: 2, meta: { origin: 'test' } });
      expect(dag?.nodes[0]).toMatchObject({ vendor_hint: { priority: 3 }, notes: 'keep me' });
    });
  });

  describe('the DAG shape', () => {
    it.each([
      ['null', null],
      ['a string', 'nodes'],
      ['an array', []],
      ['an object without nodes', {}],
      ['an object whose nodes is not an array', { nodes: { a: 1 } }],
    ])('rejects %s with QMTL_INVALID_DAG', (_label, input) => {
      const { problems, dag } = validateDag(input);
      expect(dag).toBeNull();
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.InvalidDag);
      expect(problems[0]?.message).toContain('"nodes" array');
    });

    it('reports every node that is not an object, by position', () => {
      const { problems } = validateDag({ nodes: [makeNode('ok'), null, 5, 'x', []] });
      expect(problems.map((p) => p.code)).toEqual(Array<string>(4).fill(ErrorCode.InvalidNode));
      expect(problems.map((p) => p.message.split(' must')[0])).toEqual([
        'nodes[1]',
        'nodes[2]',
        'nodes[3]',
        'nodes[4]',
      ]);
    });

    it('rejects more nodes than maxNodes', () => {
      const nodes = [makeNode('a'), makeNode('b'), makeNode('c')];
      const { problems, dag } = validateDag({ nodes }, { maxNodes: 2 });
      expect(dag).toBeNull();
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.InvalidDag);
      expect(problems[0]?.message).toContain('3 nodes');
      expect(problems[0]?.message).toContain('limit of 2');
    });

    it('accepts exactly maxNodes nodes', () => {
      const nodes = [makeNode('a'), makeNode('b')];
      expect(validateDag({ nodes }, { maxNodes: 2 }).problems).toEqual([]);
    });
  });

  describe('node fields', () => {
    it.each([
      [
        'a numeric node_id',
        { node_id: 42 },
        ErrorCode.InvalidNode,
        'node_id must be a non-empty string, got 42',
      ],
      [
        'an empty node_id',
        { node_id: '' },
        ErrorCode.InvalidNode,
        'node_id must be a non-empty string, got ""',
      ],
      [
        'an empty node_type',
        { node_type: '' },
        ErrorCode.InvalidNode,
        'node_type must be a non-empty string',
      ],
      [
        'a numeric node_type',
        { node_type: 7 },
        ErrorCode.InvalidNode,
        'node_type must be a non-empty string, got 7',
      ],
      [
        'an upper-case code_hash',
        { code_hash: NULL_CODE_HASH.toUpperCase() },
        ErrorCode.InvalidNode,
        'code_hash must be 64 lowercase hex',
      ],
      [
        'a 63-character config_hash',
        { config_hash: 'a'.repeat(63) },
        ErrorCode.InvalidNode,
        'config_hash must be 64 lowercase hex',
      ],
      [
        'a missing schema_hash',
        { schema_hash: undefined },
        ErrorCode.InvalidNode,
        'schema_hash must be 64 lowercase hex characters, got undefined',
      ],
      ['a numeric name', { name: 5 }, ErrorCode.InvalidNode, 'name must be a string or null, got 5'],
      [
        'tags that are a string',
        { tags: 'momentum' },
        ErrorCode.InvalidNode,
        'tags must be an array of strings, got "momentum"',
      ],
      ['tags with a number', { tags: ['a', 1] }, ErrorCode.InvalidNode, 'tags must be an array of strings'],
      [
        '101 tags',
        { tags: Array.from({ length: 101 }, (_, i) => `t${i}`) },
        ErrorCode.InvalidNode,
        'tags has 101 tags, more than the limit of 100',
      ],
      [
        'a 257-character tag',
        { tags: ['ok', 'x'.repeat(257)] },
        ErrorCode.InvalidNode,
        'tags has a tag of 257 characters, more than the limit of 256',
      ],
      [
        'inputs that are a string',
        { inputs: 'abc' },
        ErrorCode.InvalidNode,
        'inputs must be an array of strings, got "abc"',
      ],
      [
        'inputs with a number',
        { inputs: [1] },
        ErrorCode.InvalidNode,
        'inputs must be an array of strings, got [1]',
      ],
      [
        'a string pre_warmup',
        { pre_warmup: 'yes' },
        ErrorCode.InvalidNode,
        'pre_warmup must be a boolean, got "yes"',
      ],
      ['a string config', { config: 'x' }, ErrorCode.InvalidNode, 'config must be an object, got "x"'],
      ['interval "bad"', { interval: 'bad' }, ErrorCode.InvalidInterval, 'got "bad"'],
      ['interval 0', { interval: 0 }, ErrorCode.InvalidInterval, 'got 0'],
      ['period 0', { period: 0 }, ErrorCode.InvalidPeriod, 'got 0'],
      ['period "30m"', { period: '30m' }, ErrorCode.InvalidPeriod, 'got "30m"'],
    ])('reports %s', (_label, patch, code, fragment) => {
      const { problems, dag } = validateDag({ nodes: [{ ...makeNode('x'), ...patch }] });
      expect(dag).toBeNull();
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(code);
      expect(problems[0]?.message).toContain(fragment);
    });

    it('names a node by its name and tags the problem with its id', () => {
      const node = { ...makeNode('momentum'), interval: 'bad' };
      const [problem] = validateDag({ nodes: [node] }).problems;
      expect(problem?.message).toMatch(/^node "momentum": interval /);
      expect(problem?.nodeId).toBe(node.node_id);
    });

    it('names a node without a usable id by its position', () => {
      const [problem] = validateDag({ nodes: [makeNode('a'), { ...makeNode('b'), node_id: 42 }] }).problems;
      expect(problem?.message).toMatch(/^nodes\[1\]: node_id /);
      expect(problem).not.toHaveProperty('nodeId');
    });

    it('reports every bad field of one node', () => {
      const node = { ...makeNode('x'), node_type: '', tags: 'a', interval: 'bad', period: 0 };
      const codes = validateDag({ nodes: [node] }).problems.map((p) => p.code);
      expect(codes).toEqual([
        ErrorCode.InvalidNode,
        ErrorCode.InvalidInterval,
        ErrorCode.InvalidPeriod,
        ErrorCode.InvalidNode,
      ]);
    });

    it('reports a TagQueryNode with an unknown match_mode', () => {
      const query = {
        ...makeNode('query', { nodeType: 'TagQueryNode' }),
        query_tags: ['btc'],
        match_mode: 'some',
      };
      const { problems } = validateDag({ nodes: [query] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.InvalidNode);
      expect(problems[0]?.message).toContain('match_mode must be "any" or "all", got "some"');
    });

    it('reports a TagQueryNode whose query_tags are not strings', () => {
      const query = {
        ...makeNode('query', { nodeType: 'TagQueryNode' }),
        query_tags: 'btc',
        match_mode: 'any',
      };
      const { problems } = validateDag({ nodes: [query] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.message).toContain('query_tags must be an array of strings');
    });
  });

  describe('node identity', () => {
    it('reports a node_id that does not match the identity fields', () => {
      const node = { ...makeNode('x'), node_id: sha256Hex('something else') };
      const { problems } = validateDag({ nodes: [node] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.NodeIdMismatch);
      expect(problems[0]?.message).toContain(`node_id "${node.node_id}" does not match`);
    });

    it('reports a changed config_hash whose node_id was not recomputed', () => {
      const node = { ...makeNode('x'), config_hash: objectHash({ tampered: true }) };
      const { problems } = validateDag({ nodes: [node] });
      expect(problems.map((p) => p.code)).toEqual([ErrorCode.NodeIdMismatch]);
    });

    it('reports a config whose canonical JSON does not hash to config_hash', () => {
      const node = makeNode('x', { withConfig: true });
      const tampered = { ...node, config: { ...(node['config'] as Record<string, unknown>), period: 2 } };
      const { problems } = validateDag({ nodes: [tampered] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.NodeIdMismatch);
      expect(problems[0]?.message).toContain('config_hash does not match');
    });

    it('reports inputs that differ from the inputs in its config', () => {
      const first = makeNode('first');
      const second = makeNode('second');
      const node = makeNode('pair', { inputs: [first.node_id, second.node_id], withConfig: true });
      const swapped = { ...node, inputs: [second.node_id, first.node_id] };
      const { problems } = validateDag({ nodes: [first, second, swapped] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.NodeIdMismatch);
      expect(problems[0]?.message).toContain('differ from the inputs in its config');
    });

    it('reports a config that cannot be hashed', () => {
      const node = { ...makeNode('x'), config: { window: NaN } };
      const { problems } = validateDag({ nodes: [node] });
      expect(problems.map((p) => p.code)).toEqual([ErrorCode.InvalidNode]);
      expect(problems[0]?.message).toContain('config cannot be hashed');
    });

    it('skips identity checks when verifyNodeIds is false', () => {
      const custom = { ...makeNode('custom'), node_id: 'custom-id' };
      const configured = makeNode('configured', { inputs: ['custom-id'], withConfig: true });
      const tampered = { ...configured, config: { period: 99 } };
      const { problems, dag } = validateDag({ nodes: [tampered, custom] }, { verifyNodeIds: false });
      expect(problems).toEqual([]);
      expect(idsOf(dag)).toEqual(['custom-id', configured.node_id]);
    });
  });

  describe('references', () => {
    it('reports a duplicate node id', () => {
      const node = makeNode('twice');
      const { problems } = validateDag({ nodes: [node, { ...node }] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe(ErrorCode.DuplicateNodeId);
      expect(problems[0]?.code).toBe('QMTL_DUPLICATE_NODE_ID');
      expect(problems[0]?.nodeId).toBe(node.node_id);
    });

    it('reports an unknown input and quotes its id', () => {
      const node = makeNode('orphan', { inputs: [UNKNOWN_ID] });
      const { problems } = validateDag({ nodes: [node] });
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe('QMTL_UNKNOWN_INPUT');
      expect(problems[0]?.message).toBe(`node "orphan" references unknown input "${UNKNOWN_ID}"`);
      expect(problems[0]?.nodeId).toBe(node.node_id);
    });

    it('reports a cycle with the path of node names', () => {
      const [a, b, c] = [makeNode('a'), makeNode('b'), makeNode('c')];
      // Inputs are not part of these nodes' config hashes, so a cycle can still carry valid ids.
      const nodes = [
        { ...a, inputs: [c.node_id] },
        { ...b, inputs: [a.node_id] },
        { ...c, inputs: [b.node_id] },
      ];
      const { problems, dag } = validateDag({ nodes });
      expect(dag).toBeNull();
      expect(problems).toHaveLength(1);
      expect(problems[0]?.code).toBe('QMTL_DAG_CYCLE');
      expect(problems[0]?.message).toContain('node "a" -> node "b" -> node "c" -> node "a"');
      expect(problems[0]?.nodeId).toBe(a.node_id);
    });

    it('reports a self-loop as a cycle', () => {
      const node = makeNode('loop');
      const { problems } = validateDag({ nodes: [{ ...node, inputs: [node.node_id] }] });
      expect(problems.map((p) => p.code)).toEqual([ErrorCode.DagCycle]);
      expect(problems[0]?.message).toContain('node "loop" -> node "loop"');
    });
  });

  describe('several problems', () => {
    it('reports all of them at once', () => {
      const badInterval = { ...makeNode('bad-interval'), interval: 'bad' };
      const twice = makeNode('twice');
      const orphan = makeNode('orphan', { inputs: [UNKNOWN_ID] });
      const { problems, dag } = validateDag({ nodes: [badInterval, twice, twice, orphan] });
      expect(dag).toBeNull();
      expect(problems.map((p) => p.code)).toEqual([
        ErrorCode.InvalidInterval,
        ErrorCode.DuplicateNodeId,
        ErrorCode.UnknownInput,
      ]);
    });

    it('does not report an input as unknown when the input node is present but invalid', () => {
      const source = { ...makeNode('source'), interval: 'bad' };
      const child = makeNode('child', { inputs: [source.node_id] });
      const { problems } = validateDag({ nodes: [source, child] });
      expect(problems.map((p) => p.code)).toEqual([ErrorCode.InvalidInterval]);
    });

    it('reports a cycle together with problems elsewhere', () => {
      const [x, y] = [makeNode('x'), makeNode('y')];
      const broken = { ...makeNode('broken'), period: 0 };
      const nodes = [broken, { ...x, inputs: [y.node_id] }, { ...y, inputs: [x.node_id] }];
      const codes = validateDag({ nodes }).problems.map((p) => p.code);
      expect(codes).toEqual([ErrorCode.InvalidPeriod, ErrorCode.DagCycle]);
    });
  });
});

describe('assertValidDag', () => {
  it('returns the sorted DAG when it is valid', () => {
    const source = makeNode('source');
    const sink = makeNode('sink', { inputs: [source.node_id] });
    expect(idsOf(assertValidDag({ nodes: [sink, source] }))).toEqual([source.node_id, sink.node_id]);
  });

  it('throws one QmtlError listing every problem', () => {
    const input = {
      nodes: [{ ...makeNode('bad-interval'), interval: 0 }, makeNode('orphan', { inputs: [UNKNOWN_ID] })],
    };
    const { problems } = validateDag(input);
    expect(problems).toHaveLength(2);
    let thrown: unknown;
    try {
      assertValidDag(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(QmtlError);
    const error = thrown as QmtlError;
    expect(error.code).toBe(ErrorCode.InvalidInterval);
    expect(error.problems).toEqual(problems);
    for (const problem of problems) expect(error.message).toContain(problem.message);
  });
});
