import type { Driver, EagerResult, RecordShape } from 'neo4j-driver';
import { ErrorCode, QmtlError } from '../common/errors.js';
import {
  ATTACH_STRATEGY,
  BUFFERING_NODES,
  CLEAR_BUFFERING,
  CREATE_NODES,
  ADD_PENDING_WEIGHT,
  DROP_QUEUE,
  EXPIRE_PENDING_WEIGHTS,
  GET_LINEAGES,
  GET_NODES,
  GET_SENTINEL,
  LOCK_PENDING_WEIGHTS,
  NODE_BY_TOPIC,
  ORPHAN_QUEUES,
  QUEUES_MATCHING_ALL_TAGS,
  QUEUES_MATCHING_ANY_TAG,
  RELEASE_STRATEGY,
  SET_SENTINEL_WEIGHT,
  STAMP_ORPHANS,
  STRATEGY_ROLES,
  TAKEN_TOPICS,
  UPSERT_SENTINEL,
  nodeRow,
  toNodeRecord,
  type IntegerEncoder,
  type StoredNode,
} from './neo4j-cypher.js';
import { applySchema, readSchema } from './neo4j-schema.js';
import type {
  NewSentinel,
  NodeRecord,
  NodeRole,
  OrphanQueue,
  SentinelRecord,
  TagQuery,
  TopicKind,
} from './node-record.js';
import type {
  LineageKey,
  NodeRepository,
  PendingWeightBounds,
  ProducerMap,
  SentinelWeightOutcome,
} from './node-repository.js';

/** Options of {@link Neo4jNodeRepository.connect}. */
export interface Neo4jNodeRepositoryOptions {
  /** Bolt URI, e.g. `bolt://127.0.0.1:7687` (or `neo4j://…` for a cluster). */
  readonly uri: string;
  readonly user: string;
  readonly password: string;
  /** Database name; the server's default database when omitted. */
  readonly database?: string;
  /** TCP connect timeout in ms. Default 5000. */
  readonly connectionTimeoutMs?: number;
  /** How long {@link Neo4jNodeRepository.health} waits for `RETURN 1`, in ms. Default 2000. */
  readonly healthTimeoutMs?: number;
  /**
   * How long one call retries transient failures (deadlocks, a lost connection) before it fails,
   * in ms. Default 10 000: long enough for deadlock retries under load, short enough that a
   * Neo4j outage reaches a diff's client as `UNAVAILABLE` before its 30 s deadline (the driver's
   * own default, 30 s, made clients see only "deadline exceeded").
   */
  readonly maxRetryTimeMs?: number;
}

type Routing = 'READ' | 'WRITE';

/** Runs one statement inside {@link Neo4jNodeRepository}'s `transaction` and returns its rows. */
type StatementRunner = <Row extends RecordShape = RecordShape>(
  cypher: string,
  parameters: Record<string, unknown>,
) => Promise<Row[]>;

/** How many times a write runs in all when it keeps losing uniqueness races (see {@link CREATE_NODES}). */
const CONSTRAINT_RACE_ATTEMPTS = 3;

/**
 * The {@link NodeRepository} over Neo4j 5 (SPEC §5). `neo4j-driver` is loaded on first use, so
 * importing this module costs nothing in the embedded mode. Each call is one parameterised
 * statement in one transaction (retried by the driver on transient errors such as deadlocks),
 * except `releaseStrategy`, two statements in one, and `setSentinelWeight` for a sentinel not
 * stored yet, which then takes the pending-weight gate and adds it in a second transaction; the
 * Cypher and the graph model are documented in `neo4j-cypher.ts`.
 *
 * @example
 * const repo = await Neo4jNodeRepository.connect({ uri: 'bolt://127.0.0.1:7687', user: 'neo4j', password: 'secret' });
 * const stored = await repo.getNodes([nodeId]);
 * await repo.close();
 */
export class Neo4jNodeRepository implements NodeRepository {
  private readonly driver: Driver;
  private readonly options: Neo4jNodeRepositoryOptions;
  private readonly integer: IntegerEncoder;

