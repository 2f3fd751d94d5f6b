import { TopicNameTakenError } from './queue-admin.js';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { dagManagerMetrics, resetDagManagerMetrics } from './metrics.js';
import type { QueueAdmin, TopicDescription, TopicSpec } from './queue-admin.js';
import {
  kafkaAdminBreaker,
  TopicCollisionError,
  TopicCreator,
  type TopicCreatorOptions,
} from './topic-creator.js';

type CreateStep = 'created' | 'exists' | Error;

/**
 * A scripted {@link QueueAdmin} (a double of the port): `createTopic` plays `creates` in order
 * (the last step repeats), `describeTopic` plays `describes`, and every call is recorded.
 */
class ScriptedAdmin implements QueueAdmin {
  creates: CreateStep[] = ['created'];
  /** null = not visible yet; undefined = describe the last created spec; an Error is thrown. */
  describes: (TopicDescription | null | undefined | Error)[] = [undefined];
  brokers = 1;
  /** The whole broker is unreachable: `brokerCount` fails too. */
  down = false;
  readonly created: TopicSpec[] = [];
  calls = 0;
  private lastSpec: TopicSpec | undefined;

  createTopic(spec: TopicSpec): Promise<'created' | 'exists'> {
    this.calls += 1;
    this.created.push(spec);
    this.lastSpec = spec;
    const step = (this.creates.length > 1 ? this.creates.shift() : this.creates[0])!;
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  }

  describeTopic(name: string): Promise<TopicDescription | null> {
    this.calls += 1;
    const step = this.describes.length > 1 ? this.describes.shift() : this.describes[0];
    if (step instanceof Error) return Promise.reject(step);
    if (step !== undefined) return Promise.resolve(step);
    const spec = this.lastSpec!;
    return Promise.resolve({
      name,
      partitions: spec.partitions,
      replicationFactor: spec.replicationFactor,
      retentionMs: spec.retentionMs,
    });
  }

  brokerCount(): Promise<number> {
    this.calls += 1;
    return this.down ? Promise.reject(brokerDown()) : Promise.resolve(this.brokers);
  }

  listTopics = (): Promise<string[]> => Promise.resolve([]);
  topicSizes = (): Promise<Map<string, number>> => Promise.resolve(new Map<string, number>());
  deleteTopic = (): Promise<void> => Promise.resolve();
  close = (): Promise<void> => Promise.resolve();
}

const spec: TopicSpec = { name: 'btc_EMA_abcdef_v1', partitions: 1, replicationFactor: 1, retentionMs: 1000 };
const brokerDown = (): Error =>
  new QmtlError(ErrorCode.Unavailable, 'Kafka at 127.0.0.1:19092 is unreachable');
