import { describe, expect, it, vi } from 'vitest';
import { logger } from '../common/logger.js';
import { ndjsonLine, QueueWatchHub, queueWatchKey } from './queue-watch-hub.js';

/** Subscribes and records every list the listener receives. */
function watch(hub: QueueWatchHub, tags: string[], interval = 60, matchMode: 'any' | 'all' = 'any') {
  const received: (readonly string[])[] = [];
  const stop = hub.subscribe(tags, interval, matchMode, (queues) => received.push(queues));
  return { received, stop };
}

describe('queueWatchKey', () => {
  it('sorts and deduplicates the tags, then appends interval and match mode', () => {
    expect(queueWatchKey(['b', 'a', 'b'], 60, 'any')).toBe('a,b:60:any');
    expect(queueWatchKey([], 5, 'all')).toBe(':5:all');
  });
});

describe('ndjsonLine', () => {
  it('is one JSON object with the queues and a newline', () => {
    expect(ndjsonLine(['q1', 'q2'])).toBe('{"queues":["q1","q2"]}\n');
  });
});

describe('QueueWatchHub', () => {
  it('treats tags in any order as the same query', () => {
    const hub = new QueueWatchHub();
    const watcher = watch(hub, ['b', 'a']);
    hub.broadcast(['a', 'b'], 60, 'any', ['q1']);
    expect(watcher.received).toEqual([['q1']]);
  });

  it('keeps interval and match mode apart', () => {
    const hub = new QueueWatchHub();
    const any60 = watch(hub, ['a'], 60, 'any');
    const all60 = watch(hub, ['a'], 60, 'all');
    const any300 = watch(hub, ['a'], 300, 'any');
    hub.broadcast(['a'], 60, 'all', ['q1']);
    expect([any60.received, all60.received, any300.received]).toEqual([[], [['q1']], []]);
  });

  it('gives a new subscriber the cached list of its key first', () => {
    const hub = new QueueWatchHub();
    hub.broadcast(['a'], 60, 'any', ['q1', 'q2']);
    expect(watch(hub, ['a']).received).toEqual([['q1', 'q2']]);
    expect(watch(hub, ['other']).received).toEqual([]);
  });

  it('broadcasts only when the list changed, ignoring order', () => {
    const hub = new QueueWatchHub();
    const watcher = watch(hub, ['a']);
    expect(hub.broadcast(['a'], 60, 'any', ['q1', 'q2'])).toBe(true);
    expect(hub.broadcast(['a'], 60, 'any', ['q1', 'q2'])).toBe(false);
    expect(hub.broadcast(['a'], 60, 'any', ['q2', 'q1'])).toBe(false);
    expect(hub.broadcast(['a'], 60, 'any', ['q1'])).toBe(true);
    expect(hub.broadcast(['a'], 60, 'any', [])).toBe(true);
    expect(watcher.received).toEqual([['q1', 'q2'], ['q1'], []]);
  });

  it('stops calling a listener once unsubscribed, and the others keep receiving', () => {
    const hub = new QueueWatchHub();
    const first = watch(hub, ['a']);
    const second = watch(hub, ['a']);
    expect(hub.listenerCount).toBe(2);
    first.stop();
    first.stop();
    hub.broadcast(['a'], 60, 'any', ['q1']);
    expect(first.received).toEqual([]);
    expect(second.received).toEqual([['q1']]);
    expect(hub.listenerCount).toBe(1);
  });

  it('counts the same function subscribed twice as two listeners', () => {
    const hub = new QueueWatchHub();
    const received: (readonly string[])[] = [];
    const listener = (queues: readonly string[]): void => void received.push(queues);
    const stopFirst = hub.subscribe(['a'], 60, 'any', listener);
    hub.subscribe(['a'], 60, 'any', listener);
    stopFirst();
    hub.broadcast(['a'], 60, 'any', ['q1']);
    expect(received).toEqual([['q1']]);
  });

  it('keeps the last list of a key nobody watches any more', () => {
    const hub = new QueueWatchHub();
    watch(hub, ['a']).stop();
    hub.broadcast(['a'], 60, 'any', ['q1']);
    expect(hub.latestQueues(['a'], 60, 'any')).toEqual(['q1']);
    expect(watch(hub, ['a']).received).toEqual([['q1']]);
  });

  it('keeps at most maxIdleKeys unwatched keys, evicting the least recently updated', () => {
    const hub = new QueueWatchHub({ maxIdleKeys: 2 });
    const watched = watch(hub, ['w']);
    hub.broadcast(['w'], 60, 'any', ['qw']);
    for (const tag of ['a', 'b', 'c']) hub.broadcast([tag], 60, 'any', [`q${tag}`]);
    hub.broadcast(['b'], 60, 'any', ['qb2']);
    hub.broadcast(['d'], 60, 'any', ['qd']);
    expect(hub.cachedKeyCount).toBe(3);
    expect(hub.latestQueues(['a'], 60, 'any')).toBeNull();
    expect(hub.latestQueues(['c'], 60, 'any')).toBeNull();
    expect(hub.latestQueues(['b'], 60, 'any')).toEqual(['qb2']);
    expect(hub.latestQueues(['w'], 60, 'any')).toEqual(['qw']);
    watched.stop();
    expect(hub.latestQueues(['b'], 60, 'any')).toBeNull();
    expect(hub.latestQueues(['w'], 60, 'any')).toEqual(['qw']);
  });

  it('keeps notifying the other listeners when one throws, and logs the failure', () => {
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const hub = new QueueWatchHub();
    hub.subscribe(['a'], 60, 'any', () => {
      throw new Error('closed response');
    });
    const healthy = watch(hub, ['a']);
    hub.broadcast(['a'], 60, 'any', ['q1']);
    expect(healthy.received).toEqual([['q1']]);
    expect(logged).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'a:60:any' }),
      'queue watch listener failed',
    );
    logged.mockRestore();
  });

  it('hands listeners a frozen copy, unaffected by later changes to the caller array', () => {
    const hub = new QueueWatchHub();
    const watcher = watch(hub, ['a']);
    const queues = ['q1'];
    hub.broadcast(['a'], 60, 'any', queues);
    queues.push('q2');
    expect(watcher.received[0]).toEqual(['q1']);
    expect(Object.isFrozen(watcher.received[0])).toBe(true);
  });
});
