import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { datasyncFile, JournalSync, syncDirectoryOf } from './journal-sync.js';
import type { GraphOperation } from './memory-graph.js';

/** Node records per journal line of a snapshot: a line is serialised between two writes. */
const RECORDS_PER_LINE = 500;
/** Text gathered before one asynchronous write of a compaction. */
const WRITE_BATCH_CHARS = 1 << 20;
/** Asynchronous passes over the lines appended meanwhile before the final, synchronous one. */
const TAIL_PASSES = 3;

/**
 * The memory repository's file: one JSON {@link GraphOperation} per line, appended
 * synchronously before the operation is applied; {@link synced} resolves once it is on disk
 * (group commit: one `fdatasync` covers every line appended before it starts). It is rewritten
 * as a snapshot of the graph (compacted) once the lines appended since the last snapshot are at
 * least `compactAfterBytes` and as many bytes as that snapshot, so the file stays within a small
 * multiple of the DAG's size.
 *
 * While serving, compaction runs in the background: the snapshot is taken at once, written to
 * `<path>.compact` a batch at a time (the event loop serves requests between batches), then the
 * lines appended meanwhile, which keep going to the journal as well, are added; the file is
 * synced and renamed over the journal in one synchronous step, so no append falls between, and
 * the directory is synced so that the rename survives a power loss. A crash at any point leaves
 * the journal complete; a failed compaction (disk full, say) is logged, removes its file and is
 * tried again after as many bytes more.
 */
export class GraphJournal {
  private snapshotBytes = 0;
  private appendedBytes = 0;
  /** Lines appended since a running background compaction took its snapshot; null when none runs. */
  private tail: string[] | null = null;
  private compacting: Promise<void> | null = null;
  private readonly durable: JournalSync;

  /** @param sync makes the file's appended lines durable (default `fdatasync`; tests replace it). */
  constructor(
    readonly path: string,
    private readonly snapshot: () => GraphOperation[],
    private readonly compactAfterBytes: number,
    sync: (path: string) => Promise<void> = datasyncFile,
  ) {
    this.durable = new JournalSync(() => sync(this.path));
  }

  /**
   * Applies every operation of the journal at `path` (if it exists) with `apply`. A torn last
   * line (a crash mid-append) is dropped. @throws QmtlError `QMTL_INVALID_CONFIG` naming the file
   * and line when the file cannot be read or a line is corrupt.
   */
  static replay(path: string, apply: (operation: GraphOperation) => void): void {
    if (!existsSync(path)) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new QmtlError(
        ErrorCode.InvalidConfig,
        `DAG Manager journal ${quote(path)} (memory_repo_path) cannot be read: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === '') return;
      let operation: GraphOperation;
      try {
        operation = JSON.parse(line) as GraphOperation;
      } catch (error) {
        if (lines.slice(index + 1).every((l) => l.trim() === '')) return;
        throw new QmtlError(
          ErrorCode.InvalidConfig,
          `DAG Manager journal ${quote(path)} is corrupt at line ${index + 1}`,
          { cause: error },
        );
      }
      try {
        apply(operation);
      } catch (error) {
        throw new QmtlError(
          ErrorCode.InvalidConfig,
          `DAG Manager journal ${quote(path)} is corrupt at line ${index + 1}: ${(error as Error).message}`,
          { cause: error },
        );
      }
    });
  }

  /** Appends one operation (before it is applied to the graph). */
  append(operation: GraphOperation): void {
    const line = `${JSON.stringify(operation)}\n`;
    appendFileSync(this.path, line);
    this.tail?.push(line);
    this.appendedBytes += Buffer.byteLength(line);
  }

  /**
   * Resolves once every line appended so far is on disk.
   * @throws QmtlError `QMTL_UNAVAILABLE` naming the journal when the disk refused the sync (the
   * lines stay in the file and the next sync tries again).
   */
  async synced(): Promise<void> {
    try {
      await this.durable.flushed();
    } catch (error) {
      throw new QmtlError(
        ErrorCode.Unavailable,
        `DAG Manager journal ${quote(this.path)} could not be synced to disk: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Starts a background compaction when the journal has grown enough. Called after an appended
   * operation is applied, since the snapshot is taken at once and must include it.
   */
  compactIfDue(): void {
    if (
      this.compacting === null &&
      this.appendedBytes >= Math.max(this.compactAfterBytes, this.snapshotBytes)
    )
      this.compacting = this.compactInBackground().finally(() => (this.compacting = null));
  }

  /** Rewrites the journal as a snapshot now, synchronously (at open, before serving). */
  compactNow(): void {
    const text = [...snapshotLines(this.snapshot())].join('');
    const temporary = `${this.path}.compact`;
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
    syncDirectoryOf(this.path);
    this.snapshotBytes = Buffer.byteLength(text);
    this.appendedBytes = 0;
  }

  /** Resolves once no background compaction and no sync is running. */
  async idle(): Promise<void> {
    while (this.compacting !== null) await this.compacting;
    await this.durable.idle();
  }

  private async compactInBackground(): Promise<void> {
    const operations = this.snapshot();
    this.tail = [];
    const temporary = `${this.path}.compact`;
    let file: FileHandle | null = null;
    try {
      file = await open(temporary, 'w');
      let bytes = 0;
      let batch = '';
      for (const line of snapshotLines(operations)) {
        batch += line;
        if (batch.length < WRITE_BATCH_CHARS) continue;
        bytes += await writeText(file, batch);
        batch = '';
      }
      for (let pass = 0; pass < TAIL_PASSES && batch.length + this.tail.length > 0; pass++) {
        bytes += await writeText(file, batch + this.tail.splice(0).join(''));
        batch = '';
      }
      await file.sync();
      // One synchronous step from here to the rename: no append can fall between.
      const rest = Buffer.from(this.tail.join(''));
      writeSync(file.fd, rest);
      fsyncSync(file.fd);
      renameSync(temporary, this.path);
      syncDirectoryOf(this.path);
      this.snapshotBytes = bytes + rest.length;
      this.appendedBytes = 0;
    } catch (error) {
      logger.warn(
        { err: error, journal: this.path },
        'DAG Manager journal compaction failed; the journal is intact and compaction is tried again later',
      );
      removeFile(temporary);
      this.appendedBytes = 0;
    } finally {
      this.tail = null;
      await file?.close();
    }
  }
}

/** The snapshot as journal lines, a node-records operation split into lines of a few hundred. */
function* snapshotLines(operations: readonly GraphOperation[]): Generator<string> {
  for (const operation of operations) {
    if (
      operation.op !== 'nodes' ||
      operation.sentinel !== undefined ||
      operation.records.length <= RECORDS_PER_LINE
    ) {
      yield `${JSON.stringify(operation)}\n`;
      continue;
    }
    for (let i = 0; i < operation.records.length; i += RECORDS_PER_LINE) {
      const records = operation.records.slice(i, i + RECORDS_PER_LINE);
      yield `${JSON.stringify({ op: 'nodes', records })}\n`;
    }
  }
}

/** Writes all of `text` at the file's position; returns the bytes written. */
async function writeText(file: FileHandle, text: string): Promise<number> {
  const bytes = Buffer.from(text);
  await file.writeFile(bytes);
  return bytes.length;
}

/** Removes a compaction's file if it is one (best effort: the next compaction truncates it). */
function removeFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Not a file (or not removable): nothing of the journal's is lost.
  }
}
