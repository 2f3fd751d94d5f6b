import type { CpuInfo } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DegradationManager,
  DegradeLevel,
  DegradeLevelName,
  degradeLevelFor,
  systemCpuSampler,
  type DegradationChange,
  type DependencyChecks,
} from './degradation.js';
import { logger } from '../common/logger.js';
import { gatewayMetrics, resetGatewayMetrics } from './metrics.js';

/** Checks whose answers the test flips; each counts its calls. */
function switchableChecks(initial = { redis: true, database: true, dagManager: true }) {
  const up = { ...initial };
  const calls = { redis: 0, database: 0, dagManager: 0 };
  const answer = (name: keyof typeof up) => () => {
    calls[name] += 1;
    return Promise.resolve(up[name]);
  };
  const checks: Required<DependencyChecks> = {
    redis: answer('redis'),
    database: answer('database'),
    dagManager: answer('dagManager'),
  };
  return { up, calls, checks };
}

const degradeGauge = async (): Promise<number | undefined> =>
  (await gatewayMetrics.degradeLevel.get()).values.find((v) => v.labels.service === 'gateway')?.value;

beforeEach(() => resetGatewayMetrics());
afterEach(() => vi.useRealTimers());

describe('degradeLevelFor', () => {
  it.each([
    { cpuPercent: 10, down: 0, dependencies: 3, level: DegradeLevel.Normal },
    { cpuPercent: 10, down: 1, dependencies: 3, level: DegradeLevel.Partial },
    { cpuPercent: 10, down: 2, dependencies: 3, level: DegradeLevel.Minimal },
    { cpuPercent: 10, down: 3, dependencies: 3, level: DegradeLevel.Static },
    { cpuPercent: 10, down: 1, dependencies: 2, level: DegradeLevel.Partial },
    { cpuPercent: 10, down: 2, dependencies: 2, level: DegradeLevel.Static },
    { cpuPercent: 85, down: 0, dependencies: 3, level: DegradeLevel.Normal },
    { cpuPercent: 86, down: 0, dependencies: 3, level: DegradeLevel.Minimal },
    { cpuPercent: 86, down: 1, dependencies: 3, level: DegradeLevel.Minimal },
    { cpuPercent: 95, down: 0, dependencies: 3, level: DegradeLevel.Minimal },
    { cpuPercent: 96, down: 0, dependencies: 3, level: DegradeLevel.Static },
  ])('is $level for CPU $cpuPercent % with $down of $dependencies down', ({ level, ...input }) => {
    expect(degradeLevelFor(input)).toBe(level);
  });

  it('names every level', () => {
    expect(Object.values(DegradeLevel).map((level) => DegradeLevelName[level])).toEqual([
      'NORMAL',
      'PARTIAL',
      'MINIMAL',
      'STATIC',
    ]);
  });
});

