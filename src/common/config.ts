import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { MAX_TIMER_MS } from './deadline.js';
import { ErrorCode, QmtlError, quote, type Problem } from './errors.js';

/** A connection string (`*_dsn`): a string, or null for "use the embedded backend". */
const dsn = z.string().nullable();
const port = z.number().int().min(0).max(65_535);
const positiveInteger = z.number().int().min(1);
/** bolt://host[:port] or neo4j://host[:port] (with +s / +ssc), nothing after but an optional path. */
const NEO4J_URI = /^(bolt|neo4j)(\+s|\+ssc)?:\/\/(\[[0-9a-fA-F:.]+\]|[^:/?#\s]+)(:\d{1,5})?\/?$/;
/** {@link MAX_TIMER_MS} in whole seconds: the longest setting in seconds that a timer can wait for. */
const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);
const timerMs = (min: number) => z.number().int().min(min).max(MAX_TIMER_MS);
const timerSeconds = (min: number) => z.number().int().min(min).max(MAX_TIMER_SECONDS);
const timerSecondsFraction = z.number().positive().max(MAX_TIMER_SECONDS);

export const gatewayConfigSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: port.default(8000),
    /** Null: the embedded in-memory state store. */
    redis_dsn: dsn.default(null),
    database_backend: z.enum(['sqlite', 'postgres', 'memory']).default('sqlite'),
    database_dsn: dsn.default('./qmtl.db'),
    queue_backend: z.enum(['memory', 'redis']).default('memory'),
    insert_sentinel: z.boolean().default(true),
    /** `host:port` of the DAG Manager's gRPC; null: the DAG Manager runs in this process. */
    dagmanager_url: z.string().nullable().default(null),
    /** Largest request body; larger is 413. */
    max_body_bytes: positiveInteger.default(1_048_576),
    /** Most nodes a submitted DAG may have. */
    max_nodes: positiveInteger.default(100_000),
    /** Milliseconds a submission waits for its diff before answering 202 with status `queued`. */
    diff_wait_ms: timerMs(0).default(10_000),
    /** TTL of the per-strategy worker lock `lock:{id}`; a dead worker's item is retried after it. */
    lock_ttl_ms: timerMs(1).default(60_000),
    /** Milliseconds a heartbeat (POST /strategies/{id}/heartbeat) keeps a strategy's producer lease. */
    lease_ms: timerMs(1).default(15_000),
    /** Milliseconds between lease-monitor rounds, which stop the strategies whose lease expired. */
    lease_check_ms: timerMs(1).default(1_000),
    /** Strategies the worker processes at once (each waits mostly on the DAG Manager and the database). */
    worker_concurrency: positiveInteger.default(32),
    /** Connections of the PostgreSQL pool. */
    database_pool_size: positiveInteger.default(20),
    /** Submissions waiting for their diff at once; beyond, POST /strategies is 503 + Retry-After. */
    max_pending_submissions: positiveInteger.default(2_000),
    /** Canary weights kept for sentinels of no active strategy; past it the least recently updated is dropped. */
    unknown_weight_limit: z.number().int().min(0).default(1_000),
    /** Consecutive failed DAG Manager calls that open the client's circuit breaker. */
    dagclient_breaker_threshold: positiveInteger.default(3),
    /** Seconds the breaker stays open before one half-open probe. */
    dagclient_breaker_timeout: timerSecondsFraction.default(60),
    /** Seconds between dependency health checks (degradation level). */
    degradation_check_interval: timerSecondsFraction.default(5),
    /** System CPU percent above which new submissions get 503 (MINIMAL). */
    degradation_cpu_minimal: z.number().positive().default(85),
    /** System CPU percent above which every request gets 204 + Retry-After (STATIC). */
    degradation_cpu_static: z.number().positive().default(95),
    /** HS256 secret of bearer JWTs on mutating routes and /ws; null: no auth. */
    jwt_secret: z.string().min(16).nullable().default(null),
    jwt_audience: z.string().nullable().default(null),
    jwt_issuer: z.string().nullable().default(null),
    /** Requests per minute per client on /queues/*, /status, /health, /metrics; 0: no limit. */
    stats_rate_limit_per_minute: z.number().int().min(0).default(600),
    /** Submissions per minute per client on POST /strategies; 0: no limit (load is still shed by max_pending_submissions). */
    submit_rate_limit_per_minute: z.number().int().min(0).default(0),
  })
  .strict();

