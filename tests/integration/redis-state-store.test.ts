/**
 * RedisStateStore against a real Redis: the StateStore contract on the shared test server
 * (started by `.ci/run`, or locally with `bash .ci/servers.sh start redis`), the documented key
 * names, and outages — a closed port, a server that never answers, a frozen server and a
 * restarted one. The servers this file stops or freezes are its own `redis-server` processes,
 * never the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { logger } from '../../src/common/logger.js';
import { RedisStateStore } from '../../src/gateway/state/redis-state-store.js';
import { testStateStoreContract } from '../../src/gateway/state/state-store.contract.test-kit.js';
import { StrategyStatus } from '../../src/gateway/strategy-status.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { freePort } from '../support/service-process.js';

const sharedDsn = `redis://${servers.redis.address}`;
const reachable = await isReachable('redis');
let prefixCount = 0;

/** A key prefix no other suite, test or earlier run uses. */
function uniquePrefix(): string {
  return `qmtl-it:${process.pid}:${Date.now()}:${(prefixCount += 1)}:`;
}

/** A plain node-redis client, to read and write keys behind the store's back. */
async function rawClient(dsn: string) {
  const client = createClient({ url: dsn, RESP: 2 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

type RawClient = Awaited<ReturnType<typeof rawClient>>;

/** Deletes every key under `prefix` (SCAN, never KEYS: the server is shared). */
async function deletePrefix(client: RawClient, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
    if (keys.length > 0) await client.del(keys);
  }
}

/** Resolves with how long `promise` took to settle, in ms, and its outcome. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
  const began = performance.now();
  const [result] = await Promise.allSettled([promise]);
  return { ms: performance.now() - began, result };
}

/** Calls `check` until it returns true, failing after `timeoutMs`. */
async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** A `redis-server` owned by one test: no persistence, its own port and directory. */
class PrivateRedis {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'qmtl-redis-'));

  private constructor(readonly port: number) {}

  get dsn(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** Starts the server on the same port and waits for its "Ready to accept connections". */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const child = spawn('redis-server', [...args, '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', reject);
      child.once('exit', () => reject(new Error(`redis-server exited:\n${output}`)));
    });
  }

  /** Sends `signal`; for a killing signal, resolves once the process is gone. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      child.kill(signal);
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGCONT');
    await this.signal('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describeWithServer('redis', reachable, 'RedisStateStore (real server)', () => {
  let admin: RawClient;
  const stores: RedisStateStore[] = [];
  const prefixes: string[] = [];

  /** A store on the shared server under a fresh prefix; both are cleaned up after the test. */
  async function sharedStore(): Promise<{ store: RedisStateStore; prefix: string }> {
    const prefix = uniquePrefix();
    const store = await RedisStateStore.connect(sharedDsn, { keyPrefix: prefix });
    stores.push(store);
    prefixes.push(prefix);
    return { store, prefix };
  }

  beforeAll(async () => {
    admin = await rawClient(sharedDsn);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const prefix of prefixes.splice(0)) await deletePrefix(admin, prefix);
  });
  afterAll(async () => {
    await admin.close();
  });

  testStateStoreContract('redis', async () => {
    const prefix = uniquePrefix();
    const store = await RedisStateStore.connect(sharedDsn, { keyPrefix: prefix });
    return {
      store,
      cleanup: async () => {
        await deletePrefix(admin, prefix);
        await store.close();
      },
    };
  });

  it('runs the shared server with AOF on, fsynced every second, and no RDB snapshots', async () => {
    expect(await admin.configGet('appendonly')).toEqual({ appendonly: 'yes' });
    expect(await admin.configGet('appendfsync')).toEqual({ appendfsync: 'everysec' });
    expect(await admin.configGet('save')).toEqual({ save: '' });
  });

  it('refuses a lock another client holds, and leaves it alone on release', async () => {
    const { store, prefix } = await sharedStore();
    await admin.set(`${prefix}lock:s1`, 'other-gateway', { expiration: { type: 'PX', value: 60_000 } });
    expect(await store.acquireLock('s1', 'w1', 60_000)).toBe(false);
    expect(await store.lockHolder('s1')).toBe('other-gateway');
    await store.releaseLock('s1', 'w1');
    expect(await admin.get(`${prefix}lock:s1`)).toBe('other-gateway');
  });

  it('sees ids another client queued, in order', async () => {
    const { store, prefix } = await sharedStore();
    await admin.rPush(`${prefix}strategy_queue`, ['a', 'b']);
    await store.enqueue('c');
    expect(await store.claim()).toBe('a');
    expect(await admin.lRange(`${prefix}strategy_queue`, 0, -1)).toEqual(['b', 'c']);
    expect(await admin.lRange(`${prefix}strategy_queue:inflight`, 0, -1)).toEqual(['a']);
  });

  it('rejects a status value that is not a strategy status', async () => {
    const { store, prefix } = await sharedStore();
    await admin.hSet(`${prefix}strategy:s1`, 'state', 'exploded');
    await expect(store.getStatus('s1')).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
      message: `Redis key "${prefix}strategy:s1" holds an unknown status "exploded"`,
    });
  });

  it.each(['http://user:hunter2@127.0.0.1:6379', 'redis://user:hunter2@127.0.0.1/not-a-db', 'hunter2'])(
    'refuses the DSN %s without echoing its password',
    async (dsn) => {
      const error = await RedisStateStore.connect(dsn).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.InvalidArgument });
      expect((error as Error).message).not.toContain('hunter2');
    },
  );

  describe('on its own redis-server', () => {
    let redis: PrivateRedis;
    let raw: RawClient;

    beforeAll(async () => {
      redis = await PrivateRedis.start();
      raw = await rawClient(redis.dsn);
    });
    afterEach(async () => {
      await raw.flushAll();
    });
    afterAll(async () => {
      await raw.close();
      await redis.stop();
    });

    it('writes exactly the documented keys when no prefix is set', async () => {
      const store = await RedisStateStore.connect(redis.dsn);
      stores.push(store);
      await store.enqueue('s1');
      await store.enqueue('s2');
      expect(await store.claim()).toBe('s1');
      expect(await store.acquireLock('s1', 'worker-1', 60_000)).toBe(true);
      await store.setStatus('s1', StrategyStatus.Processing);
      const keys: string[] = [];
      for await (const page of raw.scanIterator({ COUNT: 100 })) keys.push(...page);
      expect(keys.sort()).toEqual(['lock:s1', 'strategy:s1', 'strategy_queue', 'strategy_queue:inflight']);
      expect(await raw.type('strategy_queue')).toBe('list');
      expect(await raw.lRange('strategy_queue', 0, -1)).toEqual(['s2']);
      expect(await raw.lRange('strategy_queue:inflight', 0, -1)).toEqual(['s1']);
      expect(await raw.get('lock:s1')).toBe('worker-1');
      const ttl = await raw.pTTL('lock:s1');
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect(await raw.hGetAll('strategy:s1')).toEqual({ state: 'processing' });
    });

    it('keeps leases in the sorted set strategy_leases, scored by their deadline', async () => {
      const store = await RedisStateStore.connect(redis.dsn);
      stores.push(store);
      await store.renewLease('s1', 1_700_000_002_000);
      await store.renewLease('s2', 1_700_000_001_000);
      expect(await raw.type('strategy_leases')).toBe('zset');
      expect(await raw.zRangeWithScores('strategy_leases', 0, -1)).toEqual([
        { value: 's2', score: 1_700_000_001_000 },
        { value: 's1', score: 1_700_000_002_000 },
      ]);
      await store.dropLease('s1');
      await store.dropLease('s2');
      expect(await raw.exists('strategy_leases')).toBe(0);
    });

    it('puts every key under the prefix when one is set', async () => {
      const store = await RedisStateStore.connect(redis.dsn, { keyPrefix: 'gw:' });
      stores.push(store);
      await store.enqueue('s1');
      await store.claim();
      await store.enqueue('s2');
      await store.acquireLock('s1', 'w', 60_000);
      await store.setStatus('s1', StrategyStatus.Queued);
      const keys: string[] = [];
      for await (const page of raw.scanIterator({ COUNT: 100 })) keys.push(...page);
      expect(keys.sort()).toEqual([
        'gw:lock:s1',
        'gw:strategy:s1',
        'gw:strategy_queue',
        'gw:strategy_queue:inflight',
      ]);
    });

    it('times out commands while the server is frozen and recovers when it resumes', async () => {
      const store = await RedisStateStore.connect(redis.dsn, { commandTimeoutMs: 300 });
      stores.push(store);
      await store.enqueue('s1');
      await redis.signal('SIGSTOP');
      try {
        const claim = await timed(store.claim());
        expect(claim.result).toMatchObject({
          status: 'rejected',
          reason: {
            code: ErrorCode.Timeout,
            message: `Redis at 127.0.0.1:${redis.port} did not answer claiming a strategy within 300 ms`,
          },
        });
        expect(claim.ms).toBeLessThan(1_000);
        const ping = await timed(store.ping());
        expect(ping.result).toEqual({ status: 'fulfilled', value: false });
        expect(ping.ms).toBeLessThan(1_500);
      } finally {
        await redis.signal('SIGCONT');
      }
      await until(() => store.ping());
      // The timed-out claim may still have run once the server resumed: s1 is queued or in flight.
      expect([...(await store.queued()), ...(await store.inFlight())]).toEqual(['s1']);
      await store.setStatus('s1', StrategyStatus.Queued);
      expect(await store.getStatus('s1')).toBe(StrategyStatus.Queued);
    });

    it('reconnects by itself after the server restarts', async () => {
      const store = await RedisStateStore.connect(redis.dsn, { maxReconnectDelayMs: 100 });
      stores.push(store);
      await store.enqueue('before');
      await redis.signal('SIGKILL');
      await until(async () => !(await store.ping()));
      const enqueue = await timed(store.enqueue('during'));
      expect(enqueue.result).toMatchObject({
        status: 'rejected',
        reason: { code: ErrorCode.Unavailable },
      });
      expect(enqueue.ms).toBeLessThan(500);
      await redis.restart();
      await until(() => store.ping());
      // The restarted server kept nothing (no persistence); the same store works again.
      expect(await store.queued()).toEqual([]);
      await store.enqueue('after');
      expect(await store.claim()).toBe('after');
      expect(await raw.lRange('strategy_queue:inflight', 0, -1)).toEqual(['after']);
    });
  });

  describe('when Redis is unreachable', () => {
    let hung: Server;
    let hungPort: number;
    const sockets = new Set<Socket>();

    beforeAll(async () => {
      // Accepts connections and never answers, like a server behind a black-holing proxy.
      hung = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      hungPort = (hung.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    });

    it('connects to a closed port, answers ping false and fails commands at once', async () => {
      const port = await freePort();
      const connecting = await timed(RedisStateStore.connect(`redis://127.0.0.1:${port}`));
      expect(connecting.ms).toBeLessThan(1_500);
      expect(connecting.result.status).toBe('fulfilled');
      const store = (connecting.result as PromiseFulfilledResult<RedisStateStore>).value;
      stores.push(store);
      const ping = await timed(store.ping());
      expect(ping.result).toEqual({ status: 'fulfilled', value: false });
      expect(ping.ms).toBeLessThan(1_500);
      const enqueue = await timed(store.enqueue('s1'));
      expect(enqueue.result).toMatchObject({
        status: 'rejected',
        reason: {
          code: ErrorCode.Unavailable,
          message: `Redis at 127.0.0.1:${port} failed enqueueing a strategy: The client is offline`,
        },
      });
      expect(enqueue.ms).toBeLessThan(500);
      await expect(store.requeue('s1')).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      await expect(store.releaseLock('s1', 'w1')).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      expect((await timed(store.close())).ms).toBeLessThan(500);
    });

    it('answers ping false on a server that accepts but never answers', async () => {
      const connecting = await timed(
        RedisStateStore.connect(`redis://127.0.0.1:${hungPort}`, { connectTimeoutMs: 500 }),
      );
      expect(connecting.ms).toBeLessThan(1_500);
      const store = (connecting.result as PromiseFulfilledResult<RedisStateStore>).value;
      stores.push(store);
      const ping = await timed(store.ping());
      expect(ping.result).toEqual({ status: 'fulfilled', value: false });
      expect(ping.ms).toBeLessThan(1_500);
      await expect(store.claim()).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    });

    it('logs an outage once at warn, and each failed retry only at debug', async () => {
      const warn = vi.spyOn(logger, 'warn');
      const debug = vi.spyOn(logger, 'debug');
      try {
        const port = await freePort();
        const store = await RedisStateStore.connect(`redis://127.0.0.1:${port}`, {
          maxReconnectDelayMs: 20,
        });
        stores.push(store);
        await until(() => Promise.resolve(debug.mock.calls.length >= 5));
        const outageWarnings = warn.mock.calls.filter(([, message]) =>
          String(message).startsWith('Redis state store'),
        );
        expect(outageWarnings).toHaveLength(1);
      } finally {
        warn.mockRestore();
        debug.mockRestore();
      }
    });
  });
});