  private constructor(driver: Driver, options: Neo4jNodeRepositoryOptions, integer: IntegerEncoder) {
    this.driver = driver;
    this.options = options;
    this.integer = integer;
  }

  /**
   * A repository whose driver has not contacted the server yet; the schema is not applied.
   * Services use {@link connect}; this is for probes that must start while Neo4j is down.
   */
  static async open(options: Neo4jNodeRepositoryOptions): Promise<Neo4jNodeRepository> {
    const neo4j = await import('neo4j-driver');
    const driver = neo4j.driver(options.uri, neo4j.auth.basic(options.user, options.password), {
      // Epoch milliseconds fit a double exactly; no Integer objects reach callers.
      disableLosslessIntegers: true,
      // Results are bounded by the request (ids, topics), so pull them in one batch.
      fetchSize: -1,
      connectionTimeout: options.connectionTimeoutMs ?? 5000,
      maxTransactionRetryTime: options.maxRetryTimeMs ?? 10_000,
      userAgent: 'qmtl-dagmanager',
    });
    const integer: IntegerEncoder = (value) =>
      value !== null && Number.isSafeInteger(value) ? neo4j.int(value) : value;
    return new Neo4jNodeRepository(driver, options, integer);
  }

  /**
   * Connects, verifies the server answers and applies the schema (idempotent; see
   * `neo4j-schema.ts`). @throws QmtlError `QMTL_UNAVAILABLE` when the server cannot be reached
   * or refuses the schema.
   */
  static async connect(
    options: Neo4jNodeRepositoryOptions,
    { applySchema: apply = true }: { readonly applySchema?: boolean } = {},
  ): Promise<Neo4jNodeRepository> {
    const repo = await Neo4jNodeRepository.open(options);
    try {
      await repo.driver.verifyConnectivity(repo.databaseConfig());
      if (apply) await applySchema(repo.driver, options.database);
    } catch (error) {
      await repo.close();
      throw repo.failure(apply ? 'connecting and applying the schema' : 'connecting', error);
    }
    return repo;
  }

  async getNodes(nodeIds: readonly string[]): Promise<Map<string, NodeRecord>> {
    if (nodeIds.length === 0) return new Map();
    const rows = await this.query<{ node: StoredNode }>('READ', 'reading nodes', GET_NODES, {
      nodeIds: [...new Set(nodeIds)],
    });
    return new Map(rows.map(({ node }) => [node[0], toNodeRecord(node)]));
  }

  async getLineages(keys: readonly LineageKey[]): Promise<NodeRecord[]> {
    if (keys.length === 0) return [];
    const rows = await this.query<{ node: StoredNode }>('READ', 'reading lineages', GET_LINEAGES, {
      keys: keys.map((key) => ({ nodeType: key.nodeType, configHash: key.configHash })),
    });
    return rows.map(({ node }) => toNodeRecord(node));
  }

  async takenTopics(topics: readonly string[]): Promise<Set<string>> {
    if (topics.length === 0) return new Set();
    const rows = await this.query<{ topic: string }>('READ', 'reading topics', TAKEN_TOPICS, {
      topics: [...new Set(topics)],
    });
    return new Set(rows.map((row) => row.topic));
  }

  async getNodeByTopic(topic: string): Promise<NodeRecord | null> {
    const rows = await this.query<{ node: StoredNode }>('READ', 'reading a topic', NODE_BY_TOPIC, {
      topic,
    });
    const first = rows[0];
    return first === undefined ? null : toNodeRecord(first.node);
  }

