import { ErrorCode, QmtlError, quote, shortId } from '../common/errors.js';
import { KeyedLock } from '../common/keyed-lock.js';
import { logger } from '../common/logger.js';
import { MAX_STRATEGY_ID_LENGTH, SENTINEL_SUFFIX } from '../common/sentinel-weight.js';
import { identityProblems, validateDag } from '../dag/validate-dag.js';
import { VERSION_SENTINEL, type NodeJson } from '../dag/node-json.js';
import type { BufferInstruction, DiffOutcome, DiffRequest } from './diff-types.js';
import { dagManagerMetrics, observeDiffDuration } from './metrics.js';
import { lineageKey, type NewSentinel, type NodeRecord } from './node-record.js';
import type { NodeRepository } from './node-repository.js';
import { topicNameProblem, TopicNameTakenError, type TopicSpec } from './queue-admin.js';
import { TOPIC_HASH_PREFIX, topicKindOf, topicName, topicSpec, type TopicNameParts } from './topics.js';

/** Creates topics idempotently (the `TopicCreator`, or a plain admin in tests). */
export interface TopicEnsurer {
  /**
   * Makes sure the topic exists; the replication factor may be clamped to the cluster. Tells
   * whether this call created it: `'created'` / `'exists'` (a plain admin) or `{ created }`.
   */
  ensure(spec: TopicSpec): Promise<'created' | 'exists' | { readonly created: boolean }>;
  /** Deletes a topic created for a diff that failed before storing its node; optional. */
  remove?(name: string): Promise<unknown>;
  /**
   * Optional fast path: ensures many topics in few broker requests and answers those that now
   * exist as wanted (with whether it created them); the others are ensured one by one.
   */
  ensureMany?(specs: readonly TopicSpec[]): Promise<ReadonlyMap<string, { readonly created: boolean }>>;
}

/** Receives what a diff published, e.g. to post `queue_update` CloudEvents to the Gateway. */
export interface DiffListener {
  onNewNodes?(strategyId: string, nodes: readonly NodeRecord[]): void;
}

/** Options of a {@link DiffService}. */
export interface DiffServiceOptions {
  readonly repo: NodeRepository;
  readonly topics: TopicEnsurer;
  /** Clock in epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Topics created at once by one diff. Default 16. */
  readonly topicConcurrency?: number;
  readonly listener?: DiffListener;
  /**
   * Node records kept in memory to spare the store a read per diff. Default 200,000, or 0 (none)
   * for a repository whose reads are in-process lookups ({@link NodeRepository.inProcess}).
   */
  readonly cacheSize?: number;
}

/**
 * The DAG Manager's diff (SPEC §5): validates the DAG (every problem listed), then, in
 * topological order, reuses the topic of every node already in the global DAG, creates a topic
 * (idempotently) for every new node, stores new nodes, records the strategy's use of every node
 * with one producer per node (an active producer keeps producing, otherwise the submitter
 * produces), marks buffering for compatible schema changes and writes the VersionSentinel.
 *
 * Version rules, for a node not yet stored, by its lineage (same node_type and config_hash):
 * no stored version → v1; a stored version with the same code_hash (so only the schema changed)
 * → a new node that buffers (lag = period) from the old one; otherwise → a new version
 * `v{max + 1}`.
 */
export class DiffService {
  private readonly repo: NodeRepository;
  private readonly topics: TopicEnsurer;
  private readonly now: () => number;
  private readonly topicConcurrency: number;
  private readonly listener: DiffListener | undefined;
  private readonly cache: NodeRecordCache;
  /** Serialises the naming and storing of new nodes between diffs that could collide. */
  private readonly naming = new KeyedLock<number>();
  /** Diffs running now. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Nodes GC is collecting, each with the end of its collection. */
  private readonly collected = new Map<string, Promise<void>>();

