import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GraphJournal } from './graph-journal.js';
import { lockJournal } from './journal-lock.js';
import { MemoryGraph, type GraphOperation } from './memory-graph.js';
import {
  type NewSentinel,
  type NodeRecord,
  type NodeRole,
  type OrphanQueue,
  type SentinelRecord,
  type TagQuery,
} from './node-record.js';
import type {
  LineageKey,
  NodeRepository,
  PendingWeightBounds,
  ProducerMap,
  SentinelWeightOutcome,
} from './node-repository.js';

const DONE = Promise.resolve();

/** Options of {@link MemoryNodeRepository.open}. */
export interface MemoryNodeRepositoryOptions {
  /**
   * The journal is rewritten as a snapshot once this many bytes were appended since the last
   * one, and at least as many as that snapshot holds. Default 16 MiB.
   */
  readonly compactAfterBytes?: number;
  /** @internal Makes the journal's appended lines durable; default `fdatasync` (tests replace it). */
  readonly syncJournal?: (path: string) => Promise<void>;
}

/**
 * The embedded {@link NodeRepository}: the global DAG in memory, optionally persisted to `path`
 * as a journal of operations (one JSON line each, appended before the write is applied; a
 * write's promise resolves once its line is on disk, except `createNodes`'s, whose line the
 * diff's attach waits for; see {@link GraphJournal}). Opening replays the journal and compacts it into a
 * snapshot; while serving, a write that has grown the journal past the snapshot's size (and
 * `compactAfterBytes`) starts a compaction in the background. The DAG survives restarts, and the
 * file stays within a small multiple of the DAG's size however long the service runs.
 *
 * @example
 * const repo = MemoryNodeRepository.open('./dagmanager.journal');
 */
export class MemoryNodeRepository implements NodeRepository {
  readonly inProcess = true;
  private readonly graph = new MemoryGraph();
  private readonly journal: GraphJournal | null;

  /** Releases the journal lock ({@link lockJournal}); nothing for a repository without a journal. */
  private unlock: () => void = () => undefined;

  private constructor(path: string | null, options: MemoryNodeRepositoryOptions) {
    const compactAfterBytes = options.compactAfterBytes ?? 16 * 1024 * 1024;
    this.journal =
      path === null
        ? null
        : new GraphJournal(path, () => this.graph.snapshot(), compactAfterBytes, options.syncJournal);
  }

  /**
   * A repository persisted to `path` (created if missing), or purely in memory when `path` is
   * omitted. @throws QmtlError `QMTL_INVALID_CONFIG` when the journal cannot be read.
   */
  static open(path?: string | null, options: MemoryNodeRepositoryOptions = {}): MemoryNodeRepository {
    const repo = new MemoryNodeRepository(path ?? null, options);
    if (path == null) return repo;
    mkdirSync(dirname(path), { recursive: true });
    repo.unlock = lockJournal(path);
    try {
      GraphJournal.replay(path, (operation) => repo.graph.apply(operation));
      repo.journal!.compactNow();
    } catch (error) {
      repo.unlock();
      throw error;
    }
    return repo;
  }

  getNodes(nodeIds: readonly string[]): Promise<Map<string, NodeRecord>> {
    const found = new Map<string, NodeRecord>();
    for (const id of nodeIds) {
      const record = this.graph.record(id);
      if (record !== undefined) found.set(id, record);
    }
    return Promise.resolve(found);
  }

  getLineages(keys: readonly LineageKey[]): Promise<NodeRecord[]> {
    const ids = new Set<string>();
    for (const key of keys) {
      for (const id of this.graph.lineage(key.nodeType, key.configHash)) ids.add(id);
    }
    return Promise.resolve([...ids].map((id) => this.graph.record(id)!));
  }

  takenTopics(topics: readonly string[]): Promise<Set<string>> {
    const taken = new Set<string>();
    for (const topic of topics) if (this.graph.topics.has(topic)) taken.add(topic);
    return Promise.resolve(taken);
  }

  getNodeByTopic(topic: string): Promise<NodeRecord | null> {
    const nodeId = this.graph.topics.get(topic);
    return Promise.resolve(nodeId === undefined ? null : (this.graph.record(nodeId) ?? null));
  }

  createNodes(records: readonly NodeRecord[], sentinel?: NewSentinel): Promise<Map<string, NodeRecord>> {
    // One pass: the answer is each id's stored record, which for a fresh id is the first record
    // given for it (as applying the operation keeps the first).
    const answer = new Map<string, NodeRecord>();
    const fresh: NodeRecord[] = [];
    for (const record of records) {
      const stored = this.graph.record(record.nodeId);
      if (stored !== undefined) {
        answer.set(record.nodeId, stored);
        continue;
      }
      fresh.push(record);
      if (!answer.has(record.nodeId)) answer.set(record.nodeId, record);
    }
    // The sentinel goes in the same journal line as the nodes.
    // Not waiting for the disk: the diff calls this under its naming lock, where a sync would
    // make every diff that creates nodes wait for the previous one's, and a failed sync would
    // report nodes as not stored that are stored. The attach that follows in every diff waits
    // for a sync, which covers this line too (the journal is synced in order).
    if (sentinel !== undefined)
      this.apply({ op: 'nodes', records: fresh, sentinel: this.sentinelRecord(sentinel) });
    else if (fresh.length > 0) this.apply({ op: 'nodes', records: fresh });
    return Promise.resolve(answer);
  }

