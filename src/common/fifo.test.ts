import { afterEach, describe, expect, it, vi } from 'vitest';
import { Fifo } from './fifo.js';

describe('Fifo', () => {
  afterEach(() => vi.restoreAllMocks());

  it('hands items out oldest first, peeks without removing, and drops at most what it holds', () => {
    const fifo = new Fifo<string>();
    expect([fifo.first(), fifo.length, fifo.drop(3)]).toEqual([undefined, 0, 0]);
    for (const item of ['a', 'b', 'c']) fifo.push(item);
    expect(fifo.peek(2)).toEqual(['a', 'b']);
    expect(fifo.drop(1)).toBe(1);
    expect([fifo.first(), fifo.length]).toEqual(['b', 2]);
    expect(fifo.drop(-1)).toBe(0);
    expect(fifo.drop(5)).toBe(2);
    expect([fifo.first(), fifo.length, fifo.peek()]).toEqual([undefined, 0, []]);
  });

  it('keeps its order through many pushes and drops, across compactions', () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 5_000; round++) {
      fifo.push(next++);
      fifo.push(next++);
      if (round % 2 === 1) {
        expect(fifo.first()).toBe(expected);
        expected += fifo.drop(3);
      }
    }
    expect(fifo.length).toBe(next - expected);
    expect(fifo.peek()).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
  });

  it('drains without Array.prototype.shift, which moves every remaining item (quadratic over a long queue)', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 10_000; i++) fifo.push(i);
    const shift = vi.spyOn(Array.prototype, 'shift');
    while (fifo.length > 0) fifo.drop(1);
    expect(shift).not.toHaveBeenCalled();
  });

  it('clears', () => {
    const fifo = new Fifo<number>();
    fifo.push(1);
    fifo.clear();
    expect([fifo.length, fifo.first()]).toEqual([0, undefined]);
  });
});