  constructor(options: DiffServiceOptions) {
    this.repo = options.repo;
    this.topics = options.topics;
    this.now = options.now ?? Date.now;
    this.topicConcurrency = options.topicConcurrency ?? 16;
    this.listener = options.listener;
    this.cache = new NodeRecordCache(options.cacheSize ?? (options.repo.inProcess === true ? 0 : 200_000));
  }

  /**
   * Diffs one submission. @throws QmtlError with every problem of an invalid DAG (nothing is
   * stored then), or `QMTL_QUEUE_CREATE_FAILED` / `QMTL_UNAVAILABLE` from the stores.
   */
  async diff(request: DiffRequest): Promise<DiffOutcome> {
    const started = performance.now();
    const running = this.run(request);
    this.inFlight.add(running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(running);
      observeDiffDuration(performance.now() - started);
    }
  }

  /**
   * Runs `section` (GC dropping the nodes `nodeIds` and deleting their topics) apart from the
   * diffs: it starts once every diff already running has finished, diffs that arrive meanwhile
   * and name one of these nodes wait until it is done (and then find them gone), and no node
   * whose topic name could equal one of theirs (same naming stripes) is named while it runs, so
   * none can be given a topic that is about to be deleted.
   */
  async collecting<T>(nodeIds: readonly string[], section: () => Promise<T>): Promise<T> {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    for (const id of nodeIds) this.collected.set(id, finished);
    try {
      await Promise.allSettled([...this.inFlight]);
      const dropped = await this.repo.getNodes(nodeIds);
      const stripes = namingStripes([...dropped.values()].map((r) => [r.codeHash, r.configHash]));
      return await this.naming.run(stripes, section);
    } finally {
      for (const id of nodeIds) if (this.collected.get(id) === finished) this.collected.delete(id);
      this.cache.forget(nodeIds);
      finish();
    }
  }

  private async run(request: DiffRequest): Promise<DiffOutcome> {
    const strategyId = checkStrategyId(request.strategyId);
    const nodes = parseDag(request.dagJson);
    if (this.collected.size > 0) await this.afterCollection(nodes);
    const now = this.now();
    const ids = nodes.map((n) => n.node_id);
    const existing = await this.cache.getNodes(ids, (missing) => this.repo.getNodes(missing));
    const fallbacks = new Map<string, NodeJson>();
    checkIdentities(nodes, existing, (node, primary) => fallbacks.set(primary, node));
    if (fallbacks.size > 0) await this.checkFallbacks(fallbacks);

    const sentinelId = `${strategyId}${SENTINEL_SUFFIX}`;
    const { fresh, stored } = await this.storeMissing(
      nodes.filter((n) => !existing.has(n.node_id)),
      { sentinelId, strategyId, createdAt: now, nodeIds: ids },
    );
    this.cache.remember(stored.values());
    const record = (id: string): NodeRecord => existing.get(id) ?? stored.get(id)!;

    const producers = await this.repo.attachStrategy(strategyId, ids, now);
    const newNodes = fresh.filter((r) => stored.get(r.nodeId)?.createdAt === r.createdAt);
    const sentinelWritten = fresh.length > 0;
    if (!sentinelWritten) dagManagerMetrics.sentinelGapCount.inc();

    const queueMap = new Map<string, string>();
    const topicMap = new Map<string, string>();
    for (const id of ids) {
      const topic = record(id).topic;
      queueMap.set(id, topic);
      if (producers.get(id) === strategyId) topicMap.set(id, topic);
    }
    if (newNodes.length > 0) this.listener?.onNewNodes?.(strategyId, newNodes);
    logger.debug(
      { strategyId, nodes: ids.length, created: fresh.length, produced: topicMap.size },
      'diff done',
    );
    return {
      strategyId,
      sentinelId,
      queueMap,
      topicMap,
      newNodes,
      bufferNodes: nodes
        .filter((node) => record(node.node_id).bufferingSince !== null)
        .map(bufferInstruction),
      sentinelWritten,
    };
  }