  async createNodes(
    records: readonly NodeRecord[],
    sentinel?: NewSentinel,
  ): Promise<Map<string, NodeRecord>> {
    const firsts = new Map<string, NodeRecord>();
    for (const record of records) if (!firsts.has(record.nodeId)) firsts.set(record.nodeId, record);
    if (firsts.size === 0 && sentinel === undefined) return new Map();
    // Sorted so that concurrent batches lock their nodes in one global order.
    const rows = [...firsts.values()]
      .sort((a, b) => compare(a.nodeId, b.nodeId))
      .map((record) => nodeRow(record, this.integer));
    const older = await retryingConstraintRaces(() =>
      sentinel === undefined
        ? this.query<{ node: StoredNode }>('WRITE', 'creating nodes', CREATE_NODES, { rows })
        : this.transaction('creating nodes and their sentinel', async (run) => {
            const found = await run<{ node: StoredNode }>(CREATE_NODES, { rows });
            // HAS edges to the nodes this version created, as the original's insert_sentinel
            // (node_ids keeps all of its DAG): an edge to every reused node would hold their
            // locks, and the naming lock around this call, ~15 ms longer per 1,000 nodes.
            await run(UPSERT_SENTINEL, this.sentinelParameters(sentinel, [...firsts.keys()]));
            return found;
          }),
    );
    const stored = new Map(firsts);
    for (const { node } of older) stored.set(node[0], toNodeRecord(node));
    return stored;
  }

  async getQueuesByTags(query: TagQuery): Promise<string[]> {
    if (query.tags.length === 0) return [];
    const cypher = query.matchMode === 'all' ? QUEUES_MATCHING_ALL_TAGS : QUEUES_MATCHING_ANY_TAG;
    const rows = await this.query<{ topic: string }>('READ', 'answering a tag query', cypher, {
      tags: [...query.tags],
      interval: this.integer(query.interval),
    });
    return rows.map((row) => row.topic).sort();
  }

  async attachStrategy(strategyId: string, nodeIds: readonly string[], now: number): Promise<ProducerMap> {
    const rows = await this.query<{ producer: string; nodeIds: string[] }>(
      'WRITE',
      'attaching a strategy',
      ATTACH_STRATEGY,
      { strategyId, nodeIds: [...new Set(nodeIds)].sort(compare), now: this.integer(now) },
    );
    return new Map(rows.flatMap((row) => row.nodeIds.map((nodeId) => [nodeId, row.producer] as const)));
  }

  async releaseStrategy(strategyId: string, now: number): Promise<string[]> {
    const stamp = this.integer(now);
    // Two statements, one transaction: the second reads the other strategies' uses only once
    // the first holds every node lock (see STAMP_ORPHANS).
    return this.transaction('releasing a strategy', async (run) => {
      const rows = await run<ReleasedNode>(RELEASE_STRATEGY, { strategyId, now: stamp });
      const unproduced = rows.filter((row) => row.unproduced).map((row) => row.nodeId);
      if (unproduced.length > 0) await run(STAMP_ORPHANS, { nodeIds: unproduced, now: stamp });
      return rows.filter((row) => row.produced).map((row) => row.nodeId);
    });
  }

  async strategyRoles(strategyId: string): Promise<Map<string, NodeRole>> {
    const rows = await this.query<{ nodeId: string; role: NodeRole }>(
      'READ',
      'reading strategy roles',
      STRATEGY_ROLES,
      { strategyId },
    );
    return new Map(rows.map((row) => [row.nodeId, row.role]));
  }

  async upsertSentinel(sentinel: NewSentinel): Promise<void> {
    await this.query('WRITE', 'storing a sentinel', UPSERT_SENTINEL, this.sentinelParameters(sentinel));
  }

  /** Parameters of {@link UPSERT_SENTINEL}: HAS edges to `has` (default: every node it lists). */
  private sentinelParameters(
    sentinel: NewSentinel,
    has: readonly string[] = sentinel.nodeIds,
  ): Record<string, unknown> {
    return {
      sentinelId: sentinel.sentinelId,
      strategyId: sentinel.strategyId,
      createdAt: this.integer(sentinel.createdAt),
      nodeIds: [...sentinel.nodeIds],
      // HAS edges are created in node_id order, the order every other writer locks nodes in.
      lockOrder: [...new Set(has)].sort(compare),
    };
  }

