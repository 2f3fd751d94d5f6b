import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Group commit for an append-only file: {@link flushed} resolves once everything written before
 * the call is on disk. Calls made while a sync runs share the next one, so a burst of writes
 * costs one `fdatasync` per round, not one each, and the event loop never waits for the disk.
 *
 * @example
 * const sync = new JournalSync(() => datasyncFile('./dagmanager.journal'));
 * appendFileSync('./dagmanager.journal', line);
 * await sync.flushed(); // the line survives a power loss
 */
export class JournalSync {
  /** The sync that has not started yet: it covers every write made before it starts. */
  #scheduled: Promise<void> | null = null;
  #running: Promise<void> = Promise.resolve();

  constructor(private readonly sync: () => Promise<void>) {}

  /** Resolves once the writes made so far are on disk; rejects when that sync failed. */
  flushed(): Promise<void> {
    this.#scheduled ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#scheduled = null;
        return (this.#running = this.sync());
      });
    return this.#scheduled;
  }

  /** Resolves once no sync is scheduled or running (failures are the writers' to report). */
  async idle(): Promise<void> {
    while (this.#scheduled !== null) await this.#scheduled.catch(() => undefined);
    await this.#running.catch(() => undefined);
  }
}

/** `fdatasync` of the file at `path` (its data and size; the file's name is synced separately). */
export async function datasyncFile(path: string): Promise<void> {
  const file = await open(path, 'r');
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
}

/**
 * Syncs the directory holding `path`, so a file renamed or created there keeps its name after a
 * power loss.
 */
export function syncDirectoryOf(path: string): void {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
