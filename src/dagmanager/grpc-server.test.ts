import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ClientReadableStream,
  type GrpcObject,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainDag } from './dag.test-kit.js';
import { DagManager } from './dag-manager.js';
import { DAGMANAGER_PROTO_PATH } from './grpc-proto.js';
import { startGrpcServer, type GrpcServerHandle } from './grpc-server.js';
import { MemoryNodeRepository } from './memory-node-repository.js';
import { MemoryQueueAdmin } from './memory-queue-admin.js';

type AnyClient = Client & Record<string, (...args: unknown[]) => unknown>;
interface Chunk {
  queue_map: Record<string, string>;
  topic_map?: Record<string, string>;
  sentinel_id: string;
  buffer_nodes: unknown[];
  chunk_id?: number;
  total_chunks?: number;
}

function clientsFor(protoPath: string, port: number) {
  const definition = loadSync(protoPath, { keepCase: true, longs: Number, defaults: true });
  const pkg = (loadPackageDefinition(definition)['qmtl'] as GrpcObject)['dagmanager'] as GrpcObject;
  const make = (name: string): AnyClient =>
    new (pkg[name] as unknown as new (address: string, creds: unknown) => AnyClient)(
      `127.0.0.1:${port}`,
      credentials.createInsecure(),
    );
  return {
    diff: make('DiffService'),
    tags: make('TagQuery'),
    admin: make('AdminService'),
    health: make('HealthCheck'),
  };
}

const unaryCall = <T>(client: AnyClient, method: string, request: unknown): Promise<T> =>
  new Promise((resolve, reject) =>
    client[method]!(request, (error: Error | null, reply: T) => (error ? reject(error) : resolve(reply))),
  );

