/**
 * Burst-and-check for the Gateway crash tests: {@link burst} offers submissions at a constant
 * rate and records what each one was told (acknowledged, rejected, unanswered) while a process is
 * killed; {@link checkRecovery} then reads the Gateway's database behind its back
 * ({@link sqliteRows}, {@link postgresRows}) and compares it with what the clients were told.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { expect } from 'vitest';
import { chainDag } from '../../src/dagmanager/dag.test-kit.js';
import { submission } from '../../src/gateway/gateway.test-kit.js';
import { callPastGate, until, type RedisClient } from './service-clients.js';

/** Submissions offered per burst, their arrival rate and the most requests open at once. */
export const BURST = { size: 300, ratePerSecond: 150, maxInFlight: 20 } as const;
/** How long after a restart every stored strategy must be terminal (the plan's pass criterion). */
const RECOVERY_DEADLINE_MS = 30_000;

/** What one submission got back. */
export type Outcome =
  /** `status`: the strategy's status in the 202 (`queued` when it came without its diff). */
  | { readonly seq: number; readonly kind: 'acked'; readonly strategyId: string; readonly status: string }
  | { readonly seq: number; readonly kind: 'rejected'; readonly status: number; readonly body: string }
  /** The connection died (the Gateway was killed): the submission may or may not be stored. */
  | { readonly seq: number; readonly kind: 'unanswered'; readonly error: string };

/** A submission body per sequence number: a DAG of its own (2–4 nodes), the number in `meta.seq`. */
function body(seq: number): string {
  return JSON.stringify(submission(chainDag(2 + (seq % 3), `crash${seq}-`), { meta: { seq } }));
}