  /**
   * A node submitted under its SHA3-256 id (SPEC §2.3) is legitimate only when its SHA-256 id is
   * taken by a different stored node. Otherwise one computation would be stored under two ids and
   * computed twice. `fallbacks` maps each such node's SHA-256 id to the node.
   */
  private async checkFallbacks(fallbacks: ReadonlyMap<string, NodeJson>): Promise<void> {
    const primaries = await this.cache.getNodes([...fallbacks.keys()], (missing) =>
      this.repo.getNodes(missing),
    );
    const problems = [...fallbacks].flatMap(([primary, node]) => {
      const taken = primaries.get(primary);
      if (taken !== undefined && !sameIdentity(taken, node)) return [];
      const state = taken === undefined ? 'free' : 'stored for this same node';
      return [
        {
          code: ErrorCode.NodeIdMismatch,
          message: `node ${quote(node.name ?? shortId(node.node_id))}: node_id is the SHA3-256 fallback, but its SHA-256 id ${quote(shortId(primary))} is ${state}; submit it under ${primary}`,
          nodeId: node.node_id,
        },
      ];
    });
    if (problems.length > 0) throw QmtlError.fromProblems('invalid DAG', problems);
  }

  /** Waits while GC collects any of `nodes` (see {@link collecting}). */
  private async afterCollection(nodes: readonly NodeJson[]): Promise<void> {
    const pending = new Set<Promise<void>>();
    for (const node of nodes) {
      const collection = this.collected.get(node.node_id);
      if (collection !== undefined) pending.add(collection);
    }
    await Promise.all(pending);
  }

  /**
   * Names, creates topics for and stores the nodes not in the global DAG; returns their records
   * as stored. Two diffs that could give the same topic name or version to different nodes do
   * this one after the other ({@link namingStripes}), each first re-reading which of its nodes the
   * other stored meanwhile: a topic name is never given to two nodes, and no topic is created for
   * a node that already has one.
   */
  private async storeMissing(
    missing: readonly NodeJson[],
    sentinel: NewSentinel,
  ): Promise<{ fresh: readonly NodeRecord[]; stored: Map<string, NodeRecord> }> {
    if (missing.length === 0) return { fresh: [], stored: new Map() };
    return this.naming.run(namingStripes(missing.map((n) => [n.code_hash, n.config_hash])), async () => {
      const meanwhile = await this.repo.getNodes(missing.map((n) => n.node_id));
      const fresh = await this.newRecords(
        missing.filter((n) => !meanwhile.has(n.node_id)),
        sentinel.createdAt,
      );
      const created: string[] = [];
      let stored: Map<string, NodeRecord>;
      try {
        await this.ensureTopics(fresh, created);
        // The sentinel goes with the nodes (one write): written later, a crash in between would
        // leave this version without one, since a resubmission finds no new node to write it for.
        stored =
          fresh.records.length > 0
            ? await this.repo.createNodes(fresh.records, sentinel)
            : new Map<string, NodeRecord>();
      } catch (error) {
        await this.removeTopics(created);
        throw error;
      }
      for (const [id, record] of meanwhile) stored.set(id, record);
      return { fresh: fresh.records, stored };
    });
  }