  getQueuesByTags(query: TagQuery): Promise<string[]> {
    return Promise.resolve(query.tags.length === 0 ? [] : this.graph.queuesByTags(query));
  }

  attachStrategy(strategyId: string, nodeIds: readonly string[], now: number): Promise<ProducerMap> {
    const seen = new Set<string>();
    const known: string[] = [];
    const claimed: string[] = [];
    for (const id of nodeIds) {
      if (seen.has(id)) continue;
      seen.add(id);
      const produced = this.graph.hasLiveProducerIfKnown(id);
      if (produced === undefined) continue;
      known.push(id);
      if (!produced) claimed.push(id);
    }
    const written = this.write({ op: 'attach', strategyId, nodeIds: known, claimed, now });
    const producers = new Map<string, string>();
    for (const id of known) producers.set(id, this.graph.producer(id)!);
    return written.then(() => producers);
  }

  releaseStrategy(strategyId: string, now: number): Promise<string[]> {
    const strategy = this.graph.strategies.get(strategyId);
    if (strategy?.active !== true) return Promise.resolve([]);
    const produced = [...strategy.uses].filter((id) => this.graph.producer(id) === strategyId);
    return this.write({ op: 'release', strategyId, now }).then(() => produced);
  }

  strategyRoles(strategyId: string): Promise<Map<string, NodeRole>> {
    const roles = new Map<string, NodeRole>();
    const strategy = this.graph.strategies.get(strategyId);
    if (strategy?.active !== true) return Promise.resolve(roles);
    for (const id of strategy.uses) {
      if (!this.graph.hasNode(id)) continue;
      roles.set(id, this.graph.producer(id) === strategyId ? 'producer' : 'consumer');
    }
    return Promise.resolve(roles);
  }

  upsertSentinel(sentinel: NewSentinel): Promise<void> {
    return this.write({ op: 'sentinel', sentinel: this.sentinelRecord(sentinel) });
  }

  getSentinel(sentinelId: string): Promise<SentinelRecord | null> {
    return Promise.resolve(this.graph.sentinels.get(sentinelId) ?? null);
  }

  setSentinelWeight(
    sentinelId: string,
    weight: number,
    bounds: PendingWeightBounds,
  ): Promise<SentinelWeightOutcome> {
    const existing = this.graph.sentinels.get(sentinelId);
    if (existing === undefined && this.graph.pendingCount() >= bounds.limit) return Promise.resolve('full');
    const outcome = existing !== undefined && existing.strategyId !== '' ? 'stored' : 'pending';
    return this.write({ op: 'weight', sentinelId, weight, at: bounds.now }).then(() => outcome);
  }

  expirePendingWeights(cutoff: number): Promise<string[]> {
    const expired = this.graph.pendingBefore(cutoff);
    if (expired.length === 0) return Promise.resolve(expired);
    return this.write({ op: 'expire', sentinelIds: expired }).then(() => expired);
  }

  clearBuffering(nodeIds: readonly string[]): Promise<void> {
    return nodeIds.length > 0 ? this.write({ op: 'buffering', nodeIds, since: null }) : DONE;
  }

  getBufferingNodes(cutoff: number): Promise<NodeRecord[]> {
    return Promise.resolve(
      [...this.graph.records()].filter((r) => r.bufferingSince !== null && r.bufferingSince < cutoff),
    );
  }

  listOrphanQueues(): Promise<OrphanQueue[]> {
    return Promise.resolve(this.graph.orphans());
  }

  dropQueue(topic: string): Promise<boolean> {
    const nodeId = this.graph.topics.get(topic);
    if (nodeId === undefined || this.graph.isUsed(nodeId)) return Promise.resolve(false);
    return this.write({ op: 'drop', topic }).then(() => true);
  }

  /** Every stored node (embedded mode gives the in-process queues their topics back at start). */
  records(): IterableIterator<NodeRecord> {
    return this.graph.records();
  }

  health(): Promise<'ok' | 'error'> {
    return Promise.resolve('ok');
  }

  /** Resolves once the journal is not being compacted or synced. */
  async idle(): Promise<void> {
    await this.journal?.idle();
  }

  /**
   * Waits for a running compaction and sync, then releases the journal's lock; the repository is
   * not used afterwards.
   */
  async close(): Promise<void> {
    await this.idle();
    this.unlock();
  }

  /** The sentinel as stored: a weight already set on it is kept. */
  private sentinelRecord(sentinel: NewSentinel): SentinelRecord {
    const weight = this.graph.sentinels.get(sentinel.sentinelId)?.weight ?? null;
    return { ...sentinel, nodeIds: [...sentinel.nodeIds], weight };
  }

  /**
   * Journals and applies `operation`; resolves once its line is on disk. Applied at once, so the
   * next request may read it before then; a diff that does also writes (its attach), and the
   * sync its own write waits for covers this line too. A failed sync rejects, but the operation
   * stays applied and journalled (a later sync may still make it durable).
   */
  private write(operation: GraphOperation): Promise<void> {
    this.apply(operation);
    return this.journal?.synced() ?? DONE;
  }

  /** Journals and applies `operation` (its line is on disk with the next sync). */
  private apply(operation: GraphOperation): void {
    this.journal?.append(operation);
    this.graph.apply(operation);
    this.journal?.compactIfDue();
  }
}