const counter = async (metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> =>
  (await metric.get()).values[0]?.value ?? 0;

describe('TopicCreator', () => {
  let admin: ScriptedAdmin;
  let sleeps: number[];
  let clock: number;
  const creator = (options: TopicCreatorOptions = {}): TopicCreator =>
    new TopicCreator(admin, {
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      now: () => clock,
      backoff: { baseDelayMs: 100, random: () => 0.5 },
      logger: pino({ level: 'silent' }),
      ...options,
    });

  beforeEach(() => {
    admin = new ScriptedAdmin();
    sleeps = [];
    clock = 0;
    resetDagManagerMetrics();
  });

  it('creates a new topic and returns the broker description', async () => {
    expect(await creator().ensure(spec)).toEqual({
      name: spec.name,
      partitions: 1,
      replicationFactor: 1,
      retentionMs: 1000,
      created: true,
    });
    expect(sleeps).toEqual([]);
  });

  it('retries failed creates with jittered exponential backoff, then succeeds', async () => {
    admin.creates = [brokerDown(), brokerDown(), 'created'];
    const topic = await creator({ failureThreshold: 10 }).ensure(spec);
    expect(topic.created).toBe(true);
    expect(admin.created).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]); // half of 100 then 200 ms (full jitter at 0.5)
  });

  it('reports created when an earlier attempt created it and a later one found it', async () => {
    admin.creates = ['created', 'exists'];
    admin.describes = [brokerDown(), undefined];
    expect((await creator().ensure(spec)).created).toBe(true);
    expect(admin.created).toHaveLength(2);
  });

  it('gives up after 5 failed attempts with QueueCreateFailed naming the topic and the cause', async () => {
    admin.creates = [new Error('NOT_CONTROLLER')];
    const failure = creator({ failureThreshold: 10 }).ensure(spec);
    await expect(failure).rejects.toMatchObject({
      code: ErrorCode.QueueCreateFailed,
      message: 'Could not create topic "btc_EMA_abcdef_v1" after 5 attempts: NOT_CONTROLLER',
    });
    expect(admin.created).toHaveLength(5);
    expect(sleeps).toEqual([50, 100, 200, 400]);
    expect(await counter(dagManagerMetrics.queueCreateErrorTotal)).toBe(1);
  });

  it('waits for the topic to become visible, and retries when it never does', async () => {
    admin.describes = [null, null, undefined];
    expect((await creator({ pollIntervalMs: 10 }).ensure(spec)).created).toBe(true);
    expect(sleeps).toEqual([10, 10]);

    admin.describes = [null];
    sleeps = [];
    const never = creator({ pollIntervalMs: 10, visibilityTimeoutMs: 30 }).ensure(spec);
    await expect(never).rejects.toMatchObject({
      code: ErrorCode.QueueCreateFailed,
      message: expect.stringContaining('was not visible in broker metadata after 3 checks') as unknown,
    });
    expect(sleeps.filter((ms) => ms === 10)).toHaveLength(5 * 2);
  });

  it('opens the breaker after 3 failures, then fails fast with Unavailable until a half-open probe', async () => {
    admin.creates = [brokerDown()];
    const topics = creator();
    await expect(topics.ensure(spec)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(admin.created).toHaveLength(3);
    expect(topics.breaker.state).toBe('open');
    expect(await counter(dagManagerMetrics.kafkaBreakerOpenTotal)).toBe(1);
    expect(await counter(dagManagerMetrics.queueCreateErrorTotal)).toBe(1);

    const calls = admin.calls;
    await expect(topics.ensure(spec)).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      message: expect.stringContaining('circuit open') as unknown,
    });
    expect(admin.calls).toBe(calls); // fast fail: the broker was not asked

    clock = 60_000;
    expect(topics.breaker.state).toBe('half-open');
    admin.creates = ['created'];
    expect((await topics.ensure(spec)).created).toBe(true);
    expect(topics.breaker.state).toBe('closed');
    expect(await counter(dagManagerMetrics.kafkaBreakerOpenTotal)).toBe(1);
  });

  it('reopens the breaker when the half-open probe fails', async () => {
    admin.down = true;
    const topics = creator({ failureThreshold: 2, resetTimeoutMs: 1000 });
    await expect(topics.ensure(spec)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    clock = 1000;
    const calls = admin.calls;
    await expect(topics.ensure(spec)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    expect(admin.calls).toBe(calls + 1); // exactly one probe
    expect(topics.breaker.state).toBe('open');
    expect(await counter(dagManagerMetrics.kafkaBreakerOpenTotal)).toBe(2);
  });

  it('fails at once when the broker rejects the request, without retrying or tripping the breaker', async () => {
    const rejected = new QmtlError(ErrorCode.QueueCreateFailed, 'INVALID_CONFIG: retention.ms');
    admin.creates = [rejected];
    const topics = creator({ failureThreshold: 1 });
    await expect(topics.ensure(spec)).rejects.toBe(rejected);
    expect(admin.created).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(topics.breaker.state).toBe('closed');
    expect(await counter(dagManagerMetrics.queueCreateErrorTotal)).toBe(1);
  });

  it('shares one breaker between creators of one cluster', async () => {
    const breaker = kafkaAdminBreaker({ failureThreshold: 1, now: () => clock });
    admin.down = true;
    await expect(creator({ breaker }).ensure(spec)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
    const calls = admin.calls;
    await expect(creator({ breaker }).ensure(spec)).rejects.toMatchObject({
      message: expect.stringContaining('circuit open') as unknown,
    });
    expect(admin.calls).toBe(calls);
    expect(await counter(dagManagerMetrics.kafkaBreakerOpenTotal)).toBe(1);
  });

  it('rejects a same-name topic of another shape as a collision, without retrying', async () => {
    admin.creates = ['exists'];
    admin.describes = [{ name: spec.name, partitions: 3, replicationFactor: 1, retentionMs: 1000 }];
    const failure = creator().ensure(spec);
    await expect(failure).rejects.toBeInstanceOf(TopicCollisionError);
    // The diff gives the node another name on any TopicNameTakenError.
    await expect(failure).rejects.toBeInstanceOf(TopicNameTakenError);
    await expect(failure).rejects.toMatchObject({
      code: ErrorCode.QueueCreateFailed,
      message: expect.stringContaining('already exists with 3 partitions') as unknown,
    });
    expect(admin.created).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(await counter(dagManagerMetrics.queueCreateErrorTotal)).toBe(1);
  });

  it('accepts an existing topic of the same shape', async () => {
    admin.creates = ['exists'];
    expect((await creator().ensure(spec)).created).toBe(false);
  });

  it('clamps the replication factor to the broker count', async () => {
    admin.brokers = 2;
    const topic = await creator().ensure({ ...spec, partitions: 3, replicationFactor: 3 });
    expect(admin.created[0]).toMatchObject({ partitions: 3, replicationFactor: 2 });
    expect(topic.replicationFactor).toBe(2);
  });

  it('shares one flight between concurrent ensures of the same name', async () => {
    const topics = creator();
    const results = await Promise.all(Array.from({ length: 10 }, () => topics.ensure(spec)));
    expect(admin.created).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    admin.creates = ['exists'];
    expect((await topics.ensure(spec)).created).toBe(false); // the flight ended; a new one starts
    expect(admin.created).toHaveLength(2);
  });

  it('gives a joiner that wants another shape a collision', async () => {
    const topics = creator();
    const [first, second] = await Promise.allSettled([
      topics.ensure(spec),
      topics.ensure({ ...spec, partitions: 2 }),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({ status: 'rejected', reason: expect.any(TopicCollisionError) as unknown });
  });

  it('rejects a name Kafka does not allow before asking the broker', async () => {
    await expect(creator().ensure({ ...spec, name: 'a/b' })).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    expect(admin.calls).toBe(0);
  });
});
