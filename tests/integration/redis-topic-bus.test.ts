/**
 * RedisTopicBus against a real Redis: the TopicBus contract on the shared test server (started by
 * `.ci/run`, or locally with `bash .ci/servers.sh start redis`), the documented stream key and
 * fields, claiming a dead consumer's entries, re-reading a crashed consumer's own entries, and
 * failing fast on a port where nothing listens. Every test uses its own key prefix, deleted after.
 */
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { RedisTopicBus, type RedisTopicBusOptions } from '../../src/transport/redis-topic-bus.js';
import { testTopicBusContract } from '../../src/transport/topic-bus.contract.test-kit.js';
import type { ReceivedMessage, TopicBus, TopicMessage } from '../../src/transport/topic-bus.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';

const dsn = `redis://${servers.redis.address}`;
const reachable = await isReachable('redis');
let prefixCount = 0;
let topicCount = 0;

/** A key prefix no other suite, test or earlier run uses. */
function uniquePrefix(): string {
  return `qmtl-it:${process.pid}:${Date.now()}:${(prefixCount += 1)}:`;
}

/** A plain node-redis client, to read and write keys behind the bus's back. */
async function rawClient() {
  const client = createClient({ url: dsn, RESP: 2 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

type RawClient = Awaited<ReturnType<typeof rawClient>>;

/** Deletes every key under `prefix` (SCAN, never KEYS: the server is shared), then quits. */
async function dropPrefix(client: RawClient, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) {
    if (keys.length > 0) await client.del(keys);
  }
  client.destroy();
}

function messages(nodeId: string, from: number, to: number): TopicMessage[] {
  return Array.from({ length: to - from + 1 }, (_, index) => ({
    nodeId,
    interval: 60,
    timestamp: (from + index) * 60,
    payload: { seq: from + index },
  }));
}

/** Calls `check` until it returns true, failing after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describeWithServer('redis', reachable, 'RedisTopicBus (real server)', () => {
  testTopicBusContract(
    'redis',
    async () => {
      const keyPrefix = uniquePrefix();
      const options: RedisTopicBusOptions = { keyPrefix, blockMs: 500 };
      const bus = await RedisTopicBus.connect(dsn, options);
      const admin = await rawClient();
      return {
        bus,
        newTopic: () => `topic-${(topicCount += 1)}`,
        reopen: () => RedisTopicBus.connect(dsn, options),
        publishRaw: async (topic: string, key: string, value: string) => {
          await admin.sendCommand(['XADD', bus.streamKey(topic), '*', 'key', key, 'value', value]);
        },
        cleanup: async () => {
          await bus.close();
          await dropPrefix(admin, keyPrefix);
        },
      };
    },
    { generatedRuns: 10 },
  );

  describe('on Redis', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A bus under a fresh prefix, closed and its keys deleted after the test. */
    async function newBus(
      options: RedisTopicBusOptions = {},
    ): Promise<{ bus: RedisTopicBus; admin: RawClient; prefix: string }> {
      const prefix = options.keyPrefix ?? uniquePrefix();
      const bus = await RedisTopicBus.connect(dsn, { blockMs: 100, ...options, keyPrefix: prefix });
      const admin = await rawClient();
      cleanups.push(async () => {
        await bus.close();
        await dropPrefix(admin, prefix);
      });
      return { bus, admin, prefix };
    }

    it('stores a topic as the stream {keyPrefix}topic:{name} with fields key and value', async () => {
      const { bus, admin, prefix } = await newBus();
      const message = { nodeId: 'a1b2c3', interval: 60, timestamp: 1_700_000_040, payload: { close: 1.5 } };
      await bus.publish('btc_ema_a1b2c3_v1', [message]);
      const key = `${prefix}topic:btc_ema_a1b2c3_v1`;
      expect(bus.streamKey('btc_ema_a1b2c3_v1')).toBe(key);
      expect(await admin.type(key)).toBe('stream');
      const entries = await admin.sendCommand<[string, string[]][]>(['XRANGE', key, '-', '+']);
      expect(entries.map(([, fields]) => fields)).toEqual([
        ['key', 'a1b2c3', 'value', '{"interval":60,"timestamp":1700000040,"payload":{"close":1.5}}'],
      ]);
    });

    it('creates the stream on ensureTopic, idempotently', async () => {
      const { bus, admin, prefix } = await newBus();
      await bus.ensureTopic('t');
      await bus.ensureTopic('t');
      expect(await admin.type(`${prefix}topic:t`)).toBe('stream');
      expect(await admin.sendCommand(['XINFO', 'GROUPS', `${prefix}topic:t`])).toEqual([]);
    });

    it('trims a stream to about maxLen entries; maxLen 0 keeps all; a bad maxLen is refused', async () => {
      const { bus, admin, prefix } = await newBus({ maxLen: 100 });
      await bus.publish('t', messages('n', 1, 2000));
      const length = await admin.xLen(`${prefix}topic:t`);
      expect(length).toBeGreaterThanOrEqual(100);
      expect(length).toBeLessThan(500);
      const unbounded = await newBus({ maxLen: 0 });
      await unbounded.bus.publish('t', messages('n', 1, 2000));
      expect(await unbounded.admin.xLen(`${unbounded.prefix}topic:t`)).toBe(2000);
      await expect(RedisTopicBus.connect(dsn, { maxLen: -1 })).rejects.toThrow(
        'maxLen must be a non-negative integer (0 keeps every entry), got -1',
      );
    });

    it("claims a dead consumer's pending entries after claimIdleMs", async () => {
      const { bus, admin, prefix } = await newBus({ claimIdleMs: 400 });
      const key = `${prefix}topic:t`;
      await admin.sendCommand(['XGROUP', 'CREATE', key, 'g', '0', 'MKSTREAM']);
      await bus.publish('t', messages('n', 1, 3));
      // A consumer that read the entries and died before acking them.
      await admin.sendCommand(['XREADGROUP', 'GROUP', 'g', 'dead', 'COUNT', '10', 'STREAMS', key, '>']);
      const received: ReceivedMessage[] = [];
      const began = Date.now();
      await bus.subscribe({ topics: ['t'], group: 'g', onMessage: (m) => void received.push(m) });
      await until(() => received.length >= 3);
      expect(Date.now() - began).toBeGreaterThanOrEqual(300);
      expect(received.map((m) => m.timestamp)).toEqual([60, 120, 180]);
      await until(async () => ((await admin.sendCommand<[number]>(['XPENDING', key, 'g']))[0] ?? 1) === 0);
    });

    it('re-reads its own pending entries at once when restarted under the same consumer name', async () => {
      const prefix = uniquePrefix();
      const options = { keyPrefix: prefix, consumerName: 'worker-a', claimIdleMs: 60_000 };
      const { bus: crashed } = await newBus(options);
      let release = (): void => undefined;
      const stuck = new Promise<void>((resolve) => (release = resolve));
      const attempts: number[] = [];
      await crashed.subscribe({
        topics: ['t'],
        group: 'g',
        onMessage: (m) => {
          attempts.push(m.timestamp);
          return m.timestamp === 120 ? stuck : undefined;
        },
      });
      await crashed.publish('t', messages('n', 1, 3));
      await until(() => attempts.includes(120));

      const restarted = await RedisTopicBus.connect(dsn, { ...options, blockMs: 100 });
      cleanups.push(() => restarted.close());
      const received: number[] = [];
      await restarted.subscribe({
        topics: ['t'],
        group: 'g',
        onMessage: (m) => void received.push(m.timestamp),
      });
      await until(() => received.includes(180), 5_000);
      expect(received).toContain(120);
      release();
    });

    it('fails fast, with QMTL_UNAVAILABLE, where nothing listens', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (address === null || typeof address === 'string') throw new Error('no port');
      const bus: TopicBus = await RedisTopicBus.connect(`redis://127.0.0.1:${address.port}`, {
        connectTimeoutMs: 200,
      });
      try {
        const began = Date.now();
        await expect(bus.publish('t', messages('n', 1, 1))).rejects.toMatchObject({
          code: ErrorCode.Unavailable,
        });
        await expect(
          bus.subscribe({ topics: ['t'], group: 'g', onMessage: () => undefined }),
        ).rejects.toMatchObject({ code: ErrorCode.Unavailable });
        expect(Date.now() - began).toBeLessThan(1000);
      } finally {
        await bus.close();
      }
    });

    it('rejects a DSN that is not redis://', async () => {
      await expect(RedisTopicBus.connect('http://127.0.0.1:6379')).rejects.toMatchObject({
        code: ErrorCode.InvalidArgument,
      });
    });
  });
});
