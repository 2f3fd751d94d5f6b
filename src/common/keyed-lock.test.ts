import { describe, expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('KeyedLock', () => {
  it('runs sections sharing a key one at a time, in call order', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const section = (name: string) => async () => {
      events.push(`${name} start`);
      await tick();
      events.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([
      lock.run(['a'], section('1')),
      lock.run(['a', 'b'], section('2')),
      lock.run(['b'], section('3')),
    ]);
    expect(results).toEqual(['1', '2', '3']);
    expect(events).toEqual(['1 start', '1 end', '2 start', '2 end', '3 start', '3 end']);
    expect(lock.size).toBe(0);
  });

  it('runs sections with no key in common at the same time', async () => {
    const lock = new KeyedLock();
    let running = 0;
    let most = 0;
    const section = async (): Promise<void> => {
      most = Math.max(most, ++running);
      await tick();
      running--;
    };
    await Promise.all([lock.run(['a'], section), lock.run(['b'], section), lock.run(['c', 'd'], section)]);
    expect(most).toBe(3);
  });

  it('never deadlocks on keys taken in opposite orders', async () => {
    const lock = new KeyedLock();
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        lock.run(i % 2 === 0 ? ['x', 'y'] : ['y', 'x'], async () => {
          await tick();
          order.push(i);
        }),
      ),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('releases the keys of a section that throws', async () => {
    const lock = new KeyedLock();
    await expect(lock.run(['a'], () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run(['a'], () => Promise.resolve('next'))).resolves.toBe('next');
    expect(lock.size).toBe(0);
  });
});
