import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/**
 * Takes the lock file `<journal>.lock` (holding this process's pid) so that one DAG Manager
 * process serves a journal: a second process appending to it would lose its records at the
 * first's next compaction. A lock left by a process that is gone (killed) is taken over; one held
 * by a live process is an error naming it. Returns the release, which removes the file.
 */
export function lockJournal(journal: string): () => void {
  const lockPath = `${journal}.lock`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => release(lockPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error;
    }
    const holder = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isSafeInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new QmtlError(
        ErrorCode.InvalidConfig,
        `DAG Manager journal ${quote(journal)} is in use by process ${holder} (lock file ${quote(lockPath)}): one DAG Manager serves one journal; if that process is not a DAG Manager, delete the lock file`,
      );
    }
    unlinkSync(lockPath);
  }
}

function release(lockPath: string): void {
  try {
    if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath);
  } catch {
    // Already gone: nothing to release.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