  /**
   * Creates the topics of the new records (renamed in place when the broker refuses a name),
   * adding those it created to `created`. After a failure no new topic is started and the ones in
   * flight are waited for, so `created` is complete when the failure is thrown.
   */
  private async ensureTopics(fresh: NewRecords, created: string[]): Promise<void> {
    const claimed = new Set(fresh.records.map((record) => record.topic));
    const batch =
      fresh.records.length > 1 && this.topics.ensureMany !== undefined
        ? await this.topics.ensureMany(
            fresh.records.map((record) => topicSpec(record.topic, record.kind, Number.MAX_SAFE_INTEGER)),
          )
        : new Map<string, { readonly created: boolean }>();
    for (const [topic, { created: made }] of batch) if (made) created.push(topic);
    const pending = fresh.records
      .map((_, index) => index)
      .filter((index) => !batch.has(fresh.records[index]!.topic));
    let failure: { error: unknown } | null = null;
    let next = 0;
    // `topicConcurrency` workers, each ensuring one topic at a time (one promise per topic; an
    // async function per topic allocated ~1.4 KB). Only a refused name goes through renaming.
    const worker = async (): Promise<void> => {
      while (next < pending.length && failure === null) {
        const index = pending[next++]!;
        const record = fresh.records[index]!;
        try {
          let ensured: { record: NodeRecord; created: boolean };
          try {
            const result = await this.topics.ensure(
              topicSpec(record.topic, record.kind, Number.MAX_SAFE_INTEGER),
            );
            ensured = { record, created: wasCreated(result) };
          } catch (error) {
            if (!(error instanceof TopicNameTakenError)) throw error;
            ensured = await this.renamed(record, fresh.parts[index]!, claimed, error);
          }
          fresh.records[index] = ensured.record;
          if (ensured.created) created.push(ensured.record.topic);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.topicConcurrency, pending.length) }, worker));
    if (failure !== null) throw (failure as { error: unknown }).error;
  }

  /**
   * Deletes the topics a failed diff created, whose nodes were never stored: left behind they
   * would be topics no node names, which GC (reading the graph) never collects. Best effort: a
   * topic that cannot be deleted now is logged.
   */
  private async removeTopics(topics: readonly string[]): Promise<void> {
    const remove = this.topics.remove?.bind(this.topics);
    if (remove === undefined || topics.length === 0) return;
    const results = await Promise.allSettled(topics.map((topic) => remove(topic)));
    results.forEach((result, index) => {
      if (result.status === 'rejected')
        logger.warn(
          { topic: topics[index], err: result.reason },
          'could not delete the topic of a failed diff',
        );
    });
  }

  /**
   * The record on the next free, longer topic name, created, after the broker refused its name
   * (`refusal`): the broker has a topic that takes it (one of another shape, or one Kafka sees as
   * the same: `.` versus `_`). SPEC §5: a similar-name collision is resolved. Tries longer names
   * until one is created or the hash is spent (then the last refusal is thrown).
   */
  private async renamed(
    record: NodeRecord,
    parts: TopicNameParts,
    claimed: Set<string>,
    refusal: TopicNameTakenError,
  ): Promise<{ record: NodeRecord; created: boolean }> {
    let topic = record.topic;
    let error: TopicNameTakenError = refusal;
    // The hash length the name was given with; only a taken name needs it.
    let length = TOPIC_HASH_PREFIX;
    while (topicName(parts, length) !== topic) length += 2;
    for (;;) {
      let next: string | null = null;
      while (next === null) {
        length += 2;
        const candidate = topicName(parts, length);
        if (candidate === topic) throw error; // the whole hash is in the name already
        const taken = await this.repo.takenTopics([candidate]);
        if (!taken.has(candidate) && !claimed.has(candidate)) next = candidate;
      }
      logger.warn(
        { nodeId: record.nodeId, taken: topic, topic: next, err: error },
        'topic name taken on the broker; using a longer one',
      );
      claimed.add(next);
      topic = next;
      try {
        const result = await this.topics.ensure(topicSpec(topic, record.kind, Number.MAX_SAFE_INTEGER));
        return { record: { ...record, topic }, created: wasCreated(result) };
      } catch (caught) {
        if (!(caught instanceof TopicNameTakenError)) throw caught;
        error = caught;
      }
    }
  }

  /**
   * Records (with topic names) for nodes not in the global DAG; a node whose lineage has a
   * version with the same code (only its schema changed) is stored buffering.
   */
  private async newRecords(missing: readonly NodeJson[], now: number): Promise<NewRecords> {
    if (missing.length === 0) return { records: [], parts: [] };
    const lineages = await this.repo.getLineages(
      missing.map((n) => ({ nodeType: n.node_type, configHash: n.config_hash })),
    );
    const byLineage = new Map<string, NodeRecord[]>();
    for (const r of lineages) {
      const key = lineageKey(r.nodeType, r.configHash);
      const versions = byLineage.get(key);
      if (versions === undefined) byLineage.set(key, [r]);
      else versions.push(r);
    }
    const plans = missing.map((node) => {
      // A new DAG has no stored lineage: no key to build per node then.
      const versions =
        byLineage.size === 0
          ? NO_RECORDS
          : (byLineage.get(lineageKey(node.node_type, node.config_hash)) ?? NO_RECORDS);
      const sameCode = versions.find((v) => v.codeHash === node.code_hash);
      const version = versions.reduce((max, v) => Math.max(max, v.version), 0) + 1;
      return {
        node,
        sameCode,
        version,
        parts: {
          asset: assetOf(node),
          nodeType: node.node_type,
          codeHash: node.code_hash,
          nodeId: node.node_id,
          version,
        },
      };
    });
    const topics = await this.freeTopicNames(plans.map((p) => p.parts));
    // Before any topic is created: a name the broker cannot take fails the diff naming its node.
    const unnamable = plans.flatMap(({ node }, index) =>
      topicNameProblem(topics[index]) === null
        ? []
        : [
            {
              code: ErrorCode.InvalidDag,
              message: `node ${quote(node.name ?? shortId(node.node_id))}: its topic name ${quote(topics[index])} is longer than the 249 characters Kafka allows (shorten its asset or node_type)`,
              nodeId: node.node_id,
            },
          ],
    );
    if (unnamable.length > 0) throw QmtlError.fromProblems('invalid DAG', unnamable);
    const records = plans.map(({ node, sameCode, version }, index): NodeRecord => ({
      nodeId: node.node_id,
      nodeType: node.node_type,
      codeHash: node.code_hash,
      configHash: node.config_hash,
      schemaHash: node.schema_hash,
      interval: node.interval,
      period: node.period,
      tags: copyOf(node.tags),
      inputs: copyOf(node.inputs),
      topic: topics[index]!,
      kind: topicKindOf(node.node_type),
      version,
      createdAt: now,
      bufferingSince: sameCode === undefined ? null : now,
    }));
    return { records, parts: plans.map((p) => p.parts) };
  }

  /**
   * A free topic name per node: the shortest hash prefix not taken in the store nor by an
   * earlier node of this diff, growing by 2 characters on a collision. One store lookup per
   * length tried — almost always just one.
   */
  private async freeTopicNames(parts: readonly TopicNameParts[]): Promise<string[]> {
    const names: string[] = new Array<string>(parts.length);
    const claimed = new Set<string>();
    let pending = parts.map((_, index) => index);
    for (let length = TOPIC_HASH_PREFIX; pending.length > 0; length += 2) {
      const candidates = pending.map((index) => topicName(parts[index]!, length));
      const taken = await this.repo.takenTopics(candidates);
      const next: number[] = [];
      pending.forEach((index, k) => {
        const name = candidates[k]!;
        const exhausted = length >= TOPIC_HASH_PREFIX + parts[index]!.nodeId.length;
        if ((taken.has(name) || claimed.has(name)) && !exhausted) next.push(index);
        else {
          names[index] = name;
          claimed.add(name);
        }
      });
      pending = next;
    }
    return names;
  }
}

