/**
 * The distributed runtime end to end, as separate processes on real servers: `qmtl dagmgr-server`
 * (graph journal on disk; Kafka topics for the Kafka run), `qmtl gw` (short producer leases) and
 * two `qmtl run --mode dryrun` Runner processes whose strategies share a price stream and its
 * EMA(5), once over Kafka and once over Redis Streams.
 *
 * 1. Both run to the same end: exactly one process computes the EMA (compute calls), the other
 *    consumes it from its topic and receives identical values.
 * 2. Everything restarts (DAG Manager and Gateway too); the producer is SIGKILLed mid-run: its lease
 *    expires, the consumer is told, takes over, and the EMA topic holds every bucket exactly once.
 *    The EMA keeps its topic across the restart (no duplicated topic).
 *
 * Needs `npm run build` first: it runs `dist/cli/main.js`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTopicBus } from '../../src/transport/create-topic-bus.js';
import type { ReceivedMessage } from '../../src/transport/topic-bus.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import {
  dagManagerConfig,
  freePort,
  gatewayConfig,
  killServiceProcesses,
  qmtlBin,
  startService,
  startGateway,
  type DagManagerProcess,
  type GatewayProcess,
  type ProcessExit,
} from '../support/service-process.js';

const INTERVAL = 60;
const T0 = 1_704_067_200;
/** One run: live from bar 100 for 120 bars; the second starts where the first ended. */
const LIVE_1 = T0 + 100 * INTERVAL;
const LIVE_2 = LIVE_1 + 120 * INTERVAL;
const LIVE_BARS = 120;
const distDir = path.resolve(qmtlBin, '..', '..');

interface Summary {
  nodeStats: { nodeId: string; name: string; computeCalls: number; outputs: number }[];
  outputs: { name: string; length: number; last: { time: string; value: number } | null }[];
  topics?: { produced: Record<string, string>; consumed: Record<string, string> };
  published?: number;
  received?: number;
}

interface RunnerProcess {
  readonly exited: Promise<ProcessExit>;
  readonly output: () => string;
  readonly kill: (signal?: NodeJS.Signals) => void;
}

/** `qmtl run` as a separate process (info logs on stderr, the JSON summary on stdout). */
function runner(dir: string, args: readonly string[]): RunnerProcess {
  const child = spawn(process.execPath, [qmtlBin, 'run', ...args, '--json'], {
    cwd: dir,
    env: { ...process.env, QMTL_LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-50_000)));
  const exited = new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    exited,
    output: () => `${stdout}\n${stderr}`,
    kill: (signal = 'SIGKILL') => void child.kill(signal),
  };
}

async function summaryOf(run: RunnerProcess): Promise<Summary> {
  const exit = await run.exited;
  if (exit.code !== 0) throw new Error(`runner failed (${JSON.stringify(exit)}):\n${run.output()}`);
  return JSON.parse(run.output().split('\n')[0]!) as Summary;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The strategies: a price stream replayed at `paceMs` per bar, its EMA(5), and a scaled leaf. */
function writeStrategies(dir: string, tag: string): void {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    path.join(dir, 'shared.ts'),
    `import { MemoryHistoryProvider, ProcessingNode, ReplayFeed, Strategy, StreamInput, TagQueryNode } from ${JSON.stringify(path.join(distDir, 'sdk', 'index.js'))};
import { ema } from ${JSON.stringify(path.join(distDir, 'indicators', 'index.js'))};

const provider = new MemoryHistoryProvider(
  Array.from({ length: 1000 }, (_, i) => ({ ts: ${T0} + i * ${INTERVAL}, close: 100 + Math.sin(i / 9) * 4 + i / 40 })),
);

function scaled(factor: number) {
  return class extends Strategy {
    setup(): void {
      const price = new StreamInput({
        tags: ['BTC', ${JSON.stringify(tag)}],
        interval: ${INTERVAL},
        period: 5,
        historyProvider: provider,
        liveFeed: new ReplayFeed({ provider, paceMs: Number(process.env.PACE_MS ?? 15) }),
      });
      const average = ema(price, { period: 5, field: 'close' });
      const leaf = new ProcessingNode({
        input: average,
        name: 'times_' + factor,
        interval: ${INTERVAL},
        period: 1,
        params: { factor },
        computeFn: (view) => (view.get(average).latest() as number) * view.params.factor,
      });
      this.addNodes([price, average, leaf]);
    }
  };
}

export const Producer = scaled(2);
export const Consumer = scaled(3);

/** A tag query over streams tagged with the run's watch tag: the mean close of its first queue's last 3 bars. */
export class Watcher extends Strategy {
  setup(): void {
    this.addNodes([
      new TagQueryNode({
        queryTags: [${JSON.stringify(`${tag}-watch`)}],
        interval: ${INTERVAL},
        period: 3,
        computeFn: (view) => {
          const closes = view.input(0).field('close') as number[];
          return closes.reduce((a, b) => a + b, 0) / closes.length;
        },
      }),
    ]);
  }
}

/** A stream the watcher's query matches, started after the watcher. */
export class Watched extends Strategy {
  setup(): void {
    this.addNodes([
      new StreamInput({
        tags: ['ETH', ${JSON.stringify(`${tag}-watch`)}],
        interval: ${INTERVAL},
        period: 1,
        historyProvider: provider,
        liveFeed: new ReplayFeed({ provider, paceMs: 2 }),
      }),
    ]);
  }
}
`,
  );
}

