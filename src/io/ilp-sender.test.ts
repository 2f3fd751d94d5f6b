import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, QmtlError } from '../common/errors.js';
import {
  HttpIlpSender,
  IlpRejectedError,
  IlpUnavailableError,
  TcpIlpSender,
  createIlpSender,
} from './ilp-sender.js';

const servers: (Server | HttpServer)[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function listen<T extends Server | HttpServer>(server: T): Promise<number> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A TCP server collecting what it receives; `drop` closes every connection from the server side. */
async function tcpServer(): Promise<{
  port: number;
  received: () => string;
  drop: () => void;
  ended: Promise<void>;
}> {
  let text = '';
  const sockets: Socket[] = [];
  let onEnd: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (onEnd = resolve));
  const port = await listen(
    createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => (text += chunk.toString('utf8')));
      socket.on('end', () => {
        socket.end();
        onEnd();
      });
    }),
  );
  return { port, received: () => text, drop: () => sockets.forEach((s) => s.end()), ended };
}

describe('TcpIlpSender', () => {
  it('sends lines over one connection and closes it cleanly', async () => {
    const server = await tcpServer();
    const sender = new TcpIlpSender('127.0.0.1', server.port);
    await sender.send('a v=1 1\n');
    await sender.send('a v=2 2\n');
    await sender.close();
    await server.ended;
    expect(server.received()).toBe('a v=1 1\na v=2 2\n');
  });

  it('reports a connection the server dropped, then reconnects', async () => {
    const server = await tcpServer();
    const sender = new TcpIlpSender('127.0.0.1', server.port);
    await sender.send('a v=1 1\n');
    server.drop();
    // Sends succeed until the client has seen the server's end of the connection; then one fails.
    let error: unknown = null;
    for (let i = 0; i < 200 && error === null; i += 1) {
      error = await sender.send('a v=2 2\n').then(
        () => null,
        (e: unknown) => e,
      );
      if (error === null) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(error).toBeInstanceOf(QmtlError);
    expect((error as QmtlError).code).toBe(ErrorCode.Unavailable);
    expect((error as QmtlError).message).toContain('QuestDB closed the ILP/TCP connection');
    await sender.send('a v=3 3\n');
    await sender.close();
    expect(server.received()).toContain('a v=3 3\n');
  });

  it('fails with Unavailable naming the address when nothing listens', async () => {
    const port = await listen(createServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const error = await new TcpIlpSender('127.0.0.1', port).send('a v=1 1\n').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.Unavailable });
    expect((error as Error).message).toMatch(`QuestDB ILP/TCP at 127.0.0.1:${port} failed:`);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});

describe('HttpIlpSender', () => {
  it('POSTs each batch to /write and surfaces the server rejection', async () => {
    const bodies: string[] = [];
    const port = await listen(
      createHttpServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          bodies.push(`${request.method} ${request.url} ${body}`);
          if (body.includes('bad')) {
            response.writeHead(400, { 'content-type': 'application/json' });
            response.end('{"code":"invalid","message":"cast error for line protocol string"}');
          } else {
            response.writeHead(204).end();
          }
        });
      }),
    );
    const sender = createIlpSender(`http://127.0.0.1:${port}/`);
    expect(sender).toBeInstanceOf(HttpIlpSender);
    await sender.send('a v=1 1\n');
    const error = await sender.send('a bad=1 1\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IlpRejectedError);
    expect(error).toMatchObject({
      code: ErrorCode.InvalidArgument,
      status: 400,
      blamesLines: true,
      reason: 'cast error for line protocol string',
    });
    expect((error as Error).message).toBe(
      'QuestDB rejected an ILP batch (HTTP 400): {"code":"invalid","message":"cast error for line protocol string"}',
    );
    expect(bodies).toEqual(['POST /write?precision=n a v=1 1\n', 'POST /write?precision=n a bad=1 1\n']);
  });
});

describe('HttpIlpSender failures', () => {
  /** An HTTP server answering every request with `status` (and `headers`), or never when status is null. */
  const answering = (status: number | null, headers: Record<string, string> = {}) =>
    listen(
      createHttpServer((request, response) => {
        request.resume();
        if (status !== null)
          request.on('end', () => response.writeHead(status, headers).end(`status ${status}`));
      }),
    );

  it("reads a 429's Retry-After, in seconds or as an HTTP-date, for the recorder's next try", async () => {
    const slowDown = new HttpIlpSender(`http://127.0.0.1:${await answering(429, { 'retry-after': '2' })}`);
    await expect(slowDown.send('a v=1 1\n')).rejects.toMatchObject({
      code: ErrorCode.Unavailable,
      retryAfterMs: 2000,
      message: 'QuestDB rejected an ILP batch (HTTP 429): status 429; Retry-After 2000 ms',
    });
    const date = new Date(Date.now() + 60_000).toUTCString();
    const until = new HttpIlpSender(`http://127.0.0.1:${await answering(503, { 'retry-after': date })}`);
    const error = await until.send('a v=1 1\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IlpUnavailableError);
    expect((error as IlpUnavailableError).retryAfterMs).toBeGreaterThan(55_000);
    expect((error as IlpUnavailableError).retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('keeps batches a server that is not serving or asks to come back later (408, 429, 502, 503, 504) could not take, rejects others', async () => {
    for (const status of [408, 429, 502, 503, 504]) {
      const sender = new HttpIlpSender(`http://127.0.0.1:${await answering(status)}`);
      const error = await sender.send('a v=1 1\n').catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(IlpRejectedError);
      expect(error).toMatchObject({
        code: ErrorCode.Unavailable,
        status,
        retryAfterMs: null,
        message: `QuestDB rejected an ILP batch (HTTP ${status}): status ${status}`,
      });
    }
    // Only an answer that blames the lines lets a smaller batch pass (the recorder splits it).
    for (const [status, blamesLines] of [
      [400, true],
      [413, true],
      [401, false],
      [500, false],
    ] as const) {
      const sender = new HttpIlpSender(`http://127.0.0.1:${await answering(status)}`);
      await expect(sender.send('a v=1 1\n')).rejects.toMatchObject({
        code: ErrorCode.InvalidArgument,
        status,
        blamesLines,
        reason: `status ${status}`,
        message: `QuestDB rejected an ILP batch (HTTP ${status}): status ${status}`,
      });
    }
  });

  it('fails a batch the server never answers as a timeout, which the recorder keeps', async () => {
    const sender = new HttpIlpSender(`http://127.0.0.1:${await answering(null)}`, 200);
    const started = Date.now();
    await expect(sender.send('a v=1 1\n')).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: expect.stringMatching(/did not answer within 200 ms$/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    servers.splice(0).forEach((server) => (server as HttpServer).closeAllConnections());
  });
});

describe('createIlpSender', () => {
  it('picks the transport from the scheme and rejects others', () => {
    expect(createIlpSender('tcp://127.0.0.1:9009')).toMatchObject({ host: '127.0.0.1', port: 9009 });
    expect(createIlpSender('tcp://localhost')).toMatchObject({ port: 9009 });
    expect(() => createIlpSender('udp://127.0.0.1:9009')).toThrow(
      'ILP address "udp://127.0.0.1:9009" must start with tcp://, http:// or https://',
    );
    expect(() => createIlpSender('127.0.0.1:9009 x')).toThrow(/is not a URL|must start/);
  });
});