/** The `dagmanager:` section of `qmtl.yml` (SPEC §7). Its HTTP port differs from the Gateway's so both run side by side. */
export const dagManagerConfigSchema = z
  .object({
    repo_backend: z.enum(['memory', 'neo4j']).default('memory'),
    memory_repo_path: z.string().default('./qmtl-dag.journal'),
    neo4j_dsn: dsn
      .refine((value) => value === null || NEO4J_URI.test(value), {
        error: (issue) =>
          `expected a Bolt URI such as "bolt://127.0.0.1:7687" (bolt:// or neo4j://, a host, an optional numeric port), got ${JSON.stringify(issue.input)}`,
      })
      .default(null),
    neo4j_user: z.string().default('neo4j'),
    neo4j_password: z.string().nullable().default(null),
    queue_backend: z.enum(['memory', 'kafka']).default('memory'),
    kafka_dsn: dsn.default(null),
    grpc_host: z.string().default('127.0.0.1'),
    grpc_port: port.default(50_051),
    http_host: z.string().default('127.0.0.1'),
    http_port: port.default(8001),
    diff_chunk_size: positiveInteger.max(100).default(100),
    diff_ack_window: positiveInteger.default(10),
    /** Seconds a Diff stream waits for the client's ack before it is ended. */
    diff_ack_timeout: timerSeconds(1).default(30),
    /** Gateway URL receiving `queue_update` / `sentinel_weight` / `gc` CloudEvents (its /callbacks/dag-event). */
    gateway_callback_url: z.string().nullable().default(null),
    /** Bearer token sent with those callbacks (a JWT the Gateway accepts when its jwt_secret is set). */
    gateway_callback_token: z.string().nullable().default(null),
    /** Seconds between GC runs; 0 disables the scheduler. */
    gc_interval: timerSeconds(0).default(3600),
    gc_batch_size: positiveInteger.default(50),
    /** Directory of the filesystem archive for archived (sentinel) queues. */
    archive_dir: z.string().default('./qmtl-archive'),
    /** Seconds between buffering checks (nodes buffering for 7 days are fully recomputed). */
    buffering_check_interval: timerSeconds(0).default(3600),
    /** Seconds between queue-completion checks; 0 disables the monitor. */
    queue_monitor_interval: timerSeconds(0).default(60),
    /**
     * Most sentinel weights held at once for versions no diff has written yet (POST
     * /callbacks/sentinel-traffic; more are refused with 429); 0: a weight needs its sentinel.
     */
    pending_weight_limit: z.number().int().min(0).default(1000),
    /** Seconds such a weight waits for the diff that writes its sentinel before it is dropped. */
    pending_weight_ttl: timerSeconds(1).default(3600),
    slack_webhook_url: z.string().nullable().default(null),
    pagerduty_webhook_url: z.string().nullable().default(null),
  })
  .strict();

/** The whole `qmtl.yml`: optional `gateway:` and `dagmanager:` sections, filled with defaults. */
export const qmtlConfigSchema = z
  .object({
    // `prefault` parses the empty section, so a missing section gets every default.
    gateway: gatewayConfigSchema.prefault({}),
    dagmanager: dagManagerConfigSchema.prefault({}),
  })
  .strict();

/** The Gateway's settings, defaults filled. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
/** The DAG Manager's settings, defaults filled. */
export type DagManagerConfig = z.output<typeof dagManagerConfigSchema>;
/** A validated `qmtl.yml`, defaults filled. */
export type QmtlConfig = z.output<typeof qmtlConfigSchema>;

/** The names `findConfigFile` looks for, in order. */
export const CONFIG_FILE_NAMES = ['qmtl.yml', 'qmtl.yaml'] as const;

const SECTION_SHAPES: Readonly<Record<string, Readonly<Record<string, z.ZodType>>>> = {
  gateway: gatewayConfigSchema.shape,
  dagmanager: dagManagerConfigSchema.shape,
};

/** The configuration used when there is no config file: every default. */
export function defaultConfig(): QmtlConfig {
  return qmtlConfigSchema.parse({});
}

/**
 * The config file of a working directory: `qmtl.yml`, else `qmtl.yaml`, as an absolute path, or
 * null when neither exists.
 */
