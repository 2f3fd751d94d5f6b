import { describe, expect, it } from 'vitest';
import { BucketOrderedBacklog } from './bucket-order.js';

const at = (...timestamps: number[]): { entry: string; timestamp: number }[] =>
  timestamps.map((timestamp) => ({ entry: String(timestamp), timestamp }));

/** Hands out entries until `next` says to fetch (or nothing is left). */
function drain(backlog: BucketOrderedBacklog<string>): string[] {
  const out: string[] = [];
  for (let next = backlog.next(); next !== null; next = backlog.next()) {
    out.push(`${next.key}${next.entry}`);
    backlog.shift(next.key);
  }
  return out;
}

describe('BucketOrderedBacklog', () => {
  it('hands out entries in timestamp order across keys, the first key winning a tie', () => {
    const backlog = new BucketOrderedBacklog<string>();
    backlog.add('a', at(0, 60, 120), false);
    backlog.add('b', at(60, 90), false);
    expect(drain(backlog)).toEqual(['a0', 'a60', 'b60', 'b90', 'a120']);
    expect(backlog.empty).toBe(true);
  });

  it('stops before passing a key whose last fetch was full and whose entries are all handed out', () => {
    const backlog = new BucketOrderedBacklog<string>();
    backlog.add('a', at(0, 60), true);
    backlog.add('b', at(0, 60, 120, 180), false);
    // a may hold more at 60 or later: b60 waits for a's next fetch.
    expect(drain(backlog)).toEqual(['a0', 'b0', 'a60']);
    expect(backlog.count('b')).toBe(3);
    backlog.add('a', at(120), false);
    expect(drain(backlog)).toEqual(['b60', 'a120', 'b120', 'b180']);
  });

  it('hands out a long backlog of one key whole and in order', () => {
    // Its queues are Fifos (no Array.prototype.shift, which took 10 s here: see fifo.test.ts).
    const backlog = new BucketOrderedBacklog<string>();
    backlog.add('a', at(...Array.from({ length: 100_000 }, (_, i) => i)));
    backlog.add('b', at(50_000.5));
    const out = drain(backlog);
    expect(out).toHaveLength(100_001);
    expect(out[50_001]).toBe('b50000.5');
    expect(backlog.empty).toBe(true);
  });

  it('lists what is buffered per key', () => {
    const backlog = new BucketOrderedBacklog<string>();
    backlog.add('a', at(0), false);
    backlog.add('b', [], false);
    expect([...backlog.keys()]).toEqual(['a']);
    expect(backlog.buffered('a')).toEqual(['0']);
  });
});