const NO_RECORDS: readonly NodeRecord[] = Object.freeze([]);
const NO_STRINGS: readonly string[] = Object.freeze([]);

/**
 * A copy of a node's list for its record (the submitted DAG may be the caller's object); empty
 * lists, most nodes' tags, share one frozen empty array, which the stored record then keeps.
 */
function copyOf(list: readonly string[]): readonly string[] {
  return list.length === 0 ? NO_STRINGS : [...list];
}

/** What a diff stores for its new nodes: their records. */
interface NewRecords {
  readonly records: NodeRecord[];
  /** What each record's topic name is made of, to name it again when the broker refuses it. */
  readonly parts: TopicNameParts[];
}

/**
 * Stripes of the naming lock per hash kind: a diff waits only for diffs sharing a stripe. One per
 * value of a hash's first four hex digits, so two diffs that each create a few dozen nodes seldom
 * share one (with 64 stripes, every 5 %-new diff of a 1,000-node DAG waited for the one before).
 */
const NAMING_STRIPES = 1 << 16;

/**
 * The naming-lock stripes of nodes, given their code and config hashes: topic names can collide
 * only between nodes whose code hashes share their first six characters ({@link TOPIC_HASH_PREFIX}),
 * versions only within a lineage (same config hash). Each node maps to one stripe of each kind by
 * the first four hex digits of the hash (hashes are validated: 64 lowercase hex digits).
 */