export function findConfigFile(cwd: string): string | null {
  for (const name of CONFIG_FILE_NAMES) {
    const candidate = path.resolve(cwd, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/**
 * Reads and validates a YAML (or JSON) config file (SPEC §7); a relative `file` is resolved against
 * `cwd`. An empty file, or an empty section, means defaults. Throws one `QMTL_INVALID_CONFIG` error
 * naming the file (as given, and where it resolved to when that differs) and listing every problem
 * with its key path.
 *
 * @example
 * const config = loadConfig(findConfigFile(process.cwd()) ?? 'qmtl.yml');
 * config.gateway.port; // 8000 unless the file says otherwise
 */
export function loadConfig(file: string, cwd = process.cwd()): QmtlConfig {
  const resolved = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'not found'
        : `cannot be read: ${(error as Error).message}`;
    const where = resolved === file ? '' : ` (resolved to ${resolved})`;
    throw new QmtlError(ErrorCode.InvalidConfig, `config file ${quote(file)} ${reason}${where}`, {
      cause: error,
    });
  }
  return parseConfig(text, resolved);
}

/** Validates config text (YAML or JSON); `source` names it in errors. See {@link loadConfig}. */
export function parseConfig(text: string, source: string): QmtlConfig {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw invalidConfig(
      source,
      document.errors.map((error) => syntaxProblem(error.message, error.linePos?.[0])),
    );
  }
  let data: unknown;
  try {
    data = document.toJS();
  } catch (error) {
    // An alias to no anchor (`*x`) or an alias cycle passes the parser and fails here.
    throw invalidConfig(source, [syntaxProblem((error as Error).message, undefined)]);
  }
  const result = qmtlConfigSchema.safeParse(emptySectionsAsDefaults(data), { reportInput: true });
  if (!result.success) throw invalidConfig(source, result.error.issues.flatMap(issueProblems));
  return result.data;
}

/** `gateway:` with every line commented out is YAML null; it means "all defaults", like an empty file. */
function emptySectionsAsDefaults(data: unknown): unknown {
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) return data;
  const copy: Record<string, unknown> = { ...data };
  for (const section of Object.keys(SECTION_SHAPES)) if (copy[section] === null) copy[section] = {};
  return copy;
}

function invalidConfig(source: string, problems: readonly Problem[]): QmtlError {
  return QmtlError.fromProblems(`invalid config file ${quote(source)}`, problems);
}

function syntaxProblem(message: string, position: { line: number; col: number } | undefined): Problem {
  const text = message.split(/ at line \d+, column \d+/)[0] ?? message;
  const where = position ? `line ${position.line}, column ${position.col}` : 'YAML syntax';
  return { code: ErrorCode.InvalidConfig, message: `${where}: ${text}` };
}

function issueProblems(issue: z.core.$ZodIssue): Problem[] {
  const at = issue.path.length === 0 ? '(top level)' : issue.path.join('.');
  const problem = (message: string): Problem => ({ code: ErrorCode.InvalidConfig, message });
  const got = `got ${describe(issue.input)}`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) =>
        problem(`${[...issue.path, key].join('.')}: ${unknownKeyHint(issue.path, key)}`),
      );
    case 'invalid_type':
      return [problem(`${at}: expected ${expectedType(issue)}, ${got}`)];
    case 'invalid_value':
      return [problem(`${at}: expected one of ${issue.values.map((v) => quote(v)).join(', ')}, ${got}`)];
    case 'too_small':
      return [
        problem(
          `${at}: expected ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}, ${got}`,
        ),
      ];
    case 'too_big':
      return [
        problem(
          `${at}: expected ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}, ${got}`,
        ),
      ];
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'invalid_key':
    case 'invalid_union':
    case 'not_multiple_of':
      return [problem(`${at}: ${issue.message}`)];
  }
}

function expectedType(issue: z.core.$ZodIssueInvalidType): string {
  if (issue.expected === 'object') return 'a mapping';
  if (issue.expected === 'int') return 'an integer';
  const [section, key] = issue.path;
  const field =
    typeof section === 'string' && typeof key === 'string' ? SECTION_SHAPES[section]?.[key] : undefined;
  return field?.safeParse(null).success ? `${issue.expected} or null` : issue.expected;
}

function unknownKeyHint(parent: readonly PropertyKey[], key: string): string {
  if (parent.length === 0) {
    const owner = Object.keys(SECTION_SHAPES).find((section) => key in SECTION_SHAPES[section]!);
    const hint = owner ? `; it is a ${owner} key, put it under "${owner}:"` : '';
    return `unknown key (known keys: ${Object.keys(SECTION_SHAPES).join(', ')})${hint}`;
  }
  const shape = typeof parent[0] === 'string' ? SECTION_SHAPES[parent[0]] : undefined;
  return shape ? `unknown key (known keys: ${Object.keys(shape).join(', ')})` : 'unknown key';
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list ${quote(value)}`;
  if (value !== null && typeof value === 'object') return `a mapping ${quote(value)}`;
  return quote(value);
}
