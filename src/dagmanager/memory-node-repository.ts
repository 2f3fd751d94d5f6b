import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
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

/** Options of {@link MemoryNodeRepository.open}. */
export interface MemoryNodeRepositoryOptions {
  /**
   * The journal is rewritten as a snapshot once this many bytes were appended since the last
   * one, and at least as many as that snapshot holds. Default 16 MiB.
   */
  readonly compactAfterBytes?: number;
}

/**
 * The embedded {@link NodeRepository}: the global DAG in memory, optionally persisted to `path`
 * as a journal of operations (one JSON line each, appended synchronously before a write
 * returns). Opening replays the journal and compacts it into a snapshot, and so does a write that
 * has grown the journal past the snapshot's size (and `compactAfterBytes`): the DAG survives
 * restarts, and the file stays within a small multiple of the DAG's size, however long the
 * service runs. Compacting writes a temporary file, syncs it and renames it over the journal, so
 * a crash at any point leaves a readable journal.
 *
 * @example
 * const repo = MemoryNodeRepository.open('./dagmanager.journal');
 */
export class MemoryNodeRepository implements NodeRepository {
  readonly inProcess = true;
  private readonly graph = new MemoryGraph();
  private readonly path: string | null;
  private readonly compactAfterBytes: number;
  /** Size of the journal's snapshot, and bytes appended after it. */
  private snapshotBytes = 0;
  private appendedBytes = 0;

  /** Releases the journal lock ({@link lockJournal}); nothing for a repository without a journal. */
  private unlock: () => void = () => undefined;

  private constructor(path: string | null, options: MemoryNodeRepositoryOptions) {
    this.path = path;
    this.compactAfterBytes = options.compactAfterBytes ?? 16 * 1024 * 1024;
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
      repo.load(path);
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
    if (sentinel !== undefined)
      this.write({ op: 'nodes', records: fresh, sentinel: this.sentinelRecord(sentinel) });
    else if (fresh.length > 0) this.write({ op: 'nodes', records: fresh });
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
    this.write({ op: 'attach', strategyId, nodeIds: known, claimed, now });
    const producers = new Map<string, string>();
    for (const id of known) producers.set(id, this.graph.producer(id)!);
    return Promise.resolve(producers);
  }

  releaseStrategy(strategyId: string, now: number): Promise<string[]> {
    const strategy = this.graph.strategies.get(strategyId);
    if (strategy?.active !== true) return Promise.resolve([]);
    const produced = [...strategy.uses].filter((id) => this.graph.producer(id) === strategyId);
    this.write({ op: 'release', strategyId, now });
    return Promise.resolve(produced);
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
    this.write({ op: 'sentinel', sentinel: this.sentinelRecord(sentinel) });
    return Promise.resolve();
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
    this.write({ op: 'weight', sentinelId, weight, at: bounds.now });
    return Promise.resolve(existing !== undefined && existing.strategyId !== '' ? 'stored' : 'pending');
  }

  expirePendingWeights(cutoff: number): Promise<string[]> {
    const expired = this.graph.pendingBefore(cutoff);
    if (expired.length > 0) this.write({ op: 'expire', sentinelIds: expired });
    return Promise.resolve(expired);
  }

  clearBuffering(nodeIds: readonly string[]): Promise<void> {
    if (nodeIds.length > 0) this.write({ op: 'buffering', nodeIds, since: null });
    return Promise.resolve();
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
    this.write({ op: 'drop', topic });
    return Promise.resolve(true);
  }

  /** Every stored node (embedded mode gives the in-process queues their topics back at start). */
  records(): IterableIterator<NodeRecord> {
    return this.graph.records();
  }

  health(): Promise<'ok' | 'error'> {
    return Promise.resolve('ok');
  }

  /** Releases the journal's lock; the repository is not used afterwards. */
  close(): Promise<void> {
    this.unlock();
    return Promise.resolve();
  }

  /** The sentinel as stored: a weight already set on it is kept. */
  private sentinelRecord(sentinel: NewSentinel): SentinelRecord {
    const weight = this.graph.sentinels.get(sentinel.sentinelId)?.weight ?? null;
    return { ...sentinel, nodeIds: [...sentinel.nodeIds], weight };
  }

  private write(operation: GraphOperation): void {
    if (this.path === null) {
      this.graph.apply(operation);
      return;
    }
    const line = `${JSON.stringify(operation)}\n`;
    appendFileSync(this.path, line);
    this.graph.apply(operation);
    this.appendedBytes += Buffer.byteLength(line);
    if (this.appendedBytes >= Math.max(this.compactAfterBytes, this.snapshotBytes)) this.compact(this.path);
  }

  private load(path: string): void {
    if (existsSync(path)) {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        throw new QmtlError(
          ErrorCode.InvalidConfig,
          `DAG Manager journal ${quote(path)} (memory_repo_path) cannot be read: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const lines = text.split('\n');
      lines.forEach((line, index) => {
        if (line.trim() === '') return;
        let operation: GraphOperation;
        try {
          operation = JSON.parse(line) as GraphOperation;
        } catch (error) {
          // A torn last line (crash mid-append) is dropped; anything else is corruption.
          if (index === lines.length - 1 || lines.slice(index + 1).every((l) => l.trim() === '')) return;
          throw new QmtlError(
            ErrorCode.InvalidConfig,
            `DAG Manager journal ${quote(path)} is corrupt at line ${index + 1}`,
            { cause: error },
          );
        }
        try {
          this.graph.apply(operation);
        } catch (error) {
          throw new QmtlError(
            ErrorCode.InvalidConfig,
            `DAG Manager journal ${quote(path)} is corrupt at line ${index + 1}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      });
    }
    this.compact(path);
  }

  /** Replaces the journal with a snapshot of the graph: a synced temporary file renamed over it. */
  private compact(path: string): void {
    const text = this.graph
      .snapshot()
      .map((op) => `${JSON.stringify(op)}\n`)
      .join('');
    const temporary = `${path}.compact`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    this.snapshotBytes = Buffer.byteLength(text);
    this.appendedBytes = 0;
  }
}
