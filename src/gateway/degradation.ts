import { cpus, type CpuInfo } from 'node:os';
import { logger } from '../common/logger.js';
import { OutageLog } from '../common/outage-log.js';
import { PeriodicTask } from '../common/periodic-task.js';
import { gatewayMetrics } from './metrics.js';

/** How degraded the Gateway is (SPEC §4), exported as `degrade_level{service="gateway"}`. */
export const DegradeLevel = { Normal: 0, Partial: 1, Minimal: 2, Static: 3 } as const;
/** One of the values of {@link DegradeLevel}. */
export type DegradeLevel = (typeof DegradeLevel)[keyof typeof DegradeLevel];

/** The name of each level, as `/status` reports it. */
export const DegradeLevelName = {
  [DegradeLevel.Normal]: 'NORMAL',
  [DegradeLevel.Partial]: 'PARTIAL',
  [DegradeLevel.Minimal]: 'MINIMAL',
  [DegradeLevel.Static]: 'STATIC',
} as const satisfies Record<DegradeLevel, string>;
/** One of the names in {@link DegradeLevelName}. */
export type DegradeLevelName = (typeof DegradeLevelName)[DegradeLevel];

/**
 * A dependency's health: `unknown` before the first check, `disabled` when it is not a
 * dependency (Redis in embedded mode).
 */
export type DependencyStatus = 'ok' | 'error' | 'unknown' | 'disabled';

/** Each dependency's health, keyed as `GET /status` reports it (`postgres` is whichever database). */
export interface DependencyStatuses {
  readonly redis: DependencyStatus;
  readonly postgres: DependencyStatus;
  readonly dag_manager: DependencyStatus;
}

/** Health checks of the Gateway's dependencies; each resolves true when the dependency works. */
export interface DependencyChecks {
  /** Absent in embedded mode, where Redis is not a dependency. */
  readonly redis?: () => Promise<boolean>;
  readonly database: () => Promise<boolean>;
  readonly dagManager: () => Promise<boolean>;
}

/** Options of a {@link DegradationManager}. */
export interface DegradationManagerOptions {
  readonly checks: DependencyChecks;
  /** CPU use in percent since the previous call. Default {@link systemCpuSampler}. */
  readonly cpuPercent?: () => number;
  /** CPU percent above which new submissions are refused (MINIMAL), and above which only 204s are served (STATIC). Default 85 and 95. */
  readonly cpuThresholds?: CpuThresholds;
  /** Time between evaluations of the background loop, in ms. Default 5000. */
  readonly intervalMs?: number;
  /** A check that has not answered after this many ms counts as down. Default 1000. */
  readonly checkTimeoutMs?: number;
  /** Clock in ms (timestamps of evaluations and changes). Default `Date.now`. */
  readonly now?: () => number;
}

/** CPU use (percent) above which the Gateway sheds load (SPEC §4). */
export interface CpuThresholds {
  readonly minimal: number;
  readonly static: number;
}

/** The thresholds of SPEC §4. */
export const DEFAULT_CPU_THRESHOLDS: CpuThresholds = { minimal: 85, static: 95 };

/** The outcome of the latest evaluation. */
export interface DegradationSnapshot {
  readonly level: DegradeLevel;
  readonly dependencies: DependencyStatuses;
  readonly cpuPercent: number;
  /** When it was evaluated (ms), null before the first evaluation. */
  readonly checkedAt: number | null;
}

/** What {@link DegradationManager.onChange} listeners receive. */
export interface DegradationChange {
  readonly previous: DegradationSnapshot;
  readonly current: DegradationSnapshot;
}

/**
 * The level for a CPU reading and a count of down dependencies, out of `dependencies` configured
 * (SPEC §4, as the original): CPU > 95 % or every dependency down → STATIC; CPU > 85 % or at least
 * two down → MINIMAL; one down → PARTIAL; else NORMAL. "Every dependency" is all the configured
 * ones: three when distributed (as the original's "3 failures"), two in embedded mode (database
 * and DAG Manager), where both down is therefore STATIC rather than MINIMAL.
 * @example degradeLevelFor({ cpuPercent: 10, down: 1, dependencies: 3 }) // DegradeLevel.Partial
 */
export function degradeLevelFor(
  input: { cpuPercent: number; down: number; dependencies: number },
  cpu: CpuThresholds = DEFAULT_CPU_THRESHOLDS,
): DegradeLevel {
  const { cpuPercent, down, dependencies } = input;
  if (cpuPercent > cpu.static || (dependencies > 0 && down >= dependencies)) return DegradeLevel.Static;
  if (cpuPercent > cpu.minimal || down >= 2) return DegradeLevel.Minimal;
  if (down >= 1) return DegradeLevel.Partial;
  return DegradeLevel.Normal;
}

