import { describe, expect, it } from 'vitest';
import { JournalSync } from './journal-sync.js';

/** A sync function whose calls the test completes one by one. */
function controlledSync(): {
  sync: () => Promise<void>;
  calls: number;
  finish: (error?: Error) => void;
} {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const control = {
    calls: 0,
    sync: () =>
      new Promise<void>((resolve, reject) => {
        control.calls += 1;
        pending.push({ resolve, reject });
      }),
    finish: (error?: Error) => {
      const next = pending.shift()!;
      if (error === undefined) next.resolve();
      else next.reject(error);
    },
  };
  return control;
}

const settled = async (promise: Promise<unknown>): Promise<string> => {
  const state = await Promise.race([
    promise.then(
      () => 'resolved',
      () => 'rejected',
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve('pending'), 5)),
  ]);
  return state;
};

describe('JournalSync', () => {
  it('resolves a writer only once a sync that started after its write has finished', async () => {
    const control = controlledSync();
    const journal = new JournalSync(control.sync);
    const first = journal.flushed();
    await settled(first);
    expect(control.calls).toBe(1);
    // Written while the first sync runs: that sync may not cover it.
    const second = journal.flushed();
    control.finish();
    expect(await settled(first)).toBe('resolved');
    expect(await settled(second)).toBe('pending');
    expect(control.calls).toBe(2);
    control.finish();
    expect(await settled(second)).toBe('resolved');
  });

  it('covers every write made while a sync runs with one next sync (group commit)', async () => {
    const control = controlledSync();
    const journal = new JournalSync(control.sync);
    const first = journal.flushed();
    await settled(first);
    const waiting = Array.from({ length: 50 }, () => journal.flushed());
    control.finish();
    await settled(first);
    control.finish();
    expect(await Promise.all(waiting.map(settled))).toEqual(Array(50).fill('resolved'));
    expect(control.calls).toBe(2);
  });

  it('rejects the writers of a failed sync, and syncs again for the next ones', async () => {
    const control = controlledSync();
    const journal = new JournalSync(control.sync);
    const failed = journal.flushed();
    await settled(failed);
    control.finish(new Error('EIO: i/o error, fdatasync'));
    await expect(failed).rejects.toThrow('EIO');
    const next = journal.flushed();
    await settled(next);
    control.finish();
    await expect(next).resolves.toBeUndefined();
    expect(control.calls).toBe(2);
  });

  it('is idle once nothing is scheduled or running, whatever the outcome', async () => {
    const control = controlledSync();
    const journal = new JournalSync(control.sync);
    const write = journal.flushed().catch(() => undefined);
    const idle = journal.idle();
    expect(await settled(idle)).toBe('pending');
    control.finish(new Error('EIO'));
    expect(await settled(idle)).toBe('resolved');
    await write;
  });
});