  async getSentinel(sentinelId: string): Promise<SentinelRecord | null> {
    const rows = await this.query<{ sentinel: StoredSentinel }>('READ', 'reading a sentinel', GET_SENTINEL, {
      sentinelId,
    });
    const sentinel = rows[0]?.sentinel;
    if (sentinel === undefined) return null;
    return {
      sentinelId: sentinel.version,
      strategyId: sentinel.strategy_id ?? '',
      createdAt: sentinel.created_at ?? 0,
      weight: sentinel.traffic_weight ?? null,
      nodeIds: sentinel.node_ids ?? [],
    };
  }

  async setSentinelWeight(
    sentinelId: string,
    weight: number,
    bounds: PendingWeightBounds,
  ): Promise<SentinelWeightOutcome> {
    const parameters = { sentinelId, weight, now: this.integer(bounds.now) };
    type Row = { pending: boolean };
    const stored = await this.query<Row>(
      'WRITE',
      'storing a sentinel weight',
      SET_SENTINEL_WEIGHT,
      parameters,
    );
    if (stored[0] !== undefined) return stored[0].pending ? 'pending' : 'stored';
    // No sentinel yet: a pending weight, added by one writer at a time (LOCK_PENDING_WEIGHTS).
    // Its MERGEs (of the gate, and of the sentinel a diff may write at the same time) can lose a race.
    const added = await retryingConstraintRaces(() =>
      this.transaction('storing a pending sentinel weight', async (run) => {
        await run(LOCK_PENDING_WEIGHTS, {});
        return run<Row>(ADD_PENDING_WEIGHT, { ...parameters, limit: this.integer(bounds.limit) });
      }),
    );
    if (added[0] === undefined) return 'full';
    return added[0].pending ? 'pending' : 'stored';
  }

  async expirePendingWeights(cutoff: number): Promise<string[]> {
    const rows = await this.query<{ version: string }>(
      'WRITE',
      'expiring pending sentinel weights',
      EXPIRE_PENDING_WEIGHTS,
      { cutoff: this.integer(cutoff) },
    );
    return rows.map((row) => row.version);
  }

  async clearBuffering(nodeIds: readonly string[]): Promise<void> {
    if (nodeIds.length === 0) return;
    await this.query('WRITE', 'clearing buffering', CLEAR_BUFFERING, {
      nodeIds: [...new Set(nodeIds)].sort(compare),
    });
  }

  async getBufferingNodes(cutoff: number): Promise<NodeRecord[]> {
    const rows = await this.query<{ node: StoredNode }>('READ', 'reading buffering nodes', BUFFERING_NODES, {
      cutoff: this.integer(cutoff),
    });
    return rows.map(({ node }) => toNodeRecord(node));
  }

  async listOrphanQueues(): Promise<OrphanQueue[]> {
    const rows = await this.query<StoredOrphan>('READ', 'listing orphan queues', ORPHAN_QUEUES, {});
    return rows.map((row) => ({
      topic: row.topic,
      nodeId: row.nodeId,
      kind: row.kind,
      interval: row.interval ?? null,
      tags: row.tags ?? [],
      createdAt: row.createdAt,
      orphanedSince: row.orphanedSince,
    }));
  }

  async dropQueue(topic: string): Promise<boolean> {
    const rows = await this.query<{ dropped: number }>('WRITE', 'dropping a queue', DROP_QUEUE, { topic });
    return (rows[0]?.dropped ?? 0) > 0;
  }