function namingStripes(hashes: readonly (readonly [codeHash: string, configHash: string])[]): Set<number> {
  const stripes = new Set<number>();
  for (const [codeHash, configHash] of hashes) {
    stripes.add(firstFourHexDigits(codeHash));
    stripes.add(NAMING_STRIPES + firstFourHexDigits(configHash));
  }
  return stripes;
}

/** The value of the first four hex digits of a lowercase hex string. */
function firstFourHexDigits(hex: string): number {
  let value = 0;
  for (let i = 0; i < 4; i++) value = value * 16 + hexDigit(hex.charCodeAt(i));
  return value;
}

function hexDigit(charCode: number): number {
  return charCode <= 57 ? charCode - 48 : charCode - 87;
}

/** The asset prefix of a node's topic: its `asset` field, or `asset`. */
function assetOf(node: NodeJson): string {
  return typeof node['asset'] === 'string' && node['asset'] !== '' ? node['asset'] : 'asset';
}

function checkStrategyId(strategyId: unknown): string {
  if (
    typeof strategyId === 'string' &&
    strategyId.trim() !== '' &&
    strategyId.length <= MAX_STRATEGY_ID_LENGTH
  )
    return strategyId;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `strategy_id must be a non-empty string of at most ${MAX_STRATEGY_ID_LENGTH} characters, got ${quote(strategyId)}`,
  );
}

function parseDag(dagJson: string | object): NodeJson[] {
  let parsed: unknown = dagJson;
  if (typeof dagJson === 'string') {
    try {
      parsed = JSON.parse(dagJson);
    } catch (error) {
      throw new QmtlError(ErrorCode.InvalidDag, `dag_json is not valid JSON: ${(error as Error).message}`);
    }
  }
  // `{}` is the original's empty DAG (its clients and tests send it).
  if (isEmptyObject(parsed)) parsed = { nodes: [] };
  parsed = withoutSentinels(parsed);
  // Node ids are checked after the store read (checkIdentities): a stored node's id was verified
  // when it was created, so only new nodes need hashing. An invalid DAG is re-checked in full so
  // that every problem is listed.
  const { dag } = validateDag(parsed, { verifyNodeIds: false });
  if (dag !== null) return dag.nodes;
  throw QmtlError.fromProblems('invalid DAG', validateDag(parsed).problems);
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}

