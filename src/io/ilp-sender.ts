import { connect, type Socket } from 'node:net';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { describeFetchFailure } from '../common/fetch-failure.js';
import { retryAfterMs } from '../common/retry.js';

/** Ships batches of ILP lines to QuestDB; the port {@link QuestDBRecorder} writes through. */
export interface IlpSender {
  /**
   * Sends complete lines (each ending in `\n`); resolves once they are handed to the server.
   * Rejects with an {@link IlpRejectedError} that `blamesLines` when the server refused the lines
   * (the recorder then sends smaller batches), with `QMTL_UNAVAILABLE`/`QMTL_TIMEOUT` when it
   * could not be reached or asked to come back later (the recorder keeps the batch for a retry,
   * after an {@link IlpUnavailableError}'s `retryAfterMs` when it gives one).
   */
  send(lines: string): Promise<void>;
  /** Closes the connection; rejects when the server dropped it after the last send. */
  close(): Promise<void>;
}

/**
 * ILP over TCP (QuestDB port 9009): one long-lived connection, reopened after a failure.
 * QuestDB answers nothing on this transport; when it rejects a line it closes the connection, which
 * the next `send` or `close` reports. Prefer {@link HttpIlpSender} when every batch must be confirmed.
 */
export class TcpIlpSender implements IlpSender {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private dropped: Error | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  async send(lines: string): Promise<void> {
    this.throwIfDropped();
    const socket = await this.open();
    await new Promise<void>((resolve, reject) => {
      socket.write(lines, 'utf8', (error) => (error ? reject(this.failure(error)) : resolve()));
    });
  }

  async close(): Promise<void> {
    const socket = this.socket ?? (await this.connecting?.catch(() => undefined));
    this.socket = undefined;
    this.connecting = undefined;
    if (socket !== undefined && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
      });
    }
    this.throwIfDropped();
  }

  private open(): Promise<Socket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      socket.once('connect', () => {
        socket.off('error', reject);
        this.socket = socket;
        this.connecting = undefined;
        this.watch(socket);
        resolve(socket);
      });
      socket.once('error', (error) => {
        this.connecting = undefined;
        reject(this.failure(error));
      });
    });
    return this.connecting;
  }

  /** Remembers a drop by the server (an `end` we did not ask for) or a socket error. */
  private watch(socket: Socket): void {
    socket.on('error', (error) => {
      this.dropped ??= this.failure(error);
    });
    socket.on('end', () => {
      if (this.socket === socket) {
        this.dropped ??= new QmtlError(
          ErrorCode.Unavailable,
          `QuestDB closed the ILP/TCP connection to ${this.host}:${this.port}; it does so when it rejects a line (see the server log), and lines sent since may be lost`,
        );
        this.socket = undefined;
      }
      socket.end();
    });
  }

  private throwIfDropped(): void {
    const dropped = this.dropped;
    if (dropped === undefined) return;
    this.dropped = undefined;
    throw dropped;
  }

  private failure(error: Error): QmtlError {
    return new QmtlError(
      ErrorCode.Unavailable,
      `QuestDB ILP/TCP at ${this.host}:${this.port} failed: ${error.message || (error as NodeJS.ErrnoException).code}`,
      { cause: error },
    );
  }
}

/**
 * HTTP statuses that mean "not now": a server (or proxy) that is not serving (502, 503, 504), timed
 * the request out (408) or asks the client to slow down (429). The batch is kept and sent again.
 */
const RETRY_LATER_STATUSES = new Set([408, 429, 502, 503, 504]);

/** HTTP statuses that blame the lines sent (400: a line QuestDB cannot parse or store in its column). */
const LINE_STATUSES = new Set([400, 413, 422]);

/**
 * An ILP/HTTP batch QuestDB (or a proxy in front of it) did not take now but may later (HTTP 408,
 * 429, 502, 503, 504): `QMTL_UNAVAILABLE`, so the recorder keeps the batch. `retryAfterMs` is the
 * answer's `Retry-After` (delay-seconds or an HTTP-date) in ms, null when absent or unreadable.
 */
