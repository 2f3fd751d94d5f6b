import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/** One open Diff stream waiting for acknowledgements. */
interface Waiter {
  lastAck: number;
  /** The last chunk the stream was allowed to send. */
  sent: number;
  wake: (() => void) | null;
}

/**
 * Flow control of Diff streams (SPEC §2.7): the server keeps at most `window` un-acknowledged
 * chunks in flight per stream and waits for `AckChunk` before sending more. A client that stops
 * acknowledging gets its stream ended with `QMTL_TIMEOUT` after `ackTimeoutMs`; a cancelled
 * stream stops waiting at once. Nothing is left pending either way.
 *
 * An ack names the chunk it acknowledges (with every earlier one); an ack with `chunk_id` 0, as
 * the original's clients send (its server ignored the id), acknowledges the oldest chunk sent and
 * not yet acknowledged.
 */
export class AckWindow {
  readonly window: number;
  readonly ackTimeoutMs: number;
  private readonly streams = new Map<string, Set<Waiter>>();

  constructor(options: { window?: number; ackTimeoutMs?: number } = {}) {
    this.window = options.window ?? 10;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
  }

  /** Streams currently open (for tests and status). */
  get openStreams(): number {
    let n = 0;
    for (const set of this.streams.values()) n += set.size;
    return n;
  }

  /**
   * Opens a stream for `sentinelId` whose chunks up to `resumeAfter` are already acknowledged.
   * Returns `beforeSend(chunkId, signal)` — resolves once sending that chunk keeps the window —
   * and `close()`, which must be called when the stream ends.
   */
  open(
    sentinelId: string,
    resumeAfter = 0,
  ): { beforeSend: (chunkId: number, signal: AbortSignal) => Promise<void>; close: () => void } {
    const waiter: Waiter = { lastAck: resumeAfter, sent: resumeAfter, wake: null };
    let set = this.streams.get(sentinelId);
    if (set === undefined) this.streams.set(sentinelId, (set = new Set()));
    set.add(waiter);
    const beforeSend = async (chunkId: number, signal: AbortSignal): Promise<void> => {
      while (chunkId - waiter.lastAck > this.window) await this.wait(sentinelId, waiter, chunkId, signal);
      waiter.sent = Math.max(waiter.sent, chunkId);
    };
    const close = (): void => {
      waiter.wake?.();
      set.delete(waiter);
      if (set.size === 0) this.streams.delete(sentinelId);
    };
    return { beforeSend, close };
  }

  /**
   * Records the client's ack of `chunkId` (0: of the oldest chunk not yet acknowledged) on every
   * open stream of `sentinelId`; false if none is open.
   */
  ack(sentinelId: string, chunkId: number): boolean {
    const set = this.streams.get(sentinelId);
    if (set === undefined) return false;
    for (const waiter of set) {
      const acknowledged = chunkId === 0 ? Math.min(waiter.lastAck + 1, waiter.sent) : chunkId;
      waiter.lastAck = Math.max(waiter.lastAck, acknowledged);
      waiter.wake?.();
    }
    return true;
  }

  private wait(sentinelId: string, waiter: Waiter, chunkId: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        waiter.wake = null;
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void =>
        finish(new QmtlError(ErrorCode.Timeout, `diff stream for ${quote(sentinelId)} was cancelled`));
      const timer = setTimeout(
        () =>
          finish(
            new QmtlError(
              ErrorCode.Timeout,
              `diff stream for ${quote(sentinelId)}: chunk ${chunkId - this.window} not acknowledged within ${this.ackTimeoutMs} ms`,
            ),
          ),
        this.ackTimeoutMs,
      );
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.wake = () => finish();
    });
  }
}
