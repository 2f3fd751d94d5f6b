import { describe, expect, it } from 'vitest';
import { StrategyStatus } from '../strategy-status.js';
import { MemoryStateStore } from './memory-state-store.js';
import { testStateStoreContract } from './state-store.contract.test-kit.js';

/** A clock that only moves when told to. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

testStateStoreContract('memory', () => {
  const clock = manualClock();
  const store = new MemoryStateStore({ now: clock.now });
  return Promise.resolve({
    store,
    cleanup: () => store.close(),
    advance: (ms: number) => {
      clock.advance(ms);
      return Promise.resolve();
    },
  });
});

describe('MemoryStateStore', () => {
  it('holds a lock for exactly its TTL on the injected clock', async () => {
    const clock = manualClock();
    const store = new MemoryStateStore({ now: clock.now });
    expect(await store.acquireLock('s1', 'w1', 1000)).toBe(true);
    clock.advance(999);
    expect(await store.lockHolder('s1')).toBe('w1');
    expect(await store.acquireLock('s1', 'w2', 1000)).toBe(false);
    clock.advance(1);
    expect(await store.lockHolder('s1')).toBeNull();
    expect(await store.acquireLock('s1', 'w2', 1000)).toBe(true);
  });

  it('uses the wall clock by default', async () => {
    const store = new MemoryStateStore();
    expect(await store.acquireLock('s1', 'w1', 60_000)).toBe(true);
    expect(await store.lockHolder('s1')).toBe('w1');
  });

  it('returns copies, so callers cannot edit the FIFO', async () => {
    const store = new MemoryStateStore();
    await store.enqueue('s1');
    (await store.queued()).push('intruder');
    await store.claim();
    (await store.inFlight()).length = 0;
    expect(await store.queued()).toEqual([]);
    expect(await store.inFlight()).toEqual(['s1']);
  });

  it('keeps the status cache apart from the FIFO', async () => {
    const store = new MemoryStateStore();
    await store.setStatus('s1', StrategyStatus.Queued);
    expect(await store.queued()).toEqual([]);
    expect(await store.claim()).toBeNull();
  });
});
