import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  oncePerBucket,
  type ReceivedMessage,
  type SubscribeOptions,
  type Subscription,
  type TopicBus,
  type TopicMessage,
} from './topic-bus.js';

/**
 * One fresh bus for one test, as built by the adapter's test. Every topic the kit uses comes from
 * {@link newTopic}, and every group name is unique per test, so fixtures may share one server.
 */
export interface TopicBusFixture {
  readonly bus: TopicBus;
  /** A topic name no other test uses (the kit calls `ensureTopic` on it). */
  newTopic(): string;
  /**
   * A new bus over the same broker, as a restarted process would see it: a new connection and no
   * in-process state of `bus`. The kit closes what it gets.
   */
  reopen(): Promise<TopicBus>;
  /**
   * Closes `bus` (which the test may already have closed, so `close` must be idempotent) and
   * removes what the test left on the broker.
   */
  cleanup(): Promise<void>;
  /**
   * Appends a raw key and value to a topic behind the bus's back, for the "not a qmtl message"
   * test; without it that test is skipped.
   */
  publishRaw?(topic: string, key: string, value: string): Promise<void>;
}

/** Adapter-level knobs of {@link testTopicBusContract}. */
export interface TopicBusContractOptions {
  /** How long the kit waits for an expected delivery, in ms. Default 10,000. */
  readonly deliveryTimeoutMs?: number;
  /**
   * How long the kit watches for a delivery that must not happen (after a marker that must have
   * arrived first has arrived), in ms. Default 200.
   */
  readonly quietMs?: number;
  /** Generated cases of the failures-and-restarts check. Default 30. */
  readonly generatedRuns?: number;
}

/** The payload the kit publishes: a sequence number, plus whatever a test adds. */
interface Numbered {
  readonly seq: number;
}

/** Messages of one key with sequence numbers `from..to`, one bucket (60 s) apart. */
function numbered(nodeId: string, from: number, to: number): TopicMessage[] {
  const messages: TopicMessage[] = [];
  for (let seq = from; seq <= to; seq += 1)
    messages.push({ nodeId, interval: 60, timestamp: 1_700_000_040 + seq * 60, payload: { seq } });
  return messages;
}

function seqOf(message: ReceivedMessage): number {
  return (message.payload as Numbered).seq;
}

/** A handler that records what it receives, and lets a test wait for a condition on it. */
class Recorder {
  readonly received: ReceivedMessage[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly timeoutMs: number) {}

  readonly onMessage = (message: ReceivedMessage): void => {
    this.received.push(message);
    this.notify();
  };

  seqs(filter: (message: ReceivedMessage) => boolean = () => true): number[] {
    return this.received.filter(filter).map(seqOf);
  }

