import { Fifo } from '../common/fifo.js';

/**
 * The rows a {@link QuestDBRecorder} holds, oldest first, each with a sequence number that never
 * changes: a batch in flight is named by the numbers of its rows, so rows dropped or sent while it
 * flies (by the `maxBufferedRows` limit) are never dropped twice. Taking rows from the front costs
 * nothing per row, so a queue of a million rows drains and trims in linear time.
 * @example
 * const queue = new LineQueue();
 * queue.push('a\n'); queue.push('b\n');
 * const from = queue.firstSeq; const batch = queue.peek(10); // ['a\n', 'b\n']
 * queue.dropBefore(from + batch.length); // both sent
 */
export class LineQueue {
  private readonly lines = new Fifo<string>();
  /** Sequence number of the oldest row held (rows removed so far). */
  private removed = 0;

  /** Rows held. */
  get length(): number {
    return this.lines.length;
  }

  /** Sequence number of the oldest row held (the next row's when empty). */
  get firstSeq(): number {
    return this.removed;
  }

  /** Sequence number the next pushed row gets. */
  get endSeq(): number {
    return this.removed + this.length;
  }

  push(line: string): void {
    this.lines.push(line);
  }

  /** Up to `count` of the oldest rows, which stay held. */
  peek(count: number): string[] {
    return this.lines.peek(count);
  }

  /** Removes every row numbered below `seq`; returns how many it removed (0 if already gone). */
  dropBefore(seq: number): number {
    const count = this.lines.drop(seq - this.removed);
    this.removed += count;
    return count;
  }
}
