import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { OrphanQueue } from './node-record.js';

/** Where GC archives a queue before dropping it. */
export interface QueueArchive {
  /** Archives the queue; returns the object's URI. */
  archive(queue: OrphanQueue, now: number): Promise<string>;
}

/** The subset of an S3-compatible client the archive needs (`PutObject`). */
export interface ObjectStore {
  putObject(request: {
    Bucket: string;
    Key: string;
    Body: string | Uint8Array;
    ContentType?: string;
  }): Promise<unknown>;
}

/**
 * Archives a queue as a JSON object `{queue}-{YYYYMMDDTHHMMSS}.json` (its record and when it
 * was archived) in any S3-compatible {@link ObjectStore}.
 */
export class ObjectStoreArchive implements QueueArchive {
  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
  ) {}

  async archive(queue: OrphanQueue, now: number): Promise<string> {
    const stamp = new Date(now).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const key = `${queue.topic}-${stamp}.json`;
    await this.store.putObject({
      Bucket: this.bucket,
      Key: key,
      Body: JSON.stringify({ ...queue, archivedAt: now }),
      ContentType: 'application/json',
    });
    return `s3://${this.bucket}/${key}`;
  }
}

/**
 * An {@link ObjectStore} on the local filesystem: bucket `b`, key `k` → `{root}/b/k`. The
 * embedded mode's archive; keys cannot escape the root.
 */
export class FileObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async putObject(request: { Bucket: string; Key: string; Body: string | Uint8Array }): Promise<void> {
    const path = resolve(join(this.root, request.Bucket, request.Key));
    if (!path.startsWith(this.root + sep)) {
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `archive key ${quote(request.Key)} escapes the archive root`,
      );
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, request.Body);
  }
}