  /** Wakes the waiters; for handlers that record somewhere else. */
  notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `condition` holds; fails the test after the delivery timeout. */
  async until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${this.timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once at least `count` messages have been received. */
  untilCount(count: number): Promise<void> {
    return this.until(
      () => this.received.length >= count,
      `${count} messages (have ${this.received.length})`,
    );
  }
}

/**
 * The behaviour every {@link TopicBus} adapter must have: ordered, intact delivery; groups and
 * members; `from`; at-least-once with resume after a restart; skipping foreign values; idempotent
 * close; bulk publishing; backlogs of several topics in bucket order across them. Call it from each adapter's test. Messages published after `subscribe` resolves must reach
 * the subscription (the kit publishes right after subscribing).
 * @example
 * const broker = new MemoryTopicBroker();
 * testTopicBusContract('memory', () => {
 *   const bus = new MemoryTopicBus({ broker });
 *   return Promise.resolve({ bus, newTopic: () => `t${++n}`, reopen: async () => new MemoryTopicBus({ broker }), cleanup: () => bus.close() });
 * });
 */
export function testTopicBusContract(
  name: string,
  create: () => Promise<TopicBusFixture>,
  options: TopicBusContractOptions = {},
): void {
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const quietMs = options.quietMs ?? 200;
  const testTimeout = deliveryTimeoutMs * 3;

  describe(`${name} TopicBus contract`, () => {
    let fixture: TopicBusFixture;
    let bus: TopicBus;
    let groupCount = 0;
    /** Subscriptions and reopened buses the test opened, closed after it whatever happens. */
    let opened: { close(): Promise<void> }[] = [];

    const recorder = (): Recorder => new Recorder(deliveryTimeoutMs);
    const newGroup = (): string => `group-${process.pid}-${Date.now()}-${(groupCount += 1)}`;
    const topic = async (on: TopicBus = bus): Promise<string> => {
      const created = fixture.newTopic();
      await on.ensureTopic(created);
      return created;
    };
    const subscribe = async (on: TopicBus, subscribeOptions: SubscribeOptions): Promise<Subscription> => {
      const subscription = await on.subscribe(subscribeOptions);
      opened.push(subscription);
      return subscription;
    };
    const reopen = async (): Promise<TopicBus> => {
      const reopened = await fixture.reopen();
      opened.push(reopened);
      return reopened;
    };

    beforeEach(async () => {
      opened = [];
      fixture = await create();
      bus = fixture.bus;
    });
    afterEach(async () => {
      for (const item of opened.reverse()) await item.close();
      await fixture.cleanup();
    });

    it(
      'delivers messages in publish order per topic and key, with every field intact',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const payloads: unknown[] = [
          { seq: 1, close: 101.25, tags: ['btc', 'ä✓'], nested: { ok: true, none: null } },
          { seq: 2, text: 'line\nbreak "quoted"' },
          { seq: 3, list: [1, -2.5, 1e-9, 12345678901234] },
        ];
        const messages: TopicMessage[] = payloads.map((payload, index) => ({
          nodeId: index === 1 ? 'node-b' : 'node-a',
          interval: 60,
          timestamp: 1_700_000_040 + index * 60,
          payload,
        }));
        const scalars: TopicMessage[] = [null, 'text', 42].map((payload, index) => ({
          nodeId: 'node-c',
          interval: 3600,
          timestamp: 1_699_999_200 + index * 3600,
          payload,
        }));
        const seen = recorder();
        await subscribe(bus, { topics: [t], group: newGroup(), onMessage: seen.onMessage });
        await bus.publish(t, messages);
        await bus.publish(t, []);
        await bus.publish(t, scalars);
        await seen.untilCount(6);
        await sleep(quietMs);

        const expected = [...messages, ...scalars].map((message) => ({ ...message, topic: t }));
        const byKey = (nodeId: string, list: readonly TopicMessage[]): TopicMessage[] =>
          list.filter((message) => message.nodeId === nodeId);
        for (const nodeId of ['node-a', 'node-b', 'node-c'])
          expect(byKey(nodeId, seen.received)).toEqual(byKey(nodeId, expected));
        expect(seen.received).toHaveLength(6);
      },
    );

    it(
      'finds the newest message of a node at the tail of a topic, or null',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        expect(await bus.lastMessage(t, 'a')).toBeNull();
        await bus.publish(t, [...numbered('a', 1, 3), ...numbered('b', 4, 5)]);
        const last = await bus.lastMessage(t, 'a');
        expect(last).toMatchObject({
          topic: t,
          nodeId: 'a',
          timestamp: 1_700_000_040 + 3 * 60,
          payload: { seq: 3 },
        });
        expect((await bus.lastMessage(t, 'b'))?.timestamp).toBe(1_700_000_040 + 5 * 60);
        expect(await bus.lastMessage(t, 'c')).toBeNull();
      },
    );

    it('creates topics idempotently', async () => {
      const t = await topic();
      await bus.ensureTopic(t);
      const seen = recorder();
      await subscribe(bus, { topics: [t], group: newGroup(), onMessage: seen.onMessage });
      await bus.publish(t, numbered('n', 1, 1));
      await seen.untilCount(1);
      expect(seen.seqs()).toEqual([1]);
    });

    it('delivers several topics to one subscription, each in order', { timeout: testTimeout }, async () => {
      const [t1, t2] = [await topic(), await topic()];
      const seen = recorder();
      await subscribe(bus, { topics: [t1, t2], group: newGroup(), onMessage: seen.onMessage });
      await bus.publish(t1, numbered('n', 1, 5));
      await bus.publish(t2, numbered('n', 101, 105));
      await bus.publish(t1, numbered('n', 6, 10));
      await seen.untilCount(15);
      expect(seen.seqs((m) => m.topic === t1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(seen.seqs((m) => m.topic === t2)).toEqual([101, 102, 103, 104, 105]);
    });

    it(
      'delivers each new message of a topic while another topic of the subscription stays empty',
      { timeout: testTimeout },
      async () => {
        const [busy, empty] = [await topic(), await topic()];
        const seen = recorder();
        await subscribe(bus, { topics: [busy, empty], group: newGroup(), onMessage: seen.onMessage });
        // Live, one at a time: none may wait for the empty topic.
        for (let seq = 1; seq <= 3; seq += 1) {
          await bus.publish(busy, numbered('n', seq, seq));
          await seen.untilCount(seq);
        }
        expect(seen.seqs()).toEqual([1, 2, 3]);
      },
    );

    it('gives every group every message', { timeout: testTimeout }, async () => {
      const t = await topic();
      const [first, second] = [recorder(), recorder()];
      await subscribe(bus, { topics: [t], group: newGroup(), onMessage: first.onMessage });
      await subscribe(bus, { topics: [t], group: newGroup(), onMessage: second.onMessage });
      await bus.publish(t, numbered('n', 1, 20));
      await first.untilCount(20);
      await second.untilCount(20);
      await sleep(quietMs);
      expect(first.seqs()).toEqual(numbered('n', 1, 20).map((m) => (m.payload as Numbered).seq));
      expect(second.seqs()).toEqual(first.seqs());
    });

    it('hands each message to exactly one member of a group', { timeout: testTimeout }, async () => {
      const t = await topic();
      const group = newGroup();
      const [first, second] = [recorder(), recorder()];
      await subscribe(bus, { topics: [t], group, onMessage: first.onMessage });
      const other = await reopen();
      await subscribe(other, { topics: [t], group, onMessage: second.onMessage });
      const messages = [...numbered('a', 1, 30), ...numbered('b', 31, 60)];
      await bus.publish(t, messages);
      const handled = (): number => first.received.length + second.received.length;
      await first.until(() => handled() >= 60, `60 messages across both members (have ${handled()})`);
      await sleep(quietMs);
      const all = [...first.seqs(), ...second.seqs()].sort((a, b) => a - b);
      expect(all).toEqual(messages.map((m) => (m.payload as Numbered).seq));
      for (const member of [first, second])
        for (const key of ['a', 'b']) {
          const seqs = member.seqs((m) => m.nodeId === key);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        }
    });

    it(
      "skips what was published before a new group subscribed with from: 'latest'",
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        await bus.publish(t, numbered('n', 1, 3));
        const seen = recorder();
        await subscribe(bus, { topics: [t], group: newGroup(), from: 'latest', onMessage: seen.onMessage });
        await bus.publish(t, numbered('n', 4, 5));
        await seen.untilCount(2);
        await sleep(quietMs);
        expect(seen.seqs()).toEqual([4, 5]);
      },
    );

    it(
      "resumes a group with a committed position from there, even with from: 'latest'",
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const group = newGroup();
        const before = recorder();
        const first = await subscribe(bus, { topics: [t], group, onMessage: before.onMessage });
        await bus.publish(t, numbered('n', 1, 2));
        await before.untilCount(2);
        await first.close();
        await bus.publish(t, numbered('n', 3, 3));
        const after = recorder();
        await subscribe(bus, { topics: [t], group, from: 'latest', onMessage: after.onMessage });
        await bus.publish(t, numbered('n', 4, 4));
        await after.untilCount(2);
        await sleep(quietMs);
        expect(after.seqs()).toEqual([3, 4]);
      },
    );

    it(
      'delivers a message again after its handler rejects, and handles nothing after it first',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const attempts: number[] = [];
        const successes: number[] = [];
        const seen = recorder();
        let failuresLeft = 2;
        await subscribe(bus, {
          topics: [t],
          group: newGroup(),
          onMessage: (message) => {
            const seq = seqOf(message);
            attempts.push(seq);
            seen.notify();
            if (seq === 3 && failuresLeft > 0) {
              failuresLeft -= 1;
              return Promise.reject(new Error('handler failed on purpose'));
            }
            successes.push(seq);
            return Promise.resolve();
          },
        });
        await bus.publish(t, numbered('n', 1, 5));
        await seen.until(() => successes.includes(5), 'message 5 to be handled');
        expect(attempts.filter((seq) => seq === 3).length).toBeGreaterThanOrEqual(3);
        expect(firstOccurrences(successes)).toEqual([1, 2, 3, 4, 5]);
      },
    );

