import { describe, expect, it } from 'vitest';
import { LineQueue } from './line-queue.js';

describe('LineQueue', () => {
  it('drops by sequence number, so a batch in flight is never dropped twice', () => {
    const queue = new LineQueue();
    for (const line of ['a', 'b', 'c', 'd']) queue.push(line);
    const from = queue.firstSeq;
    const batch = queue.peek(2);
    expect(batch).toEqual(['a', 'b']);
    // The oldest three are dropped (a limit) while the batch flies; then the batch is sent.
    expect(queue.dropBefore(queue.firstSeq + 3)).toBe(3);
    expect(queue.dropBefore(from + batch.length)).toBe(0);
    expect(queue.peek(10)).toEqual(['d']);
    expect([queue.firstSeq, queue.endSeq, queue.length]).toEqual([3, 4, 1]);
  });

  it('keeps its order through many pushes and drops (compaction included)', () => {
    const queue = new LineQueue();
    for (let i = 0; i < 5_000; i++) {
      queue.push(String(i));
      if (i % 3 === 2) queue.dropBefore(queue.firstSeq + 2);
    }
    expect(queue.length).toBe(5_000 - 2 * Math.floor(5_000 / 3));
    expect(queue.peek(2)).toEqual([String(2 * Math.floor(5_000 / 3)), String(2 * Math.floor(5_000 / 3) + 1)]);
  });
});