/** Reads a Diff stream, acking each chunk (unless `ack` is false); resolves with the chunks. */
function readDiff(
  clients: ReturnType<typeof clientsFor>,
  request: Record<string, unknown>,
  ack = true,
): Promise<Chunk[]> {
  return new Promise((resolve, reject) => {
    const chunks: Chunk[] = [];
    const stream = clients.diff['Diff']!(request) as ClientReadableStream<Chunk>;
    stream.on('data', (chunk: Chunk) => {
      chunks.push(chunk);
      if (ack)
        unaryCall(clients.diff, 'AckChunk', {
          sentinel_id: chunk.sentinel_id,
          chunk_id: chunk.chunk_id,
        }).catch(() => undefined);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve(chunks));
  });
}

describe('DAG Manager gRPC server', () => {
  let server: GrpcServerHandle;
  let manager: DagManager;
  let admin: MemoryQueueAdmin;
  let clients: ReturnType<typeof clientsFor>;

  beforeEach(async () => {
    admin = new MemoryQueueAdmin();
    manager = new DagManager({
      repo: MemoryNodeRepository.open(),
      admin,
      topics: { ensure: (spec) => admin.createTopic(spec) },
    });
    server = await startGrpcServer(manager, { port: 0, ackTimeoutMs: 300 });
    clients = clientsFor(DAGMANAGER_PROTO_PATH, server.port);
  });
  afterEach(async () => {
    for (const client of Object.values(clients)) client.close();
    await server.close(100);
  });

  it('streams a 250-node diff as 3 acknowledged chunks that merge into the full queue map', async () => {
    const dag = chainDag(250);
    const chunks = await readDiff(clients, { strategy_id: 's1', dag_json: JSON.stringify(dag) });
    expect(chunks.map((c) => [c.chunk_id, c.total_chunks, Object.keys(c.queue_map).length])).toEqual([
      [1, 3, 100],
      [2, 3, 100],
      [3, 3, 50],
    ]);
    const merged = Object.assign({}, ...chunks.map((c) => c.queue_map)) as Record<string, string>;
    expect(Object.keys(merged).sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
    expect(Object.keys(Object.assign({}, ...chunks.map((c) => c.topic_map)) as object)).toHaveLength(250);
    expect(chunks.every((c) => c.sentinel_id === 's1-sentinel')).toBe(true);
    expect(server.acks.openStreams).toBe(0);
  });

  it('accepts a 10,000-node DAG (a request over gRPC’s default 4 MB limit) and streams 100 chunks', async () => {
    const dag = JSON.stringify(chainDag(10_000));
    expect(dag.length).toBeGreaterThan(4 * 1024 * 1024);
    const chunks = await readDiff(clients, { strategy_id: 'big', dag_json: dag });
    expect(chunks).toHaveLength(100);
  }, 60_000);

  it('resumes a stream after the last acknowledged chunk', async () => {
    const dag = JSON.stringify(chainDag(250));
    await readDiff(clients, { strategy_id: 's1', dag_json: dag });
    const rest = await readDiff(clients, { strategy_id: 's1', dag_json: dag, resume_after_chunk: 2 });
    expect(rest.map((c) => c.chunk_id)).toEqual([3]);
    // Every chunk acknowledged already: nothing left to send.
    expect(await readDiff(clients, { strategy_id: 's1', dag_json: dag, resume_after_chunk: 3 })).toEqual([]);
    const past = (await readDiff(clients, { strategy_id: 's1', dag_json: dag, resume_after_chunk: 4 }).catch(
      (e: unknown) => e,
    )) as { code: number; details: string };
    expect(past.code).toBe(3);
    expect(past.details).toBe(
      'resume_after_chunk 4 is past the last chunk (3) of the diff for "s1-sentinel"',
    );
  });

  it('ends the stream of a client that stops acking (window 10) with DEADLINE_EXCEEDED and frees it', async () => {
    const dag = JSON.stringify(chainDag(1_200));
    const error = (await readDiff(clients, { strategy_id: 's1', dag_json: dag }, false).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      details: string;
    };
    expect(error.code).toBe(4);
    expect(error.details).toMatch(/not acknowledged within 300 ms/);
    expect(server.acks.openStreams).toBe(0);
  });

  it('serves a client built from the original proto (no acks needed up to 10 chunks)', async () => {
    const original = clientsFor(
      fileURLToPath(new URL('../../tests/fixtures/proto/original-dagmanager.proto', import.meta.url)),
      server.port,
    );
    try {
      const chunks = await readDiff(
        original,
        { strategy_id: 'old', dag_json: JSON.stringify(chainDag(120)) },
        false,
      );
      expect(chunks).toHaveLength(2);
      expect(Object.keys({ ...chunks[0]!.queue_map, ...chunks[1]!.queue_map })).toHaveLength(120);
      expect(chunks[0]).not.toHaveProperty('topic_map');
      const status = await unaryCall<Record<string, string>>(original.health, 'Status', {});
      expect(status).toEqual({ neo4j: 'ok', state: 'running' });
    } finally {
      for (const client of Object.values(original)) client.close();
    }
  });

  it("streams a DAG of more than 10 chunks to the original's clients, which ack with chunk_id 0", async () => {
    const original = clientsFor(
      fileURLToPath(new URL('../../tests/fixtures/proto/original-dagmanager.proto', import.meta.url)),
      server.port,
    );
    try {
      // The original proto's DiffChunk has no chunk_id, so readDiff acks each chunk with id 0.
      const chunks = await readDiff(original, {
        strategy_id: 'old',
        dag_json: JSON.stringify(chainDag(1_200)),
      });
      expect(chunks).toHaveLength(12);
      expect(new Set(chunks.flatMap((chunk) => Object.keys(chunk.queue_map))).size).toBe(1_200);
      // "{}" is the original's empty DAG: one empty chunk.
      const empty = await readDiff(original, { strategy_id: 'none', dag_json: '{}' });
      expect(empty).toEqual([{ queue_map: {}, sentinel_id: 'none-sentinel', buffer_nodes: [] }]);
    } finally {
      for (const client of Object.values(original)) client.close();
    }
  });

  it('rejects a bad DAG with INVALID_ARGUMENT listing every problem, storing nothing', async () => {
    const dag = chainDag(2);
    const bad = { nodes: [dag.nodes[1]!, { ...dag.nodes[1]!, node_id: 'x' }] };
    const error = (await readDiff(clients, { strategy_id: 's1', dag_json: JSON.stringify(bad) }).catch(
      (e: unknown) => e,
    )) as { code: number; details: string; metadata: { get(k: string): unknown[] } };
    expect(error.code).toBe(3);
    expect(error.details).toMatch(/unknown/i);
    expect(error.details.split('\n').length).toBeGreaterThan(2);
    expect(error.metadata.get('qmtl-code')[0]).toMatch(/^QMTL_/);
    expect(await admin.listTopics()).toEqual([]);
    const notJson = (await readDiff(clients, { strategy_id: 's1', dag_json: '{' }).catch(
      (e: unknown) => e,
    )) as {
      code: number;
    };
    expect(notJson.code).toBe(3);
  });

  it('answers tag queries, queue stats (filtered), cleanup, redo-diff and status', async () => {
    const dag = chainDag(3);
    await readDiff(clients, { strategy_id: 's1', dag_json: JSON.stringify(dag) });
    const { queues } = await unaryCall<{ queues: string[] }>(clients.tags, 'GetQueues', {
      tags: ['price'],
      interval: 60,
      match_mode: 'any',
    });
    expect(queues).toHaveLength(1);
    const stats = await unaryCall<{ sizes: Record<string, number> }>(clients.admin, 'GetQueueStats', {
      filter: '',
    });
    expect(Object.keys(stats.sizes)).toHaveLength(3);
    const filtered = await unaryCall<{ sizes: Record<string, number> }>(clients.admin, 'GetQueueStats', {
      filter: 'tag=price;interval=1m',
    });
    expect(Object.keys(filtered.sizes)).toEqual(queues);
    const redo = await unaryCall<{
      queue_map: Record<string, string>;
      sentinel_id: string;
      topic_map: object;
    }>(clients.admin, 'RedoDiff', { sentinel_id: 's1-sentinel', dag_json: JSON.stringify(dag) });
    expect(redo.sentinel_id).toBe('s1-sentinel');
    expect(Object.keys(redo.topic_map)).toHaveLength(3);
    // A mistyped sentinel is not taken for a new strategy (which would produce nodes nothing computes).
    const unknown = (await unaryCall(clients.admin, 'RedoDiff', {
      sentinel_id: 's2-sentinel',
      dag_json: JSON.stringify(dag),
    }).catch((e: unknown) => e)) as { code: number; details: string };
    expect(unknown.code).toBe(5);
    expect(unknown.details).toMatch(/sentinel "s2-sentinel" not found: .*no active strategy "s2"/);
    expect((await manager.repo.strategyRoles('s2')).size).toBe(0);
    // By sentinel id, as the original's `gc --sentinel` sends it.
    const cleanup = await unaryCall<{ released: string[] }>(clients.admin, 'Cleanup', {
      strategy_id: 's1-sentinel',
    });
    expect(cleanup.released.sort()).toEqual(dag.nodes.map((n) => n.node_id).sort());
    expect(await unaryCall(clients.health, 'Status', {})).toEqual({
      neo4j: 'ok',
      state: 'running',
      queue: 'ok',
    });
  });

  it('answers bytes that are not the request message with INVALID_ARGUMENT, not INTERNAL', async () => {
    const call = (bytes: Buffer) =>
      new Promise<{ code: number; details: string }>((resolve) =>
        clients.tags.makeUnaryRequest(
          '/qmtl.dagmanager.TagQuery/GetQueues',
          () => bytes,
          (reply: Buffer) => reply,
          {},
          (e) => resolve(e as unknown as { code: number; details: string }),
        ),
      );
    // Garbage: a tag of field 31 with wire type 7, which does not exist.
    expect(await call(Buffer.from([0xff, 0xff, 0xff]))).toMatchObject({
      code: 3,
      details: expect.stringMatching(
        /^\/qmtl\.dagmanager\.TagQuery\/GetQueues request is not a valid protobuf/,
      ),
    });
    // Field 2 (interval) sent as a string, as a client of another proto version might.
    expect((await call(Buffer.from([0x12, 0x02, 0x36, 0x30]))).code).toBe(3);
    const streamError = await new Promise<{ code: number; details: string }>((resolve) => {
      const stream = clients.diff.makeServerStreamRequest(
        '/qmtl.dagmanager.DiffService/Diff',
        () => Buffer.from([0x08]), // field 1 as a varint, cut off
        (reply: Buffer) => reply,
        {},
      );
      stream.on('error', (e) => resolve(e as unknown as { code: number; details: string }));
    });
    expect(streamError.code).toBe(3);
  });

  it('gives clear INVALID_ARGUMENT errors for bad input on every unary RPC', async () => {
    const calls: [AnyClient, string, unknown, RegExp][] = [
      [
        clients.tags,
        'GetQueues',
        { tags: [], interval: 0, match_mode: 'some' },
        /interval must be a positive integer.*match_mode/,
      ],
      [clients.admin, 'GetQueueStats', { filter: 'color=red' }, /unknown key "color"/],
      [clients.admin, 'Cleanup', { strategy_id: '' }, /strategy_id must be a non-empty string/],
      [
        clients.admin,
        'RedoDiff',
        { sentinel_id: '', dag_json: '{}' },
        /sentinel_id must be a non-empty string/,
      ],
    ];
    for (const [client, method, request, message] of calls) {
      const error = (await unaryCall(client, method, request).catch((e: unknown) => e)) as {
        code: number;
        details: string;
      };
      expect(error.code, method).toBe(3);
      expect(error.details).toMatch(message);
    }
  });
});