/**
 * A sampler of **system-wide** CPU use, like psutil's `cpu_percent()`: each call returns the busy
 * share of all cores since the previous reading, from the `os.cpus()` tick counters; a call less
 * than `minWindowMs` after the previous reading returns that reading (0 before the first). System-wide rather than this process's `process.cpuUsage()`,
 * because what the levels protect against is a saturated host, whoever saturates it. In a
 * container `os.cpus()` counts the host's cores, not the container's quota.
 * @example const cpuPercent = systemCpuSampler(); cpuPercent() // 12.5
 */
export function systemCpuSampler(readCpus: () => CpuInfo[] = cpus, minWindowMs = 1_000): () => number {
  let previous = cpuTicks(readCpus());
  let last = 0;
  return () => {
    const infos = readCpus();
    const current = cpuTicks(infos);
    const total = current.total - previous.total;
    // A window shorter than minWindowMs per core (e.g. the first check, right after start-up work)
    // says more about that instant than about the host: keep the last reading and let it grow.
    if (total < minWindowMs * infos.length) return last;
    const idle = current.idle - previous.idle;
    previous = current;
    last = Math.min(100, Math.max(0, (100 * (total - idle)) / total));
    return last;
  };
}

function cpuTicks(infos: readonly CpuInfo[]): { total: number; idle: number } {
  let total = 0;
  let idle = 0;
  for (const { times } of infos) {
    total += times.user + times.nice + times.sys + times.idle + times.irq;
    idle += times.idle;
  }
  return { total, idle };
}

/**
 * Watches the Gateway's dependencies (Redis, the database, the DAG Manager) and the host's CPU,
 * and keeps the degradation level the routes and the worker act on (SPEC §4): PARTIAL persists
 * submissions and flushes them when the dependency returns, MINIMAL answers new submissions 503,
 * STATIC answers 204 with Retry-After. Sets `degrade_level{service="gateway"}` on every change.
 *
 * Listeners registered with {@link onChange} hear about every change of the level or of any
 * dependency's status (not CPU alone), e.g. the worker resumes when `dag_manager` is `ok` again.
 *
 * A dependency that is down is logged once, with why (`error`: what its check threw, or that it
 * failed or did not answer in time), then once a minute with the count of failed checks, and once
 * when it is back, with how long it was down (see {@link OutageLog}).
 *
 * @example
 * const degradation = new DegradationManager({
 *   checks: { redis: () => state.ping(), database: () => store.healthy(), dagManager: () => dagClient.healthy() },
 * });
 * degradation.onChange(({ current }) => current.dependencies.dag_manager === 'ok' && worker.wake());
 * degradation.start();
 */
export class DegradationManager {
  private readonly checks: DependencyChecks;
  private readonly cpuPercent: () => number;
  private readonly cpuThresholds: CpuThresholds;
  private readonly checkTimeoutMs: number;
  private readonly now: () => number;
  private readonly task: PeriodicTask;
  private readonly listeners = new Set<(change: DegradationChange) => void>();
  /** The outage log of each dependency, by the name its checks log. */
  private readonly outages = new Map<string, OutageLog>();
  private current: DegradationSnapshot;
  private inFlight: Promise<DegradeLevel> | null = null;
  private started = false;

  constructor(options: DegradationManagerOptions) {
    this.checks = options.checks;
    this.cpuPercent = options.cpuPercent ?? systemCpuSampler();
    this.cpuThresholds = options.cpuThresholds ?? DEFAULT_CPU_THRESHOLDS;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.task = new PeriodicTask('degradation', options.intervalMs ?? 5_000, () => this.evaluate());
    this.current = {
      level: DegradeLevel.Normal,
      dependencies: {
        redis: options.checks.redis === undefined ? 'disabled' : 'unknown',
        postgres: 'unknown',
        dag_manager: 'unknown',
      },
      cpuPercent: 0,
      checkedAt: null,
    };
    gatewayMetrics.degradeLevel.set({ service: 'gateway' }, this.current.level);
  }

  get level(): DegradeLevel {
    return this.current.level;
  }

  get dependencies(): DependencyStatuses {
    return this.current.dependencies;
  }

  /** The latest evaluation. */
  get snapshot(): DegradationSnapshot {
    return this.current;
  }