export class IlpUnavailableError extends QmtlError {
  constructor(
    readonly status: number,
    answer: string,
    readonly retryAfterMs: number | null,
  ) {
    const after = retryAfterMs === null ? '' : `; Retry-After ${retryAfterMs} ms`;
    super(ErrorCode.Unavailable, `QuestDB rejected an ILP batch (HTTP ${status}): ${answer}${after}`);
  }
}

/**
 * QuestDB's answer that it did not write an ILP/HTTP batch (any status but 2xx and those of
 * {@link IlpUnavailableError}).
 * QuestDB applies a batch whole or not at all; sent again, the same batch would fail the same way.
 * When {@link blamesLines}, the lines themselves are at fault (a string for a DOUBLE column, a
 * line it cannot parse), so the batch without them can pass; otherwise (401, 404, 500, …) no
 * smaller batch would do better.
 */
export class IlpRejectedError extends QmtlError {
  /** QuestDB's reason: the `message` of its JSON answer, else the answer's text. */
  readonly reason: string;
  readonly blamesLines: boolean;

  constructor(
    readonly status: number,
    answer: string,
  ) {
    super(ErrorCode.InvalidArgument, `QuestDB rejected an ILP batch (HTTP ${status}): ${answer}`);
    this.reason = messageOf(answer);
    this.blamesLines = LINE_STATUSES.has(status);
  }
}

/** The `message` of QuestDB's JSON error answer, else the answer itself. */
function messageOf(answer: string): string {
  try {
    const parsed: unknown = JSON.parse(answer);
    const message = (parsed as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : answer;
  } catch {
    return answer;
  }
}

/**
 * ILP over HTTP (`POST /write`, QuestDB port 9000): one request per batch, each confirmed or
 * rejected with QuestDB's reason ({@link IlpRejectedError}), and a rejected batch is not written at all.
 */
export class HttpIlpSender implements IlpSender {
  private readonly url: string;

  /** @param timeoutMs how long one batch may take before it fails as `QMTL_TIMEOUT` (and is kept). */
  constructor(
    baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {
    this.url = `${baseUrl.replace(/\/+$/, '')}/write?precision=n`;
  }

  async send(lines: string): Promise<void> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: lines,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = response.ok ? '' : (await response.text()).trim();
      if (response.ok) await response.body?.cancel();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new QmtlError(
        timedOut ? ErrorCode.Timeout : ErrorCode.Unavailable,
        timedOut
          ? `QuestDB ILP/HTTP at ${this.url} did not answer within ${this.timeoutMs} ms`
          : `QuestDB ILP/HTTP is unreachable at ${this.url}: ${describeFetchFailure(error as Error)}`,
        { cause: error },
      );
    }
    if (response.ok) return;
    // QuestDB (or a proxy) is not serving, or asks to come back later: the batch is kept and sent again.
    if (RETRY_LATER_STATUSES.has(response.status)) {
      throw new IlpUnavailableError(
        response.status,
        text || response.statusText,
        retryAfterMs(response.headers.get('retry-after')),
      );
    }
    throw new IlpRejectedError(response.status, text || response.statusText);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A sender for an ILP address: `tcp://host:port` (QuestDB's 9009) or `http(s)://host:port` (9000);
 * `timeoutMs` bounds each HTTP batch.
 * @example createIlpSender('tcp://127.0.0.1:9009')
 */
export function createIlpSender(address: string, options: { readonly timeoutMs?: number } = {}): IlpSender {
  let url: URL;
  try {
    url = new URL(address);
  } catch (error) {
    throw new QmtlError(ErrorCode.InvalidArgument, `ILP address ${quote(address)} is not a URL`, {
      cause: error,
    });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  switch (url.protocol) {
    case 'tcp:':
      return new TcpIlpSender(host, Number(url.port || 9009));
    case 'http:':
    case 'https:':
      return new HttpIlpSender(url.origin, options.timeoutMs);
    default:
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `ILP address ${quote(address)} must start with tcp://, http:// or https://`,
      );
  }
}