for (const bus of ['kafka', 'redis'] as const) {
  const reachable = await isReachable(bus);
  describeWithServer(bus, reachable, `two Runner processes sharing an EMA over ${bus}`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), `qmtl-e2e-runners-${bus}-`));
    const busDsn =
      bus === 'kafka' ? `kafka://${servers.kafka.address}` : `redis://${servers.redis.address}/9`;
    let dagManager: DagManagerProcess;
    let gateway: GatewayProcess;
    let ports = { grpc: 0, http: 0 };

    let gatewayPort = 0;

    const startServices = async (): Promise<void> => {
      gatewayPort ||= await freePort();
      const dagConfig = path.join(dir, 'dagmgr.yml');
      writeFileSync(
        dagConfig,
        stringify({
          dagmanager: {
            ...dagManagerConfig(dir, ports),
            gateway_callback_url: `http://127.0.0.1:${gatewayPort}/callbacks/dag-event`,
            ...(bus === 'kafka' && { queue_backend: 'kafka', kafka_dsn: servers.kafka.address }),
          },
        }),
      );
      const service = await startService(['dagmgr-server', '--config', dagConfig], {
        cwd: dir,
        ready: /gRPC ([\d.]+):(\d+), HTTP http:\/\/[\d.]+:(\d+)/,
      });
      const [, host, grpc, http] = service.ready;
      ports = { grpc: Number(grpc), http: Number(http) };
      dagManager = { ...service, grpcAddress: `${host}:${grpc}`, ports };
      const gwConfig = path.join(dir, 'gateway.yml');
      writeFileSync(
        gwConfig,
        stringify({
          gateway: gatewayConfig({
            port: gatewayPort,
            dagmanager_url: dagManager.grpcAddress,
            lease_ms: 1500,
            lease_check_ms: 200,
            // The test run itself keeps both cores busy: do not shed submissions for CPU.
            degradation_cpu_minimal: 101,
            degradation_cpu_static: 101,
          }),
        }),
      );
      gateway = await startGateway(gwConfig, dir);
    };

    const stopServices = async (): Promise<void> => {
      gateway.child.kill('SIGTERM');
      dagManager.child.kill('SIGTERM');
      await Promise.all([gateway.exited, dagManager.exited]);
    };

    const run = (strategy: string, live: number, end: number | null): RunnerProcess =>
      runner(dir, [
        `shared.ts:${strategy}`,
        '--mode',
        'dryrun',
        '--gateway-url',
        gateway.url,
        '--bus-dsn',
        busDsn,
        '--start-time',
        String(live),
        ...(end === null ? [] : ['--end-time', String(end)]),
      ]);

    /** How many leases the Gateway has let expire (its `gateway_lease_expirations_total`, all outcomes). */
    const leaseExpirations = async (): Promise<number> => {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      return [...text.matchAll(/^gateway_lease_expirations_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    };

    /** Every message of `nodeId` on `topic`, read by a fresh consumer group until none arrive for a while. */
    const topicMessages = async (topic: string, nodeId: string): Promise<ReceivedMessage[]> => {
      const reader = await createTopicBus(busDsn);
      const seen: ReceivedMessage[] = [];
      let lastArrival = Date.now();
      const subscription = await reader.subscribe({
        topics: [topic],
        group: `e2e-check-${Date.now()}`,
        onMessage: (message) => {
          lastArrival = Date.now();
          if (message.nodeId === nodeId) seen.push(message);
        },
      });
      await until(() => Date.now() - lastArrival > 1500, 'the topic to go quiet');
      await subscription.close();
      await reader.close();
      return seen;
    };

    beforeAll(async () => {
      writeStrategies(dir, `e2e-${bus}-${Date.now()}`);
      await startServices();
    }, 60_000);
    afterAll(() => {
      killServiceProcesses();
      rmSync(dir, { recursive: true, force: true });
    });

    let emaTopic = '';

    it(
      'computes the shared EMA in exactly one process; the other receives identical values',
      { timeout: 90_000 },
      async () => {
        const end = LIVE_1 + (LIVE_BARS - 1) * INTERVAL;
        const producer = run('Producer', LIVE_1, end);
        await until(() => producer.output().includes('running live'), 'the producer to go live');
        const consumer = run('Consumer', LIVE_1, end);
        const [a, b] = await Promise.all([summaryOf(producer), summaryOf(consumer)]);
        const emaA = a.nodeStats[1]!;
        const emaB = b.nodeStats.find((s) => s.nodeId === emaA.nodeId)!;
        expect(emaA.computeCalls).toBeGreaterThanOrEqual(LIVE_BARS);
        expect(emaB.computeCalls).toBe(0);
        emaTopic = a.topics!.produced[emaA.nodeId]!;
        expect(b.topics!.consumed[emaA.nodeId]).toBe(emaTopic);
        expect(b.received).toBe(LIVE_BARS);
        // Both leaves end on the same EMA value: ×2 and ×3 of it.
        const lastA = a.outputs.find((o) => o.name === 'times_2')!.last!;
        const lastB = b.outputs.find((o) => o.name === 'times_3')!.last!;
        expect(lastB.time).toBe(lastA.time);
        expect(lastB.value / 3).toBeCloseTo(lastA.value / 2, 12);
      },
    );

    it(
      'after a restart of everything, takes over a killed producer with no gap and no duplicate',
      { timeout: 120_000 },
      async () => {
        await stopServices();
        await startServices();
        const end = LIVE_2 + (LIVE_BARS - 1) * INTERVAL;
        const producer = run('Producer', LIVE_2, null);
        await until(() => producer.output().includes('running live'), 'the producer to go live');
        const consumer = run('Consumer', LIVE_2, end);
        await new Promise((resolve) => setTimeout(resolve, 700));
        producer.kill();
        const b = await summaryOf(consumer);
        expect(consumer.output()).toContain('took over producing nodes');
        // The dead producer's lease ran out at the Gateway.
        expect(await leaseExpirations()).toBeGreaterThan(0);
        const emaId = Object.keys(b.topics!.produced).find((id) => b.topics!.produced[id] === emaTopic);
        expect(emaId, 'the EMA keeps its topic across the restart').toBeDefined();
        expect(b.nodeStats.find((s) => s.nodeId === emaId)!.computeCalls).toBeGreaterThan(0);
        const buckets = (await topicMessages(emaTopic, emaId!))
          .map((m) => m.timestamp)
          .filter((t) => t >= LIVE_2);
        expect(buckets).toEqual(Array.from({ length: LIVE_BARS }, (_, i) => LIVE_2 + i * INTERVAL));
        const leaf = b.outputs.find((o) => o.name === 'times_3')!;
        expect(Date.parse(leaf.last!.time) / 1000).toBe(end);
      },
    );

    it(
      'feeds a TagQueryNode strategy from a queue created after it started',
      { timeout: 60_000 },
      async () => {
        const live = LIVE_2 + LIVE_BARS * INTERVAL;
        const end = live + 59 * INTERVAL;
        const watcher = run('Watcher', live, end);
        await until(() => watcher.output().includes('running live'), 'the watcher to go live');
        const watched = run('Watched', live, end);
        const [w] = await Promise.all([summaryOf(watcher), summaryOf(watched)]);
        expect(watcher.output()).toContain('tag query: queues added');
        const mean = w.outputs.find((o) => o.name === 'tag_query')!;
        expect(Date.parse(mean.last!.time) / 1000).toBe(end);
        expect(mean.length).toBe(58);
        expect(w.received).toBe(60);
      },
    );

    it(
      'stops cleanly on Ctrl-C: the producer flushes and exits 0, the consumer takes over at once',
      { timeout: 60_000 },
      async () => {
        const live = LIVE_2 + 180 * INTERVAL;
        const end = live + (LIVE_BARS - 1) * INTERVAL;
        const producer = run('Producer', live, null);
        await until(() => producer.output().includes('running live'), 'the producer to go live');
        const consumer = run('Consumer', live, end);
        await until(() => consumer.output().includes('running live'), 'the consumer to go live');
        await new Promise((resolve) => setTimeout(resolve, 300));
        const expiredBefore = await leaseExpirations();
        producer.kill('SIGINT');
        const a = await summaryOf(producer);
        expect(producer.output()).toContain('stopping: strategies stop at the Gateway');
        expect(a.published).toBeGreaterThan(0);
        await until(() => consumer.output().includes('took over producing nodes'), 'the take-over', 20_000);
        const b = await summaryOf(consumer);
        // Released by the stop itself: no lease ran out meanwhile.
        expect(await leaseExpirations()).toBe(expiredBefore);
        const emaId = Object.keys(b.topics!.produced).find((id) => b.topics!.produced[id] === emaTopic)!;
        const buckets = (await topicMessages(emaTopic, emaId))
          .map((m) => m.timestamp)
          .filter((t) => t >= live);
        expect(buckets).toEqual(Array.from({ length: LIVE_BARS }, (_, i) => live + i * INTERVAL));
      },
    );
  });
}