  /**
   * Why the Gateway is at its level, for logs and error messages: the dependencies that are down
   * and a host CPU reading above a threshold, e.g. `"dag_manager down; host CPU 97 % (MINIMAL
   * above 85 %, STATIC above 95 %)"`. A level raised by CPU alone is otherwise a mystery, since
   * every dependency reads `ok`.
   */
  get reason(): string {
    const { dependencies, cpuPercent } = this.current;
    const down = (Object.keys(dependencies) as (keyof DependencyStatuses)[]).filter(
      (name) => dependencies[name] === 'error',
    );
    const causes = down.length > 0 ? [`${down.join(', ')} down`] : [];
    const { minimal, static: staticAbove } = this.cpuThresholds;
    if (cpuPercent > minimal)
      causes.push(
        `host CPU ${Math.round(cpuPercent)} % (MINIMAL above ${minimal} %, STATIC above ${staticAbove} %)`,
      );
    return causes.length > 0 ? causes.join('; ') : 'every dependency up';
  }

  /** Subscribes to changes; returns the function that unsubscribes. */
  onChange(listener: (change: DegradationChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs every check at once (each down after `checkTimeoutMs`), samples the CPU and sets the
   * level. A call while an evaluation is running shares it instead of starting another.
   */
  evaluate(): Promise<DegradeLevel> {
    this.inFlight ??= this.runEvaluation().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Evaluates now, then every `intervalMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.task.start();
    void this.task.runOnce();
  }

  /** Stops the loop and waits for an evaluation in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.started = false;
    await this.task.stop();
    // An evaluation started by a direct evaluate() call reports its own failure to that caller.
    await this.inFlight?.catch(() => undefined);
  }

  private async runEvaluation(): Promise<DegradeLevel> {
    const { redis, database, dagManager } = this.checks;
    const [redisStatus, postgres, dagStatus] = await Promise.all([
      redis === undefined ? ('disabled' as const) : this.check('redis', redis),
      this.check('database', database),
      this.check('dag_manager', dagManager),
    ]);
    const dependencies: DependencyStatuses = { redis: redisStatus, postgres, dag_manager: dagStatus };
    const statuses = Object.values(dependencies).filter((status) => status !== 'disabled');
    const cpuPercent = this.cpuPercent();
    const level = degradeLevelFor(
      {
        cpuPercent,
        down: statuses.filter((status) => status === 'error').length,
        dependencies: statuses.length,
      },
      this.cpuThresholds,
    );
    this.apply({ level, dependencies, cpuPercent, checkedAt: this.now() });
    return level;
  }

  private apply(next: DegradationSnapshot): void {
    const previous = this.current;
    this.current = next;
    const dependenciesChanged = (Object.keys(next.dependencies) as (keyof DependencyStatuses)[]).some(
      (name) => next.dependencies[name] !== previous.dependencies[name],
    );
    if (next.level === previous.level && !dependenciesChanged) return;
    if (next.level !== previous.level) {
      gatewayMetrics.degradeLevel.set({ service: 'gateway' }, next.level);
      logger.warn(
        {
          from: DegradeLevelName[previous.level],
          to: DegradeLevelName[next.level],
          reason: this.reason,
          ...next.dependencies,
          cpu_percent: Math.round(next.cpuPercent),
        },
        'Gateway degradation level changed',
      );
    }
    for (const listener of this.listeners) {
      try {
        listener({ previous, current: next });
      } catch (error) {
        logger.error({ err: error }, 'degradation change listener failed');
      }
    }
  }

  /** `ok` when the check resolves true within the timeout; `error` when false, thrown or late. */
  private async check(name: string, check: () => Promise<boolean>): Promise<'ok' | 'error'> {
    const failure = await this.failureOf(check);
    const outage = this.outageOf(name);
    if (failure === null) {
      outage.succeeded();
      return 'ok';
    }
    outage.failed(failure);
    return 'error';
  }

  /** Why `check` says its dependency is down: what it threw, a false answer or none in time; null when up. */
  private async failureOf(check: () => Promise<boolean>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new Error(`its health check did not answer within ${this.checkTimeoutMs} ms`)),
        this.checkTimeoutMs,
      );
    });
    try {
      const answer = Promise.resolve()
        .then(check)
        .then(
          (up) => (up ? null : new Error('its health check failed')),
          (error: unknown) => error ?? new Error('its health check failed'),
        );
      return await Promise.race([answer, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private outageOf(name: string): OutageLog {
    let outage = this.outages.get(name);
    if (outage === undefined) {
      outage = new OutageLog({
        fields: { dependency: name },
        messages: {
          down: 'a Gateway dependency is down',
          stillDown: 'a Gateway dependency is still down',
          recovered: 'a Gateway dependency is back',
        },
        now: this.now,
      });
      this.outages.set(name, outage);
    }
    return outage;
  }
}
