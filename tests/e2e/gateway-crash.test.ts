/**
 * The Gateway under crashes, as separate processes (reliability plan C2, tests 3 and 4): a burst
 * of submissions, then `kill -9` of `qmtl gw` (restarted with the same config) or of its Redis
 * (restarted from its AOF), then a checker that compares what the clients were told (the 202s)
 * with the database:
 *
 * - every acknowledged submission is stored under the id its 202 carried and reaches `completed`;
 * - a submission whose request died with the process is stored or not, but at most once;
 * - a rejected one (503 / 204 degradation gate) is not stored;
 * - nothing is processed twice: every stored strategy's event log is exactly
 *   `INIT → PROCESS → COMPLETE`, and no row is left non-terminal 30 s after the restart;
 * - `GET /strategies/:id/status` agrees with the database, and the Redis FIFO drains.
 *
 * Gateway SIGKILL, two setups: embedded (SQLite file, memory state, in-process DAG Manager with a
 * journal file) and distributed (PostgreSQL in a database of its own, Redis with AOF on a DB
 * index of its own, the DAG Manager as a separate `qmtl dagmgr-server`); kill points are drawn
 * from a fixed seed (`QMTL_CRASH_SEED` overrides it), three per setup. Redis SIGKILL: a
 * `redis-server` of this file's own, `appendfsync always` and `everysec`.
 *
 * Needs `npm run build` first: it runs `dist/cli/main.js`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { chainDag } from '../../src/dagmanager/dag.test-kit.js';
import { submission } from '../../src/gateway/gateway.test-kit.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'dist', 'cli', 'main.js');
const seed = Number(process.env['QMTL_CRASH_SEED'] ?? 20_240_611);
/** Submissions offered per burst, their arrival rate and the most requests open at once. */
const BURST = { size: 300, ratePerSecond: 150, maxInFlight: 20 } as const;
const KILLS_PER_SETUP = 3;
/** How long a SIGKILLed Redis stays down before it restarts from its AOF. */
const REDIS_OUTAGE_MS = 1500;
/** How long after a restart every stored strategy must be terminal (the plan's pass criterion). */
const RECOVERY_DEADLINE_MS = 30_000;
/** The Redis DB index this file owns (FLUSHDB'd before and after); other suites use other indexes. */
const REDIS_DB = 5;

