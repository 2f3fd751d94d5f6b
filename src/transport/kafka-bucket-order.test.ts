import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KafkaBucketOrder, type PartitionRecord, type PartitionSource } from './kafka-bucket-order.js';

interface TestRecord extends PartitionRecord {
  readonly timestamp: number;
}

/**
 * A consumer stream as the Kafka client's behaves: records pushed one fetch response at a time,
 * each partition's fetch position moved past what was pushed. Partitions are `t:0`, `u:0`, ….
 */
function stream(ends: Record<string, number>) {
  const readable = new Readable({ objectMode: true, highWaterMark: 1_000_000, read: () => undefined });
  const offsetsToFetch = new Map(Object.keys(ends).map((key) => [key, 0n]));
  // `ends` is what the broker answers: a test may move an end on.
  const source: PartitionSource<TestRecord> = {
    stream: Object.assign(readable, { offsetsToFetch }),
    assigned: () => Object.keys(ends),
    listEnds: () => Promise.resolve(new Map(Object.entries(ends).map(([key, end]) => [key, BigInt(end)]))),
    decode: (record) => ({ ...record, nodeId: 'n', interval: 60, payload: null }),
  };
  return {
    source,
    readable,
    /** One fetch response: `timestamps` of partition `key`, at its next offsets. */
    fetched: (key: string, timestamps: readonly number[]): void => {
      const [topic = '', partition = '0'] = key.split(':');
      for (const timestamp of timestamps) {
        const offset = offsetsToFetch.get(key)!;
        readable.push({ topic, partition: Number(partition), offset, timestamp });
        offsetsToFetch.set(key, offset + 1n);
      }
    },
  };
}

/** Runs the reader into `out` (`t0` for partition t's record at 0) until the stream ends. */
function drain(order: KafkaBucketOrder<TestRecord>, out: string[]): Promise<void> {
  return (async () => {
    for await (const { record } of order.records()) out.push(`${record.topic}${record.timestamp}`);
  })();
}

describe('KafkaBucketOrder', () => {
  it('holds records back while a partition has not reached its end offset', async () => {
    const { source, readable, fetched } = stream({ 't:0': 3, 'u:0': 2 });
    const out: string[] = [];
    const done = drain(new KafkaBucketOrder(source), out);
    fetched('t:0', [0, 60, 120]);
    await tick();
    expect(out).toEqual([]);
    fetched('u:0', [0, 60]);
    readable.push(null);
    await done;
    expect(out).toEqual(['t0', 'u0', 't60', 'u60', 't120']);
  });

  it('does not wait for a partition that is at its end offset', async () => {
    const { source, readable, fetched } = stream({ 't:0': 2, 'u:0': 0 });
    const out: string[] = [];
    const done = drain(new KafkaBucketOrder(source), out);
    fetched('t:0', [0, 60]);
    await tick();
    await tick();
    expect(out).toEqual(['t0', 't60']);
    // Live: the quiet partition gets a record later; it goes out as soon as it is read.
    fetched('u:0', [120]);
    await tick();
    expect(out).toEqual(['t0', 't60', 'u120']);
    readable.push(null);
    await done;
  });

  it('lists the end offsets again while records flow, and waits for a partition that fell behind', async () => {
    const ends = { 't:0': 1, 'u:0': 0 };
    const { source, readable, fetched } = stream(ends);
    const out: string[] = [];
    const done = drain(new KafkaBucketOrder(source, { endsRefreshMs: 0 }), out);
    fetched('t:0', [0]);
    await tick();
    // u gets a record on the broker; the listing after the next hand-out sees it.
    ends['u:0'] = 1;
    fetched('t:0', [60]);
    await tick();
    fetched('t:0', [120]);
    await tick();
    expect(out).toEqual(['t0', 't60']);
    fetched('u:0', [90]);
    readable.push(null);
    await done;
    expect(out).toEqual(['t0', 't60', 'u90', 't120']);
  });

  it('reads records of a partition waiting unread in the stream before passing it', async () => {
    // Both partitions are at their end: only the records in the stream can be out of order.
    const { source, readable, fetched } = stream({ 't:0': 0, 'u:0': 0 });
    const out: string[] = [];
    fetched('t:0', [0, 60, 120]);
    fetched('u:0', [30, 90]);
    readable.push(null);
    await drain(new KafkaBucketOrder(source), out);
    expect(out).toEqual(['t0', 'u30', 't60', 'u90', 't120']);
  });

  it('reads the stream only as far as the order needs', async () => {
    const { source, readable, fetched } = stream({ 't:0': 100, 'u:0': 100 });
    for (let i = 0; i < 100; i += 1) {
      fetched('t:0', [i * 60]);
      fetched('u:0', [i * 60]);
    }
    const records = new KafkaBucketOrder(source).records();
    for (let i = 0; i < 10; i += 1) await records.next();
    // Ten handed out, a few read ahead: the rest stays in the stream, bounded by its buffer.
    expect(readable.readableLength).toBeGreaterThanOrEqual(185);
    await records.return(undefined);
  });

  it('hands out the oldest without waiting once it holds maxBuffered records', async () => {
    // u lags (its records never come): t goes out once three of its records wait, one per read.
    const { source, readable, fetched } = stream({ 't:0': 5, 'u:0': 10 });
    const out: string[] = [];
    fetched('t:0', [0, 60, 120, 180, 240]);
    readable.push(null);
    await drain(new KafkaBucketOrder(source, { maxBuffered: 3 }), out);
    // The stream ended (the subscription closes) with two records still held: they are not handed out.
    expect(out).toEqual(['t0', 't60', 't120']);
  });
});
