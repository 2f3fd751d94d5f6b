import { ErrorCode, QmtlError, quote } from '../../common/errors.js';
import { StrategyStatus } from '../strategy-status.js';
import type {
  InsertOutcome,
  NewStrategy,
  StoredDiff,
  StrategyEventRecord,
  StrategyRecord,
  StrategyStore,
} from './strategy-store.js';

interface MutableRecord {
  readonly strategy: NewStrategy;
  status: StrategyStatus;
  diff: StoredDiff | null;
}

/**
 * The {@link StrategyStore} of the embedded mode: plain maps in this process, gone when it exits
 * (not durable, not shared between Gateways). Values are copied through JSON on the way in and
 * out, exactly like the SQL adapters store them, so callers never share objects with the store.
 *
 * @example
 * const store = new MemoryStrategyStore();
 * await store.insert({ id, dagHash, dagJson, meta: null, runType: 'backtest', createdAt: Date.now() });
 */
export class MemoryStrategyStore implements StrategyStore {
  private readonly strategies = new Map<string, MutableRecord>();
  private readonly eventLog = new Map<string, StrategyEventRecord[]>();
  /** DAG hash → id of the strategy that holds it (the one that is not stopped). */
  private readonly activeHashes = new Map<string, string>();
  private closed = false;

  insert(strategy: NewStrategy): Promise<InsertOutcome> {
    return this.run(() => {
      // The holder of the hash first, then the id, in the order of the SQL adapters' checks.
      const holderId = this.activeHashes.get(strategy.dagHash);
      const holder = holderId === undefined ? undefined : this.strategies.get(holderId);
      if (holderId !== undefined && holder !== undefined) {
        return { inserted: false, existingId: holderId, existingStatus: holder.status };
      }
      if (this.strategies.has(strategy.id)) throw duplicateId(strategy.id);
      const stored = { ...strategy, meta: copyJson(strategy.meta) };
      this.strategies.set(strategy.id, { strategy: stored, status: StrategyStatus.Queued, diff: null });
      this.activeHashes.set(strategy.dagHash, strategy.id);
      const init: StrategyEventRecord = {
        strategyId: strategy.id,
        event: 'INIT',
        fromStatus: null,
        toStatus: StrategyStatus.Queued,
        at: strategy.createdAt,
      };
      this.eventLog.set(strategy.id, [init]);
      return { inserted: true };
    });
  }

  get(id: string): Promise<StrategyRecord | null> {
    return this.run(() => {
      const record = this.strategies.get(id);
      if (record === undefined) return null;
      return {
        ...record.strategy,
        meta: copyJson(record.strategy.meta),
        status: record.status,
        diff: copyJson(record.diff),
      };
    });
  }

  transition(
    id: string,
    from: StrategyStatus,
    to: StrategyStatus,
    event: string,
    at: number,
    diff?: StoredDiff,
  ): Promise<boolean> {
    return this.run(() => {
      const record = this.strategies.get(id);
      if (record?.status !== from) return false;
      const { dagHash } = record.strategy;
      if (to === StrategyStatus.Stopped) {
        if (this.activeHashes.get(dagHash) === id) this.activeHashes.delete(dagHash);
      } else if (from === StrategyStatus.Stopped) {
        // Like the SQL unique index: leaving `stopped` re-claims the hash only while it is free.
        if (this.activeHashes.has(dagHash)) throw hashTaken(id, dagHash);
        this.activeHashes.set(dagHash, id);
      }
      record.status = to;
      if (diff !== undefined) record.diff = copyJson(diff);
      this.eventLog.get(id)?.push({ strategyId: id, event, fromStatus: from, toStatus: to, at });
      return true;
    });
  }

  saveDiff(id: string, diff: StoredDiff): Promise<void> {
    return this.run(() => {
      const record = this.strategies.get(id);
      if (record === undefined) throw unknownStrategy(id);
      record.diff = copyJson(diff);
    });
  }

  events(id: string): Promise<StrategyEventRecord[]> {
    return this.run(() => (this.eventLog.get(id) ?? []).map((event) => ({ ...event })));
  }

  listByStatus(statuses: readonly StrategyStatus[]): Promise<string[]> {
    return this.run(() => {
      const wanted = new Set(statuses);
      return [...this.strategies.values()]
        .filter((record) => wanted.has(record.status))
        .map((record) => record.strategy)
        .sort((a, b) => a.createdAt - b.createdAt || compareText(a.id, b.id))
        .map((strategy) => strategy.id);
    });
  }

  health(): Promise<boolean> {
    return Promise.resolve(!this.closed);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Runs a synchronous operation as a promise: its throw (or a closed store) becomes a rejection. */
  private run<T>(operation: () => T): Promise<T> {
    try {
      if (this.closed) throw new QmtlError(ErrorCode.Unavailable, 'The memory strategy store is closed');
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Orders ids by code unit, like SQL's binary collation (`localeCompare` would not). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A deep copy with exactly what a JSON column would keep (and the same refusal of bigint). */
function copyJson<T>(value: T): T {
  if (value === null) return value;
  try {
    return JSON.parse(JSON.stringify(value)) as T;
  } catch (error) {
    throw new QmtlError(ErrorCode.InvalidArgument, `Value is not JSON-serialisable: ${quote(value)}`, {
      cause: error,
    });
  }
}

function duplicateId(id: string): QmtlError {
  return new QmtlError(ErrorCode.InvalidArgument, `Strategy id ${quote(id)} is already stored`);
}

function hashTaken(id: string, dagHash: string): QmtlError {
  return new QmtlError(
    ErrorCode.InvalidArgument,
    `Strategy ${quote(id)} cannot leave "stopped": another active strategy holds DAG hash ${quote(dagHash)}`,
  );
}

function unknownStrategy(id: string): QmtlError {
  return new QmtlError(ErrorCode.NotFound, `Unknown strategy ${quote(id)}`);
}