/** Drops the Gateway's VersionSentinel marker nodes: the diff writes its own sentinel record. */
function withoutSentinels(parsed: unknown): unknown {
  const nodes = (parsed as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return parsed;
  const isSentinel = (node: unknown): boolean =>
    (node as { node_type?: unknown } | null)?.node_type === VERSION_SENTINEL;
  if (!nodes.some(isSentinel)) return parsed;
  return { ...(parsed as object), nodes: nodes.filter((node) => !isSentinel(node)) };
}

/**
 * Checks each node's id: a new node's against its fields (a SHA3-256 fallback id is passed to
 * `onFallback` with its SHA-256 id, to be checked against the store), a stored id's fields
 * against the stored node's. A stored id whose submitted fields differ is a collision only when
 * the id is the digest of those fields; otherwise it is a plain mismatch.
 */
function checkIdentities(
  nodes: readonly NodeJson[],
  existing: ReadonlyMap<string, NodeRecord>,
  onFallback: (node: NodeJson, sha256Id: string) => void,
): void {
  const problems = nodes.flatMap((node) => {
    const stored = existing.get(node.node_id);
    if (stored === undefined) return identityProblems(node, (primary) => onFallback(node, primary));
    if (sameIdentity(stored, node)) return [];
    const own = identityProblems(node);
    if (own.length > 0) return own;
    return [
      {
        code: ErrorCode.NodeIdMismatch,
        message: `node ${shortId(node.node_id)} collides with a different stored node; resubmit it under its SHA3-256 id`,
        nodeId: node.node_id,
      },
    ];
  });
  if (problems.length > 0) throw QmtlError.fromProblems('invalid DAG', problems);
}

/**
 * What the client of a diff is told about a node that is buffering (its schema changed
 * compatibly, SPEC §5): every diff naming it says so until the buffering scheduler's full
 * recompute clears it, so a resumed stream and a second strategy see it too.
 */
function bufferInstruction(node: NodeJson): BufferInstruction {
  return {
    nodeId: node.node_id,
    nodeType: node.node_type,
    codeHash: node.code_hash,
    schemaHash: node.schema_hash,
    interval: node.interval ?? 0,
    period: node.period ?? 0,
    tags: [...node.tags],
    lag: node.period ?? 0,
  };
}

function sameIdentity(stored: NodeRecord, node: NodeJson): boolean {
  return (
    stored.nodeType === node.node_type &&
    stored.codeHash === node.code_hash &&
    stored.configHash === node.config_hash &&
    stored.schemaHash === node.schema_hash
  );
}

/** Whether an ensure created the topic: `'created'` from a plain admin, `{ created }` otherwise. */
function wasCreated(result: 'created' | 'exists' | { readonly created: boolean }): boolean {
  return typeof result === 'string' ? result === 'created' : result.created;
}

/**
 * Node records already read or written, by node id. A record never changes once stored, except
 * that buffering ends (the buffering scheduler clears it, perhaps in another DAG Manager), and
 * only GC removes one (it tells the diff). So records of buffering nodes are not kept, and a hit
 * is always valid; the oldest entries go first when full.
 */
class NodeRecordCache {
  private readonly records = new Map<string, NodeRecord>();

  constructor(private readonly capacity: number) {}

  async getNodes(
    ids: readonly string[],
    read: (missing: readonly string[]) => Promise<Map<string, NodeRecord>>,
  ): Promise<Map<string, NodeRecord>> {
    if (this.capacity === 0) return read(ids);
    const found = new Map<string, NodeRecord>();
    const missing: string[] = [];
    for (const id of ids) {
      const record = this.records.get(id);
      if (record === undefined) missing.push(id);
      else found.set(id, record);
    }
    if (missing.length === 0) return found;
    const fetched = await read(missing);
    this.remember(fetched.values());
    for (const [id, record] of fetched) found.set(id, record);
    return found;
  }

  remember(records: Iterable<NodeRecord>): void {
    if (this.capacity === 0) return;
    for (const record of records) if (record.bufferingSince === null) this.records.set(record.nodeId, record);
    if (this.records.size > this.capacity) this.evictOldest(this.records.size - this.capacity);
  }

  /**
   * Drops the `count` oldest records, plus a tenth of the capacity so that eviction runs rarely:
   * in one pass of one iterator. (Deleting the first key one insert at a time makes each
   * `keys().next()` skip every hole left at the front of V8's ordered table: quadratic.)
   */
  private evictOldest(count: number): void {
    let left = count + Math.floor(this.capacity / 10);
    for (const id of this.records.keys()) {
      if (left-- <= 0) break;
      this.records.delete(id);
    }
  }

  forget(nodeIds: Iterable<string>): void {
    for (const id of nodeIds) this.records.delete(id);
  }
}
