import { connect, type Socket } from 'node:net';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';

/** Ships batches of ILP lines to QuestDB; the port {@link QuestDBRecorder} writes through. */
export interface IlpSender {
  /** Sends complete lines (each ending in `\n`); resolves once they are handed to the server. */
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
 * ILP over HTTP (`POST /write`, QuestDB port 9000): one request per batch, each confirmed or
 * rejected with QuestDB's reason, and a rejected batch is not written at all.
 */
export class HttpIlpSender implements IlpSender {
  private readonly url: string;

  constructor(baseUrl: string) {
    this.url = `${baseUrl.replace(/\/+$/, '')}/write?precision=n`;
  }

  async send(lines: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: lines,
      });
    } catch (error) {
      throw new QmtlError(
        ErrorCode.Unavailable,
        `QuestDB ILP/HTTP is unreachable at ${this.url}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const text = (await response.text()).trim();
    throw new QmtlError(
      response.status < 500 ? ErrorCode.InvalidArgument : ErrorCode.Unavailable,
      `QuestDB rejected an ILP batch (HTTP ${response.status}): ${text || response.statusText}`,
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A sender for an ILP address: `tcp://host:port` (QuestDB's 9009) or `http(s)://host:port` (9000).
 * @example createIlpSender('tcp://127.0.0.1:9009')
 */
export function createIlpSender(address: string): IlpSender {
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
      return new HttpIlpSender(url.origin);
    default:
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `ILP address ${quote(address)} must start with tcp://, http:// or https://`,
      );
  }
}