describe('DegradationManager.evaluate', () => {
  it('goes NORMAL → PARTIAL → MINIMAL → STATIC as dependencies fail, and back', async () => {
    const { up, checks } = switchableChecks();
    const degradation = new DegradationManager({ checks, cpuPercent: () => 10 });
    expect(degradation.dependencies).toEqual({
      redis: 'unknown',
      postgres: 'unknown',
      dag_manager: 'unknown',
    });

    expect(await degradation.evaluate()).toBe(DegradeLevel.Normal);
    expect(degradation.dependencies).toEqual({ redis: 'ok', postgres: 'ok', dag_manager: 'ok' });
    up.dagManager = false;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Partial);
    expect(degradation.dependencies).toEqual({ redis: 'ok', postgres: 'ok', dag_manager: 'error' });
    up.redis = false;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Minimal);
    up.database = false;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Static);
    expect(degradation.level).toBe(DegradeLevel.Static);
    Object.assign(up, { redis: true, database: true, dagManager: true });
    expect(await degradation.evaluate()).toBe(DegradeLevel.Normal);
  });

  it('raises the level for CPU alone: 86 % is MINIMAL, 96 % is STATIC', async () => {
    let cpu = 86;
    const degradation = new DegradationManager({ checks: switchableChecks().checks, cpuPercent: () => cpu });
    expect(await degradation.evaluate()).toBe(DegradeLevel.Minimal);
    cpu = 96;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Static);
    expect(degradation.snapshot.cpuPercent).toBe(96);
  });

  it('says why: a level raised by CPU alone is logged with the CPU reading, not only "ok" dependencies', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    try {
      const { up, checks } = switchableChecks();
      let cpu = 91.4;
      const degradation = new DegradationManager({ checks, cpuPercent: () => cpu });
      expect(await degradation.evaluate()).toBe(DegradeLevel.Minimal);
      expect(degradation.reason).toBe('host CPU 91 % (MINIMAL above 85 %, STATIC above 95 %)');
      expect(warned).toHaveBeenCalledWith(
        expect.objectContaining({
          from: 'NORMAL',
          to: 'MINIMAL',
          reason: 'host CPU 91 % (MINIMAL above 85 %, STATIC above 95 %)',
          cpu_percent: 91,
        }),
        'Gateway degradation level changed',
      );
      cpu = 10;
      up.redis = false;
      up.dagManager = false;
      await degradation.evaluate();
      expect(degradation.reason).toBe('redis, dag_manager down');
      Object.assign(up, { redis: true, dagManager: true });
      await degradation.evaluate();
      expect(degradation.reason).toBe('every dependency up');
    } finally {
      warned.mockRestore();
    }
  });

  it('does not count Redis in embedded mode: both other dependencies down is every dependency down', async () => {
    const { up, checks } = switchableChecks();
    const degradation = new DegradationManager({
      checks: { database: checks.database, dagManager: checks.dagManager },
      cpuPercent: () => 0,
    });
    up.dagManager = false;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Partial);
    expect(degradation.dependencies).toEqual({ redis: 'disabled', postgres: 'ok', dag_manager: 'error' });
    up.database = false;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Static);
  });

  it('counts a check that throws or rejects as down', async () => {
    const degradation = new DegradationManager({
      checks: {
        redis: () => Promise.reject(new Error('connection refused')),
        database: () => {
          throw new Error('not connected');
        },
        dagManager: () => Promise.resolve(true),
      },
      cpuPercent: () => 0,
    });
    expect(await degradation.evaluate()).toBe(DegradeLevel.Minimal);
    expect(degradation.dependencies).toEqual({ redis: 'error', postgres: 'error', dag_manager: 'ok' });
  });

  it('logs why a dependency is down once per outage, without a stack, and when it is back', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    let redis = (): Promise<boolean> => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    const degradation = new DegradationManager({
      checks: {
        redis: () => redis(),
        database: () => new Promise<boolean>(() => undefined),
        dagManager: () => Promise.resolve(true),
      },
      cpuPercent: () => 0,
      checkTimeoutMs: 10,
    });
    for (let i = 0; i < 3; i++) await degradation.evaluate();
    const downs = warned.mock.calls.filter(([, message]) => message === 'a Gateway dependency is down');
    expect(downs.map(([fields]) => fields)).toEqual([
      { dependency: 'redis', error: 'connect ECONNREFUSED 127.0.0.1:6379' },
      { dependency: 'database', error: 'its health check did not answer within 10 ms' },
    ]);
    redis = () => Promise.resolve(true);
    await degradation.evaluate();
    expect(info.mock.calls).toEqual([
      [
        { dependency: 'redis', failures: 3, downForMs: expect.any(Number) as unknown },
        'a Gateway dependency is back',
      ],
    ]);
  });

  it('counts a check that hangs as down once its timeout (1 s) has passed', async () => {
    vi.useFakeTimers();
    const degradation = new DegradationManager({
      checks: { ...switchableChecks().checks, dagManager: () => new Promise<boolean>(() => undefined) },
      cpuPercent: () => 0,
    });
    let level: DegradeLevel | null = null;
    void degradation.evaluate().then((result) => (level = result));
    await vi.advanceTimersByTimeAsync(999);
    expect(level).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(level).toBe(DegradeLevel.Partial);
    expect(degradation.dependencies.dag_manager).toBe('error');
  });

  it('shares one run between overlapping calls', async () => {
    const { calls, checks } = switchableChecks();
    const degradation = new DegradationManager({ checks, cpuPercent: () => 0 });
    await Promise.all([degradation.evaluate(), degradation.evaluate(), degradation.evaluate()]);
    expect(calls.dagManager).toBe(1);
    await degradation.evaluate();
    expect(calls.dagManager).toBe(2);
  });

  it('sets degrade_level{service="gateway"} to the level', async () => {
    const { up, checks } = switchableChecks();
    const degradation = new DegradationManager({ checks, cpuPercent: () => 0 });
    expect(await degradeGauge()).toBe(0);
    up.redis = false;
    up.database = false;
    await degradation.evaluate();
    expect(await degradeGauge()).toBe(2);
    up.dagManager = false;
    await degradation.evaluate();
    expect(await degradeGauge()).toBe(3);
    Object.assign(up, { redis: true, database: true, dagManager: true });
    await degradation.evaluate();
    expect(await degradeGauge()).toBe(0);
  });
});