async function submit(url: string, seq: number, text: string): Promise<Outcome> {
  try {
    const response = await fetch(`${url}/strategies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
      signal: AbortSignal.timeout(20_000),
    });
    const reply = await response.text();
    if (response.status !== 202) return { seq, kind: 'rejected', status: response.status, body: reply };
    const { strategy_id: strategyId, status } = JSON.parse(reply) as { strategy_id: string; status: string };
    return { seq, kind: 'acked', strategyId, status };
  } catch (error) {
    return { seq, kind: 'unanswered', error: String((error as Error).cause ?? error) };
  }
}

/** The outcomes of a burst, and the attempts the degradation gate turned away (503 MINIMAL, 204 STATIC). */
export interface Burst {
  readonly outcomes: Outcome[];
  readonly gated: number;
}

/** When a burst pulls the plug. */
export interface KillPlan {
  /** The kill comes with the `afterAcks`-th 202 (or after the last request, if it never does). */
  readonly afterAcks: number;
  readonly kill: () => void;
  /** Keep offering the rest after the kill (the Gateway survives it); default: stop sending. */
  readonly keepSending?: boolean;
}

/**
 * Offers `seqs` at a constant arrival rate (open loop, at most `maxInFlight` open) and runs the
 * kill plan. A submission the degradation gate turns away (503, or 204 in STATIC: the host's CPU,
 * which other processes share, is over 85 / 95 %) was not stored, so it is offered again 100 ms
 * later, as a client honouring Retry-After would, for at most 20 s. Resolves with each
 * submission's last outcome once all have settled.
 */
export async function burst(url: string, seqs: readonly number[], plan: KillPlan): Promise<Burst> {
  const bodies = new Map(seqs.map((seq) => [seq, body(seq)]));
  const outcomes: Outcome[] = [];
  const open = new Set<Promise<void>>();
  let acked = 0;
  let gated = 0;
  let killed = false;
  const killOnce = (): void => {
    if (killed) return;
    killed = true;
    plan.kill();
  };
  const stopped = (): boolean => killed && plan.keepSending !== true;
  const started = performance.now();
  const offer = async (seq: number): Promise<Outcome> => {
    for (;;) {
      const outcome = await submit(url, seq, bodies.get(seq)!);
      const turnedAway = outcome.kind === 'rejected' && (outcome.status === 503 || outcome.status === 204);
      if (!turnedAway || stopped() || performance.now() - started > 20_000) return outcome;
      gated++;
      await sleep(100);
    }
  };
  for (const [index, seq] of seqs.entries()) {
    const due = started + (index * 1000) / BURST.ratePerSecond;
    if (due > performance.now()) await sleep(due - performance.now());
    while (open.size >= BURST.maxInFlight) await Promise.race(open);
    if (stopped()) break;
    const request: Promise<void> = offer(seq)
      .then((outcome) => {
        outcomes.push(outcome);
        if (outcome.kind === 'acked' && ++acked >= plan.afterAcks) killOnce();
      })
      .finally(() => open.delete(request));
    open.add(request);
  }
  await Promise.all(open);
  killOnce();
  return { outcomes, gated };
}

/** A strategy row as the checker reads it, straight from the Gateway's database. */
export interface StoredStrategy {
  readonly id: string;
  readonly status: string;
  readonly seq: number;
  /** `event:from>to`, oldest first. */
  readonly events: readonly string[];
}

/** Read access to the Gateway's database, behind the Gateway's back (the caller owns the connection). */
export interface StrategyRows {
  list(): Promise<StoredStrategy[]>;
}

const ROWS_SQL = `SELECT s.id, s.status, s.meta, e.event, e.from_status, e.to_status
  FROM strategies s LEFT JOIN strategy_events e ON e.strategy_id = s.id ORDER BY s.id, e.id`;

interface JoinedRow {
  id: string;
  status: string;
  meta: string | { seq: number } | null;
  event: string | null;
  from_status: string | null;
  to_status: string | null;
}

function toStrategies(rows: readonly JoinedRow[]): StoredStrategy[] {
  const byId = new Map<string, StoredStrategy & { events: string[] }>();
  for (const row of rows) {
    let strategy = byId.get(row.id);
    if (strategy === undefined) {
      const meta = typeof row.meta === 'string' ? (JSON.parse(row.meta) as { seq: number }) : row.meta;
      strategy = { id: row.id, status: row.status, seq: meta?.seq ?? -1, events: [] };
      byId.set(row.id, strategy);
    }
    if (row.event !== null) strategy.events.push(`${row.event}:${row.from_status ?? '-'}>${row.to_status}`);
  }
  return [...byId.values()];
}

/** The strategies in a Gateway's SQLite file. */
export function sqliteRows(file: string): StrategyRows {
  return {
    list() {
      // A fresh read-only connection per look: it sees the latest commits of the WAL.
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        return Promise.resolve(toStrategies(db.prepare(ROWS_SQL).all() as JoinedRow[]));
      } finally {
        db.close();
      }
    },
  };
}

/** The strategies in a Gateway's PostgreSQL database, read through `pool`. */
export function postgresRows(pool: pg.Pool): StrategyRows {
  return {
    async list() {
      return toStrategies((await pool.query<JoinedRow>(ROWS_SQL)).rows);
    },
  };
}

const EXPECTED_EVENTS = ['INIT:->queued', 'PROCESS:queued>processing', 'COMPLETE:processing>completed'];

/** Every way the stored strategies disagree with what the clients were told; empty when they agree. */
function violations(stored: readonly StoredStrategy[], outcomes: readonly Outcome[]): string[] {
  const problems: string[] = [];
  const bySeq = new Map<number, StoredStrategy[]>();
  for (const strategy of stored) bySeq.set(strategy.seq, [...(bySeq.get(strategy.seq) ?? []), strategy]);
  for (const [seq, copies] of bySeq) {
    if (copies.length > 1)
      problems.push(`seq ${seq} stored ${copies.length} times: ${copies.map((c) => c.id).join(', ')}`);
  }
  for (const strategy of stored) {
    if (strategy.status !== 'completed')
      problems.push(`${strategy.id} (seq ${strategy.seq}) is ${strategy.status}`);
    if (strategy.events.join(' ') !== EXPECTED_EVENTS.join(' '))
      problems.push(`${strategy.id} (seq ${strategy.seq}) events: ${strategy.events.join(' ')}`);
  }
  const offered = new Set(outcomes.map((o) => o.seq));
  for (const outcome of outcomes) {
    const copies = bySeq.get(outcome.seq) ?? [];
    if (outcome.kind === 'acked' && copies[0]?.id !== outcome.strategyId)
      problems.push(
        `acknowledged seq ${outcome.seq} (${outcome.strategyId}) is stored as ${copies[0]?.id ?? 'nothing'}`,
      );
    if (outcome.kind === 'rejected' && copies.length > 0)
      problems.push(`rejected seq ${outcome.seq} (HTTP ${outcome.status}) was stored as ${copies[0]!.id}`);
  }
  return problems.concat(
    [...bySeq.keys()].filter((seq) => !offered.has(seq)).map((seq) => `seq ${seq} stored but never sent`),
  );
}

/** `look` at each of `ids`, 20 at a time; the non-null answers, in the order of `ids`. */
async function lookInBatches(
  ids: readonly string[],
  look: (id: string) => Promise<string | null>,
): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < ids.length; i += 20) {
    const answers = await Promise.all(ids.slice(i, i + 20).map(look));
    for (const answer of answers) if (answer !== null) found.push(answer);
  }
  return found;
}

/**
 * Polls `statusOf` for each of `ids` until every one says `completed`, or the deadline passes;
 * returns `id: status` of those that never did.
 */
async function untilCompleted(
  ids: readonly string[],
  statusOf: (id: string) => Promise<string>,
  deadline: number,
): Promise<string[]> {
  let left: string[] = [];
  let pending = [...ids];
  await until(
    async () => {
      left = await lookInBatches(pending, async (id) => {
        const status = await statusOf(id);
        return status === 'completed' ? null : `${id}: ${status}`;
      });
      pending = left.map((entry) => entry.split(':')[0]!);
      return left.length === 0;
    },
    deadline - Date.now(),
    200,
  );
  return left;
}

/** A strategy's status as the database holds it (`GET /strategies/:id`). */
async function storedStatus(url: string, id: string): Promise<string> {
  // 204 (STATIC degradation, e.g. a saturated host) or a transient error: looked at again.
  const response = await fetch(`${url}/strategies/${id}`).catch(() => null);
  if (response?.status !== 200) return `HTTP ${response?.status ?? 'error'}`;
  return ((await response.json()) as { status: string }).status;
}

/**
 * A strategy's cached status (`GET /strategies/:id/status`). After a Gateway crash between a
 * database commit and its cache write the cache is behind until the sweep re-queues the dead
 * worker's item (its lock's TTL plus two sweeps), so callers wait for it rather than sample it.
 */
async function cachedStatus(url: string, id: string): Promise<string> {
  // A 204 (STATIC degradation: a saturated host, see burst) is asked again for up to 10 s.
  const answer = await callPastGate<{ status: string }>(`${url}/strategies/${id}/status`, {}, 10_000);
  return answer.status === 200 ? answer.body.status : `HTTP ${answer.status}`;
}

/** Polls the database until no strategy is left `queued`/`processing`, or the deadline passes. */
async function untilAllTerminal(rows: StrategyRows, deadline: number): Promise<StoredStrategy[]> {
  let stored: StoredStrategy[] = [];
  await until(
    async () => (stored = await rows.list()).every((s) => s.status !== 'queued' && s.status !== 'processing'),
    deadline - Date.now(),
    200,
  );
  return stored;
}

/** One recovery to check: the burst before it, and where to look. */
export interface Recovery {
  readonly label: string;
  readonly url: string;
  readonly rows: StrategyRows;
  readonly burst: Burst;
  /** Every outcome sent to this database so far, this burst's included. */
  readonly all: readonly Outcome[];
  /** When the killed process was back (ms since the epoch). */
  readonly since: number;
}

/**
 * Checks one recovery (softly: one kill's findings must not hide the next one's) and logs a
 * summary line: acknowledged ids completed, database consistent with the clients' view, cached
 * statuses right, nothing but the degradation gate's 503 / 204 refused.
 */
export async function checkRecovery(recovery: Recovery): Promise<void> {
  const { url, rows, burst: sent, since } = recovery;
  const acked = sent.outcomes.flatMap((o) => (o.kind === 'acked' ? [o.strategyId] : []));
  const deadline = since + RECOVERY_DEADLINE_MS;
  expect
    .soft(
      await untilCompleted(acked, (id) => storedStatus(url, id), deadline),
      'acknowledged, never completed',
    )
    .toEqual([]);
  const stored = await untilAllTerminal(rows, deadline);
  const recoveredMs = Date.now() - since;
  expect.soft(violations(stored, recovery.all), 'database vs. what clients were told').toEqual([]);
  const seqs = new Set(sent.outcomes.map((o) => o.seq));
  const mine = stored.filter((s) => seqs.has(s.seq));
  const ackedIds = new Set(acked);
  const stale = await untilCompleted(
    mine.map((s) => s.id),
    (id) => cachedStatus(url, id),
    deadline,
  );
  const statusesMs = Date.now() - since;
  expect
    .soft(
      stale.map((entry) => `${entry} (${ackedIds.has(entry.split(':')[0]!) ? 'acked' : 'unacknowledged'})`),
      'GET /strategies/:id/status of strategies completed in the database',
    )
    .toEqual([]);
  const count = (kind: Outcome['kind']): number => sent.outcomes.filter((o) => o.kind === kind).length;
  const unanswered = new Set(sent.outcomes.filter((o) => o.kind === 'unanswered').map((o) => o.seq));
  const busy = stored.filter((s) => s.status !== 'completed').length;
  console.log(
    `${recovery.label}: sent ${sent.outcomes.length}, acked ${count('acked')}, rejected ${count('rejected')} ` +
      `(${sent.gated} attempts turned away by the degradation gate and retried), ` +
      `unanswered ${unanswered.size} (stored anyway: ${mine.filter((s) => unanswered.has(s.seq)).length}); ` +
      `${stored.length - busy}/${stored.length} stored strategies completed ${recoveredMs} ms after the restart, ` +
      `their cached statuses ${statusesMs} ms after it`,
  );
  expect.soft(count('acked'), 'acknowledged before the kill').toBeGreaterThan(0);
  expect
    .soft(sent.outcomes.filter((o) => o.kind === 'rejected' && o.status !== 503 && o.status !== 204))
    .toEqual([]);
}

/** Polls until the Redis FIFO, its in-flight list and the worker locks are empty; soft-expects they are. */
export async function expectRedisDrained(redis: RedisClient, label: string): Promise<void> {
  let leftovers: string[] = [];
  // Locks of a killed worker expire after lock_ttl_ms (2 s).
  await until(
    async () => {
      const [queued, inFlight, locks] = await Promise.all([
        redis.lRange('strategy_queue', 0, -1),
        redis.lRange('strategy_queue:inflight', 0, -1),
        redis.keys('lock:*'),
      ]);
      leftovers = [...queued, ...inFlight.map((id) => `in flight ${id}`), ...locks];
      return leftovers.length === 0;
    },
    10_000,
    200,
  );
  expect.soft(leftovers, `${label}: Redis FIFO, in-flight list and locks after recovery`).toEqual([]);
}