const work = mkdtempSync(path.join(tmpdir(), 'qmtl-gw-crash-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** A child process (a `qmtl` service or a `redis-server`) and the groups its ready line matched. */
interface ServiceProcess {
  readonly child: ChildProcess;
  readonly ready: RegExpExecArray;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly output: () => string;
}

/** Runs `command <args>` from `cwd` and resolves once its stdout matches `ready`. */
async function startProcess(
  command: string,
  args: readonly string[],
  cwd: string,
  ready: RegExp,
): Promise<ServiceProcess> {
  const child = spawn(command, args, { cwd, env: { ...process.env, QMTL_LOG_LEVEL: 'warn' } });
  children.add(child);
  let output = '';
  // Keeps the tail only: a long run's warnings must not grow without bound.
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const name = path.basename(args[0] === bin ? `qmtl ${args[1]}` : command);
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${output}`)), 20_000);
    const check = (): void => {
      const found = ready.exec(output);
      if (found === null) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(found);
    };
    child.stdout.on('data', check);
    child.once('error', reject);
    void exited.then(() => reject(new Error(`${name} exited:\n${output}`)));
  });
  return { child, ready: match, exited, output: () => output };
}

/** Runs `qmtl <args>` (the built bin) from `cwd`; see {@link startProcess}. */
function startService(args: readonly string[], cwd: string, ready: RegExp): Promise<ServiceProcess> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first`);
  return startProcess(process.execPath, [bin, ...args], cwd, ready);
}

/** A running `qmtl gw` and its base URL. */
interface GatewayProcess extends ServiceProcess {
  readonly url: string;
}

async function startGateway(configFile: string): Promise<GatewayProcess> {
  const service = await startService(
    ['gw', '--config', configFile],
    work,
    /Gateway running: (http:\/\/[\d.]+:\d+)/,
  );
  return { ...service, url: service.ready[1]! };
}

/** What one submission got back. */
type Outcome =
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

/** Submission attempts the degradation gate turned away (503 MINIMAL, 204 STATIC), per burst. */
interface Burst {
  readonly outcomes: Outcome[];
  readonly gated: number;
}

/** When a burst pulls the plug. */
interface KillPlan {
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
async function burst(url: string, seqs: readonly number[], plan: KillPlan): Promise<Burst> {
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

/** A deterministic PRNG (mulberry32), so a failing kill point can be replayed with its seed. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A strategy row as the checker reads it, straight from the Gateway's database. */
interface StoredStrategy {
  readonly id: string;
  readonly status: string;
  readonly seq: number;
  /** `event:from>to`, oldest first. */
  readonly events: readonly string[];
}

/** Read access to the Gateway's database, behind the Gateway's back (the caller owns the connection). */
interface StrategyRows {
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

function sqliteRows(file: string): StrategyRows {
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

function postgresRows(pool: pg.Pool): StrategyRows {
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

/** Polls until `ids` are all `completed` via GET /strategies/:id; returns the ids that never got there. */
async function untilCompleted(url: string, ids: readonly string[], deadline: number): Promise<string[]> {
  let pending = [...ids];
  for (;;) {
    const still: string[] = [];
    for (let i = 0; i < pending.length; i += 20) {
      const batch = pending.slice(i, i + 20);
      const statuses = await Promise.all(
        batch.map(async (id) => {
          // 204 (STATIC degradation, e.g. a saturated host) or a transient error: look again.
          const response = await fetch(`${url}/strategies/${id}`).catch(() => null);
          if (response?.status !== 200) return null;
          return ((await response.json()) as { status: string }).status;
        }),
      );
      batch.forEach((id, k) => statuses[k] !== 'completed' && still.push(id));
    }
    pending = still;
    if (pending.length === 0 || Date.now() > deadline) return pending;
    await sleep(200);
  }
}

/** Polls the database until no strategy is left `queued`/`processing`, or the deadline passes. */
async function untilAllTerminal(rows: StrategyRows, deadline: number): Promise<StoredStrategy[]> {
  for (;;) {
    const stored = await rows.list();
    const busy = stored.filter((s) => s.status === 'queued' || s.status === 'processing');
    if (busy.length === 0 || Date.now() > deadline) return stored;
    await sleep(200);
  }
}

/**
 * GET `url`; a 204 (STATIC degradation: a saturated host, see {@link burst}) is asked
 * again every 100 ms for up to 10 s.
 */
async function getPastGate(url: string): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const response = await fetch(url);
    if (response.status !== 204 || Date.now() > deadline)
      return {
        status: response.status,
        body: response.status === 200 ? await response.json() : await response.text(),
      };
    await sleep(100);
  }
}

/** `id: status` for each of `ids` whose `GET /strategies/:id/status` (the cached status) is not `completed`. */
async function notCompletedStatuses(url: string, ids: readonly string[]): Promise<string[]> {
  const answers: string[] = [];
  for (let i = 0; i < ids.length; i += 20) {
    const batch = ids.slice(i, i + 20);
    const statuses = await Promise.all(
      batch.map(async (id) => {
        const answer = await getPastGate(`${url}/strategies/${id}/status`);
        return answer.status === 200 ? (answer.body as { status: string }).status : `HTTP ${answer.status}`;
      }),
    );
    batch.forEach((id, k) => statuses[k] !== 'completed' && answers.push(`${id}: ${statuses[k]}`));
  }
  return answers;
}

/** One recovery to check: the burst before it, and where to look. */
interface Recovery {
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
async function checkRecovery(recovery: Recovery): Promise<void> {
  const { url, rows, burst: sent, since } = recovery;
  const acked = sent.outcomes.flatMap((o) => (o.kind === 'acked' ? [o.strategyId] : []));
  const deadline = since + RECOVERY_DEADLINE_MS;
  expect.soft(await untilCompleted(url, acked, deadline), 'acknowledged, never completed').toEqual([]);
  const stored = await untilAllTerminal(rows, deadline);
  const recoveredMs = Date.now() - since;
  expect.soft(violations(stored, recovery.all), 'database vs. what clients were told').toEqual([]);
  const seqs = new Set(sent.outcomes.map((o) => o.seq));
  const mine = stored.filter((s) => seqs.has(s.seq));
  const ackedIds = new Set(acked);
  const stale = await notCompletedStatuses(
    url,
    mine.map((s) => s.id),
  );
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
      `${stored.length - busy}/${stored.length} stored strategies completed ${recoveredMs} ms after the restart`,
  );
  expect.soft(count('acked'), 'acknowledged before the kill').toBeGreaterThan(0);
  expect
    .soft(sent.outcomes.filter((o) => o.kind === 'rejected' && o.status !== 503 && o.status !== 204))
    .toEqual([]);
}

/** Polls until the Redis FIFO, its in-flight list and the worker locks are empty; soft-expects they are. */
async function expectRedisDrained(redis: RedisClient, label: string): Promise<void> {
  // Locks of a killed worker expire after lock_ttl_ms (2 s).
  const deadline = Date.now() + 10_000;
  let leftovers: string[] = [];
  do {
    const [queued, inFlight, locks] = await Promise.all([
      redis.lRange('strategy_queue', 0, -1),
      redis.lRange('strategy_queue:inflight', 0, -1),
      redis.keys('lock:*'),
    ]);
    leftovers = [...queued, ...inFlight.map((id) => `in flight ${id}`), ...locks];
    if (leftovers.length > 0) await sleep(200);
  } while (leftovers.length > 0 && Date.now() < deadline);
  expect.soft(leftovers, `${label}: Redis FIFO, in-flight list and locks after recovery`).toEqual([]);
}

/** A plain node-redis client, to look at the Gateway's keys behind its back. */
async function redisClient(dsn: string) {
  const client = createClient({ url: dsn, RESP: 2 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

type RedisClient = Awaited<ReturnType<typeof redisClient>>;

/** What a setup provides to the Gateway crash scenario. */
interface CrashSetup {
  readonly name: string;
  readonly configFile: string;
  readonly rows: StrategyRows;
  /** Offsets the seed, so each setup gets kill points of its own. */
  readonly seedOffset: number;
  /** Extra checks once a recovery is over (e.g. the Redis FIFO drained). */
  readonly afterRecovery?: () => Promise<void>;
}

/**
 * Gateway SIGKILL: start, then {@link KILLS_PER_SETUP} times burst → SIGKILL after N 202s →
 * restart → check; finally a graceful stop.
 */
async function crashRestartScenario(setup: CrashSetup): Promise<void> {
  const draw = random(seed + setup.seedOffset);
  let gateway = await startGateway(setup.configFile);
  const all: Outcome[] = [];
  try {
    for (let kill = 0; kill < KILLS_PER_SETUP; kill++) {
      const afterAcks = 20 + Math.floor(draw() * 140);
      const seqs = Array.from({ length: BURST.size }, (_, i) => kill * 1000 + i);
      const victim = gateway;
      const sent = await burst(victim.url, seqs, { afterAcks, kill: () => victim.child.kill('SIGKILL') });
      expect((await victim.exited).signal).toBe('SIGKILL');
      all.push(...sent.outcomes);
      const since = Date.now();
      gateway = await startGateway(setup.configFile);
      const label = `[${setup.name}] seed ${seed} kill ${kill + 1}, Gateway SIGKILL after ${afterAcks} 202s`;
      await checkRecovery({ label, url: gateway.url, rows: setup.rows, burst: sent, all, since });
      await setup.afterRecovery?.();
    }
  } finally {
    gateway.child.kill('SIGTERM');
  }
  expect(await gateway.exited).toEqual({ code: 0, signal: null });
}

/** A loopback port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Redis SIGKILL: a Gateway on a `redis-server` of its own (AOF with `fsync`), which is killed
 * after the 60th 202 of a burst that goes on, and restarted from its AOF {@link REDIS_OUTAGE_MS}
 * later; then the usual checks, and the FIFO must drain.
 */
async function redisKillScenario(options: {
  fsync: 'always' | 'everysec';
  databaseDsn: string;
  dagManagerUrl: string;
}): Promise<void> {
  const dir = mkdtempSync(path.join(work, `redis-${options.fsync}-`));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
  const aof = ['--appendonly', 'yes', '--appendfsync', options.fsync];
  const startRedis = (): Promise<ServiceProcess> =>
    startProcess('redis-server', [...args, ...aof], dir, /Ready to accept connections/);
  let redisServer = await startRedis();
  const configFile = path.join(dir, 'qmtl.yml');
  writeFileSync(
    configFile,
    stringify({
      gateway: gatewayConfig({
        database_backend: 'postgres',
        database_dsn: options.databaseDsn,
        queue_backend: 'redis',
        redis_dsn: `redis://127.0.0.1:${port}`,
        dagmanager_url: options.dagManagerUrl,
        // While Redis is down nothing is processed: answer 202 `queued` soon instead of after 10 s.
        diff_wait_ms: 1000,
      }),
    }),
  );
  const gateway = await startGateway(configFile);
  const pool = new pg.Pool({ connectionString: options.databaseDsn, max: 2 });
  let redis: RedisClient | null = null;
  try {
    let outage: Promise<number> = Promise.resolve(Date.now());
    const seqs = Array.from({ length: BURST.size }, (_, i) => i);
    const sent = await burst(gateway.url, seqs, {
      afterAcks: 60,
      keepSending: true,
      kill: () => {
        const victim = redisServer;
        victim.child.kill('SIGKILL');
        outage = (async () => {
          await victim.exited;
          await sleep(REDIS_OUTAGE_MS);
          redisServer = await startRedis();
          return Date.now();
        })();
      },
    });
    const since = await outage;
    const label = `[redis appendfsync ${options.fsync}] Redis SIGKILL after 60 202s, back ${REDIS_OUTAGE_MS} ms later`;
    await checkRecovery({
      label,
      url: gateway.url,
      rows: postgresRows(pool),
      burst: sent,
      all: sent.outcomes,
      since,
    });
    // The Gateway felt the outage: some submissions were answered without their diff.
    const queued = sent.outcomes.filter((o) => o.kind === 'acked' && o.status === 'queued').length;
    console.log(`${label}: ${queued} of the 202s said "queued"`);
    expect.soft(queued, '202s answered "queued" during the Redis outage').toBeGreaterThan(0);
    redis = await redisClient(`redis://127.0.0.1:${port}`);
    await expectRedisDrained(redis, label);
  } finally {
    await redis?.close();
    await pool.end();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    redisServer.child.kill('SIGKILL');
    await redisServer.exited;
  }
}

function gatewayConfig(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    port: 0,
    lock_ttl_ms: 2000,
    degradation_check_interval: 1,
    dagclient_breaker_timeout: 2,
    stats_rate_limit_per_minute: 0,
    ...overrides,
  };
}

describe('Gateway crash-restart, embedded (SQLite + memory state + in-process DAG Manager)', () => {
  it('loses no acknowledged submission and processes none twice across three Gateway SIGKILLs', async () => {
    const dir = mkdtempSync(path.join(work, 'embedded-'));
    const dbFile = path.join(dir, 'gateway.db');
    const configFile = path.join(dir, 'qmtl.yml');
    writeFileSync(
      configFile,
      stringify({
        gateway: gatewayConfig({ database_backend: 'sqlite', database_dsn: dbFile, queue_backend: 'memory' }),
        dagmanager: {
          grpc_port: 0,
          http_port: 0,
          memory_repo_path: path.join(dir, 'dag.journal'),
          archive_dir: path.join(dir, 'archive'),
          gc_interval: 0,
        },
      }),
    );
    await crashRestartScenario({ name: 'embedded', seedOffset: 0, configFile, rows: sqliteRows(dbFile) });
  }, 120_000);
});

const reachable = { postgres: await isReachable('postgres'), redis: await isReachable('redis') };

describeWithServer('postgres', reachable.postgres, 'Gateway crash-restart, distributed', () => {
  describeWithServer('redis', reachable.redis, '(PostgreSQL + Redis + qmtl dagmgr-server)', () => {
    /** A database per scenario, dropped after the suite. */
    const databases = new Map<string, string>();
    const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
    const databaseDsn = async (scenario: string): Promise<string> => {
      const name = `qmtl_crash_${scenario}_${suffix}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.set(scenario, name);
      return `postgresql://postgres@${servers.postgres.address}/${name}`;
    };
    const redisDsn = `redis://${servers.redis.address}/${REDIS_DB}`;
    let admin: pg.Pool;
    let redis: RedisClient;
    let dagManager: ServiceProcess;

    beforeAll(async () => {
      admin = new pg.Pool({
        connectionString: `postgresql://postgres@${servers.postgres.address}/qmtl`,
        max: 1,
      });
      redis = await redisClient(redisDsn);
      await redis.flushDb();
      const dir = mkdtempSync(path.join(work, 'dagmgr-'));
      writeFileSync(
        path.join(dir, 'qmtl.yml'),
        stringify({
          dagmanager: {
            grpc_port: 0,
            http_port: 0,
            memory_repo_path: path.join(dir, 'dag.journal'),
            archive_dir: path.join(dir, 'archive'),
            gc_interval: 0,
          },
        }),
      );
      dagManager = await startService(
        ['dagmgr-server', '--config', path.join(dir, 'qmtl.yml')],
        dir,
        /gRPC (\S+), HTTP/,
      );
    }, 30_000);

    afterAll(async () => {
      dagManager?.child.kill('SIGTERM');
      await dagManager?.exited;
      if (redis?.isOpen) {
        await redis.flushDb();
        await redis.close();
      }
      for (const name of databases.values())
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin?.end();
    });

    it('loses no acknowledged submission and processes none twice across three Gateway SIGKILLs', async () => {
      const dsn = await databaseDsn('gateway');
      const configFile = path.join(work, 'distributed.yml');
      writeFileSync(
        configFile,
        stringify({
          gateway: gatewayConfig({
            database_backend: 'postgres',
            database_dsn: dsn,
            queue_backend: 'redis',
            redis_dsn: redisDsn,
            dagmanager_url: dagManager.ready[1],
          }),
        }),
      );
      const pool = new pg.Pool({ connectionString: dsn, max: 2 });
      await crashRestartScenario({
        name: 'distributed',
        seedOffset: 1,
        configFile,
        rows: postgresRows(pool),
        afterRecovery: () => expectRedisDrained(redis, 'distributed'),
      }).finally(() => pool.end());
    }, 120_000);

    it.each(['always', 'everysec'] as const)(
      'loses no acknowledged submission when Redis (appendfsync %s) is SIGKILLed mid-burst',
      async (fsync) => {
        await redisKillScenario({
          fsync,
          databaseDsn: await databaseDsn(fsync),
          dagManagerUrl: dagManager.ready[1]!,
        });
      },
      60_000,
    );
  });
});