describe('DegradationManager.onChange', () => {
  it('fires only when the level or a dependency’s status changes, not for CPU alone', async () => {
    const { up, checks } = switchableChecks();
    let cpu = 10;
    const degradation = new DegradationManager({ checks, cpuPercent: () => cpu, now: () => 42 });
    const changes: DegradationChange[] = [];
    degradation.onChange((change) => changes.push(change));

    await degradation.evaluate();
    expect(changes).toHaveLength(1);
    expect(changes[0]!.previous.dependencies.dag_manager).toBe('unknown');
    expect(changes[0]!.current).toEqual({
      level: DegradeLevel.Normal,
      dependencies: { redis: 'ok', postgres: 'ok', dag_manager: 'ok' },
      cpuPercent: 10,
      checkedAt: 42,
    });
    await degradation.evaluate();
    cpu = 20;
    await degradation.evaluate();
    expect(changes).toHaveLength(1);

    up.dagManager = false;
    await degradation.evaluate();
    await degradation.evaluate();
    up.dagManager = true;
    await degradation.evaluate();
    expect(
      changes.slice(1).map((c) => [c.previous.level, c.current.level, c.current.dependencies.dag_manager]),
    ).toEqual([
      [DegradeLevel.Normal, DegradeLevel.Partial, 'error'],
      [DegradeLevel.Partial, DegradeLevel.Normal, 'ok'],
    ]);
  });

  it('tells listeners when the DAG Manager returns even if CPU keeps the level', async () => {
    const { up, checks } = switchableChecks();
    const degradation = new DegradationManager({ checks, cpuPercent: () => 90 });
    up.dagManager = false;
    await degradation.evaluate();
    const changes: DegradationChange[] = [];
    degradation.onChange((change) => changes.push(change));
    up.dagManager = true;
    await degradation.evaluate();
    expect(changes).toHaveLength(1);
    expect(changes[0]!.current.level).toBe(DegradeLevel.Minimal);
    expect(changes[0]!.current.dependencies.dag_manager).toBe('ok');
  });

  it('stops calling a listener after it unsubscribes, and survives a listener that throws', async () => {
    const { up, checks } = switchableChecks();
    const degradation = new DegradationManager({ checks, cpuPercent: () => 0 });
    const seen: DegradeLevel[] = [];
    degradation.onChange(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = degradation.onChange(({ current }) => seen.push(current.level));
    await degradation.evaluate();
    unsubscribe();
    up.redis = false;
    expect(await degradation.evaluate()).toBe(DegradeLevel.Partial);
    expect(seen).toEqual([DegradeLevel.Normal]);
  });
});

describe('DegradationManager.start / stop', () => {
  it('evaluates at once, then every interval, until stopped', async () => {
    vi.useFakeTimers();
    const { calls, checks } = switchableChecks();
    const degradation = new DegradationManager({ checks, cpuPercent: () => 0, intervalMs: 5_000 });
    degradation.start();
    degradation.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.dagManager).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(calls.dagManager).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.dagManager).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.dagManager).toBe(4);

    await degradation.stop();
    await degradation.stop();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(calls.dagManager).toBe(4);
  });

  it('waits in stop() for an evaluation in progress', async () => {
    let answer: (up: boolean) => void = () => undefined;
    const degradation = new DegradationManager({
      checks: {
        database: () => Promise.resolve(true),
        dagManager: () => new Promise<boolean>((resolve) => (answer = resolve)),
      },
      cpuPercent: () => 0,
      checkTimeoutMs: 60_000,
    });
    degradation.start();
    let stopped = false;
    const stopping = degradation.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    answer(false);
    await stopping;
    expect(degradation.level).toBe(DegradeLevel.Partial);
  });

  it('logs a failing evaluation and keeps going', async () => {
    vi.useFakeTimers();
    let cpuCalls = 0;
    const degradation = new DegradationManager({
      checks: switchableChecks().checks,
      cpuPercent: () => {
        cpuCalls += 1;
        if (cpuCalls === 1) throw new Error('cannot read /proc/stat');
        return 0;
      },
      intervalMs: 1_000,
    });
    degradation.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(cpuCalls).toBe(2);
    expect(degradation.snapshot.checkedAt).not.toBeNull();
    await degradation.stop();
  });
});

describe('systemCpuSampler', () => {
  const cpu = (busy: number, idle: number): CpuInfo => ({
    model: 'test',
    speed: 1,
    times: { user: busy, nice: 0, sys: 0, idle, irq: 0 },
  });

  it('returns the busy share of all cores since the previous reading', () => {
    const samples = [
      [cpu(100, 900), cpu(100, 900)],
      [cpu(200, 1000), cpu(100, 1100)],
      [cpu(400, 1000), cpu(300, 1100)],
      [cpu(400, 1000), cpu(300, 1100)],
    ];
    const sample = systemCpuSampler(() => samples.shift()!, 100);
    expect(sample()).toBe(25);
    expect(sample()).toBe(100);
    expect(sample()).toBe(100); // no time passed: the last reading stands
  });

  it('keeps the last reading until the window is long enough, so start-up work does not count', () => {
    const samples = [
      [cpu(0, 0)],
      [cpu(50, 0)], // 50 ms of pure start-up work: too short to judge the host
      [cpu(100, 900)],
    ];
    const sample = systemCpuSampler(() => samples.shift()!, 1_000);
    expect(sample()).toBe(0);
    expect(sample()).toBe(10);
  });

  it('reads this machine by default', () => {
    const percent = systemCpuSampler()();
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThanOrEqual(100);
  });
});