    it(
      'handles every message, in order per key, through generated handler failures and restarts',
      { timeout: testTimeout * 10 },
      async () => {
        const keys = ['a', 'b', 'c'];
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.tuple(fc.constantFrom(...keys), fc.integer({ min: 1, max: 4 })), {
              minLength: 1,
              maxLength: 6,
            }),
            fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
            fc.integer({ min: 0, max: 2 }),
            async (batches, failurePattern, restarts) => {
              const t = await topic();
              const group = newGroup();
              const published = new Map(keys.map((key) => [key, 0]));
              const handled: { key: string; seq: number }[] = [];
              const failed = new Map<string, number>();
              const seen = recorder();
              let attempt = 0;
              // A delivery fails when the pattern says so, at most twice per message.
              const onMessage = (message: ReceivedMessage): Promise<void> => {
                const id = `${message.nodeId}:${seqOf(message)}`;
                seen.notify();
                if (failurePattern[attempt++ % failurePattern.length]! && (failed.get(id) ?? 0) < 2) {
                  failed.set(id, (failed.get(id) ?? 0) + 1);
                  return Promise.reject(new Error('handler failed on purpose'));
                }
                handled.push({ key: message.nodeId, seq: seqOf(message) });
                return Promise.resolve();
              };
              let on: TopicBus = bus;
              let subscription = await subscribe(on, { topics: [t], group, onMessage });
              for (const [index, [key, count]] of batches.entries()) {
                const from = published.get(key)! + 1;
                published.set(key, from + count - 1);
                await bus.publish(t, numbered(key, from, from + count - 1));
                if (index < restarts) {
                  await subscription.close();
                  on = await reopen();
                  subscription = await subscribe(on, { topics: [t], group, onMessage });
                }
              }
              const done = (): boolean =>
                keys.every((key) => {
                  const seqs = new Set(handled.filter((h) => h.key === key).map((h) => h.seq));
                  return seqs.size === published.get(key);
                });
              await seen.until(done, 'every message to be handled');
              for (const key of keys) {
                const seqs = firstOccurrences(handled.filter((h) => h.key === key).map((h) => h.seq));
                expect(seqs, `key ${key}`).toEqual(
                  Array.from({ length: published.get(key)! }, (_, i) => i + 1),
                );
              }
              await subscription.close();
            },
          ),
          { numRuns: options.generatedRuns ?? 30 },
        );
      },
    );

    it(
      'redelivers an unhandled message to the next subscription of the group, not past it',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const group = newGroup();
        const failing = recorder();
        const first = await subscribe(bus, {
          topics: [t],
          group,
          onMessage: (message) => {
            failing.onMessage(message);
            return seqOf(message) === 3 ? Promise.reject(new Error('handler failed on purpose')) : undefined;
          },
        });
        await bus.publish(t, numbered('n', 1, 5));
        await failing.until(
          () => failing.seqs().filter((seq) => seq === 3).length >= 2,
          'message 3 to be retried',
        );
        expect(failing.seqs()).not.toContain(4);
        await first.close();
        await bus.close();

        const seen = recorder();
        await subscribe(await reopen(), { topics: [t], group, onMessage: seen.onMessage });
        await seen.until(() => seen.seqs().includes(5), 'message 5 after the restart');
        expect(firstOccurrences(seen.seqs())).toEqual([3, 4, 5]);
      },
    );

    it(
      'resumes after a restart right after the last committed message',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const group = newGroup();
        const before = recorder();
        const first = await subscribe(bus, { topics: [t], group, onMessage: before.onMessage });
        await bus.publish(t, numbered('n', 1, 3));
        await before.untilCount(3);
        await first.close();
        await bus.publish(t, numbered('n', 4, 6));
        await bus.close();

        const restarted = await reopen();
        const after = recorder();
        await subscribe(restarted, { topics: [t], group, onMessage: after.onMessage });
        await restarted.publish(t, numbered('n', 7, 8));
        await after.untilCount(5);
        await sleep(quietMs);
        expect(before.seqs()).toEqual([1, 2, 3]);
        expect(after.seqs()).toEqual([4, 5, 6, 7, 8]);
      },
    );

    it(
      'handles a redelivered message once per bucket with oncePerBucket',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const handled = recorder();
        const once = oncePerBucket(handled.onMessage);
        let commitFailures = 1;
        await subscribe(bus, {
          topics: [t],
          group: newGroup(),
          onMessage: async (message) => {
            await once(message);
            // Handled, but the commit is "lost": the bus must deliver it again.
            if (seqOf(message) === 2 && commitFailures > 0) {
              commitFailures -= 1;
              throw new Error('commit lost on purpose');
            }
          },
        });
        await bus.publish(t, numbered('n', 1, 3));
        // A producer that restarted republishes a bucket it had already sent.
        await bus.publish(t, numbered('n', 3, 4));
        await handled.until(() => handled.seqs().includes(4), 'message 4');
        await sleep(quietMs);
        expect(handled.seqs()).toEqual([1, 2, 3, 4]);
        expect(commitFailures).toBe(0);
      },
    );

    it(
      'skips a value that is not a qmtl message and keeps delivering',
      { timeout: testTimeout },
      async (context) => {
        if (fixture.publishRaw === undefined) {
          context.skip('the fixture cannot inject raw values');
          return;
        }
        const t = await topic();
        const seen = recorder();
        await subscribe(bus, { topics: [t], group: newGroup(), onMessage: seen.onMessage });
        await bus.publish(t, numbered('n', 1, 1));
        await fixture.publishRaw(t, 'n', 'not json');
        await fixture.publishRaw(t, 'n', '{"interval":60,"payload":{"seq":99}}');
        await fixture.publishRaw(t, 'n', '[1,2]');
        await bus.publish(t, numbered('n', 2, 2));
        await seen.untilCount(2);
        await sleep(quietMs);
        expect(seen.seqs()).toEqual([1, 2]);
      },
    );

    it(
      'stops delivering once a subscription is closed, and closes idempotently',
      { timeout: testTimeout },
      async () => {
        const t = await topic();
        const [closed, marker] = [recorder(), recorder()];
        const subscription = await subscribe(bus, {
          topics: [t],
          group: newGroup(),
          onMessage: closed.onMessage,
        });
        await subscribe(bus, { topics: [t], group: newGroup(), onMessage: marker.onMessage });
        await bus.publish(t, numbered('n', 1, 1));
        await closed.untilCount(1);
        await subscription.close();
        await subscription.close();
        await bus.publish(t, numbered('n', 2, 3));
        await marker.untilCount(3);
        await sleep(quietMs);
        expect(closed.seqs()).toEqual([1]);
      },
    );

    it(
      'delivers the backlogs of several topics in bucket order across them',
      { timeout: testTimeout },
      async () => {
        const [price, average, quiet] = [await topic(), await topic(), await topic()];
        // A stream and an average of it, published bucket by bucket as producers do (small
        // batches, so a subscription fetches them in several rounds): 1200 buckets, the average
        // from the 20th on; a third topic that is quiet after 10 buckets.
        for (let from = 1; from <= 1200; from += 50) {
          await bus.publish(price, numbered('p', from, from + 49));
          await bus.publish(average, numbered('a', Math.max(20, from), from + 49));
        }
        await bus.publish(quiet, numbered('q', 1, 10));
        const seen = recorder();
        await subscribe(bus, {
          topics: [price, average, quiet],
          group: newGroup(),
          onMessage: seen.onMessage,
        });
        await seen.untilCount(1200 + 1181 + 10);
        await sleep(quietMs);
        const stamps = seen.received.map((message) => message.timestamp);
        expect(stamps).toHaveLength(1200 + 1181 + 10);
        expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      },
    );

    it(
      'delivers 10,000 messages published in batches, complete and in order',
      { timeout: testTimeout * 2 },
      async () => {
        const t = await topic();
        const seen = recorder();
        await subscribe(bus, { topics: [t], group: newGroup(), onMessage: seen.onMessage });
        // Batches alternate between two keys; order is promised per key only.
        const expected: Record<string, number[]> = { a: [], b: [] };
        for (let start = 1; start <= 10_000; start += 500) {
          const batch = numbered(start % 1000 === 1 ? 'a' : 'b', start, start + 499);
          expected[batch[0]?.nodeId ?? 'a']?.push(...batch.map((m) => (m.payload as Numbered).seq));
          await bus.publish(t, batch);
        }
        await seen.until(
          () => seen.received.length >= 10_000,
          `10,000 messages (have ${seen.received.length})`,
        );
        await sleep(quietMs);
        expect(seen.seqs((m) => m.nodeId === 'a')).toEqual(expected['a']);
        expect(seen.seqs((m) => m.nodeId === 'b')).toEqual(expected['b']);
        expect(seen.received).toHaveLength(10_000);
      },
    );
  });
}

/** `values` without repeats of a value already seen (redeliveries), in first-seen order. */
function firstOccurrences(values: readonly number[]): number[] {
  return [...new Set(values)];
}