  /** `RETURN 1` once, without the driver's retries, within `healthTimeoutMs`. Never throws. */
  async health(): Promise<'ok' | 'error'> {
    const session = this.driver.session({ ...this.databaseConfig(), defaultAccessMode: 'READ' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error('health check timed out')),
        this.options.healthTimeoutMs ?? 2000,
      );
    });
    try {
      await Promise.race([session.run('RETURN 1'), timeout]);
      return 'ok';
    } catch {
      return 'error';
    } finally {
      clearTimeout(timer);
      // Not awaited: after a timeout, closing could wait as long as the stuck query.
      void session.close().catch(() => undefined);
    }
  }

  /** The schema's `CREATE` statements, constraints first (see {@link exportSchema}). */
  async exportSchema(): Promise<string[]> {
    try {
      return await readSchema(this.driver, this.options.database);
    } catch (error) {
      throw this.failure('exporting the schema', error);
    }
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private databaseConfig(): { database?: string } {
    return this.options.database === undefined ? {} : { database: this.options.database };
  }

  /** Runs one statement in a managed transaction; errors become `QMTL_UNAVAILABLE`. */
  private async query<Row extends RecordShape>(
    routing: Routing,
    action: string,
    cypher: string,
    parameters: Record<string, unknown>,
  ): Promise<Row[]> {
    try {
      const result = await this.driver.executeQuery<EagerResult<Row>>(cypher, parameters, {
        ...this.databaseConfig(),
        routing,
      });
      return result.records.map((record) => record.toObject());
    } catch (error) {
      if (isConstraintRace(error)) throw error;
      throw this.failure(action, error);
    }
  }

  /**
   * Runs `work` in one managed write transaction (retried as a whole by the driver on transient
   * errors); errors become `QMTL_UNAVAILABLE`.
   */
  private async transaction<T>(action: string, work: (run: StatementRunner) => Promise<T>): Promise<T> {
    const session = this.driver.session({ ...this.databaseConfig(), defaultAccessMode: 'WRITE' });
    try {
      return await session.executeWrite((tx) =>
        work(async <Row extends RecordShape>(cypher: string, parameters: Record<string, unknown>) => {
          const result = await tx.run<Row>(cypher, parameters);
          return result.records.map((record) => record.toObject());
        }),
      );
    } catch (error) {
      if (isConstraintRace(error)) throw error;
      throw this.failure(action, error);
    } finally {
      await session.close();
    }
  }

  private failure(action: string, error: unknown): QmtlError {
    const where = `Neo4j at ${this.options.uri}`;
    const code = neo4jErrorCode(error);
    const message = error instanceof Error ? error.message : String(error);
    const text =
      code === 'ServiceUnavailable' || code === 'SessionExpired'
        ? `${where} is unreachable while ${action}: ${message}`
        : `${where} failed ${action}: ${message}`;
    return new QmtlError(ErrorCode.Unavailable, text, { cause: error });
  }
}

/**
 * The `CREATE` statements of the schema of the database behind `source` (a driver or a
 * repository), constraints first: what `qmtl dagm export-schema` prints.
 *
 * @example
 * const statements = await exportSchema(repo);
 */
export function exportSchema(source: Driver | Neo4jNodeRepository, database?: string): Promise<string[]> {
  return source instanceof Neo4jNodeRepository ? source.exportSchema() : readSchema(source, database);
}

interface StoredSentinel {
  readonly version: string;
  readonly strategy_id: string | null;
  readonly created_at: number | null;
  readonly node_ids: string[] | null;
  readonly traffic_weight: number | null;
}

/** A row of {@link RELEASE_STRATEGY}. */
interface ReleasedNode {
  readonly nodeId: string;
  readonly produced: boolean;
  readonly unproduced: boolean;
}

interface StoredOrphan {
  readonly topic: string;
  readonly nodeId: string;
  readonly kind: TopicKind;
  readonly interval: number | null;
  readonly tags: string[] | null;
  readonly createdAt: number;
  readonly orphanedSince: number;
}

function neo4jErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isConstraintRace(error: unknown): boolean {
  return neo4jErrorCode(error) === 'Neo.ClientError.Schema.ConstraintValidationFailed';
}

/**
 * Runs `write` again when it lost a uniqueness race (a MERGE of a node another writer created
 * meanwhile): running again finds the winner's node. At most {@link CONSTRAINT_RACE_ATTEMPTS} runs.
 */
async function retryingConstraintRaces<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= CONSTRAINT_RACE_ATTEMPTS || !isConstraintRace(error)) throw error;
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
