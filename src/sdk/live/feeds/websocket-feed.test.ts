import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ErrorCode } from '../../../common/errors.js';
import { logger } from '../../../common/logger.js';
import type { HistoryRow } from '../../history/protocols.js';
import type { LiveFeedHandle } from '../live-feed.js';
import { bars, record, T0, testLiveFeedContract, until } from './live-feed.contract.test-kit.js';
import { WebSocketFeed } from './websocket-feed.js';

const servers: WebSocketServer[] = [];

/** A `ws` server on 127.0.0.1:0; `onConnection` scripts each connection (n counts from 1). */
async function server(
  onConnection: (socket: WebSocket, n: number) => void,
): Promise<{ url: string; received: unknown[]; connections: WebSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await once(wss, 'listening');
  const received: unknown[] = [];
  const connections: WebSocket[] = [];
  wss.on('connection', (socket) => {
    connections.push(socket);
    socket.on('message', (data: Buffer) => received.push(JSON.parse(data.toString('utf8'))));
    onConnection(socket, connections.length);
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, received, connections };
}

function closeServers(): void {
  for (const wss of servers.splice(0)) {
    for (const socket of wss.clients) socket.terminate();
    wss.close();
  }
}

const sendRows = (socket: WebSocket, rows: readonly HistoryRow[]): void => {
  for (const row of rows) socket.send(JSON.stringify(row));
};
const asRow = (message: unknown): HistoryRow => message as HistoryRow;

testLiveFeedContract('WebSocketFeed', () =>
  Promise.resolve({
    feed: async (rows) => {
      const { url } = await server((socket) => sendRows(socket, rows));
      return new WebSocketFeed({ url, parse: asRow });
    },
    cleanup: () => Promise.resolve(closeServers()),
  }),
);

describe('WebSocketFeed', () => {
  const handles: LiveFeedHandle[] = [];
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    closeServers();
    vi.restoreAllMocks();
  });

  /** Follows `url`, giving up after 2 failed reconnects; resolves with the errors once it gave up. */
  const untilGivenUp = async (url: string): Promise<Error[]> => {
    const feed = new WebSocketFeed({
      url,
      parse: asRow,
      reconnect: { initialMs: 2, maxMs: 4, maxAttempts: 2 },
    });
    const { errors, handle } = await record(feed, T0, undefined, handles);
    await handle.done;
    return errors;
  };

  it('sends the subscription, delivers parsed rows and ignores messages parse returns null for', async () => {
    const { url, received } = await server((socket) => {
      socket.on('message', () => {
        socket.send(JSON.stringify({ type: 'heartbeat' }));
        socket.send(JSON.stringify({ type: 'candles', data: [bars(1, 1)[0], bars(1, 0)[0]] }));
        socket.send('not json');
        socket.send(JSON.stringify({ type: 'candles', data: bars(1, 2) }));
      });
    });
    const texts: unknown[] = [];
    const parse = (message: unknown): readonly HistoryRow[] | null => {
      if (typeof message === 'string') texts.push(message);
      const { type, data } = message as { type?: string; data?: HistoryRow[] };
      return type === 'candles' && data !== undefined ? data : null;
    };
    const feed = new WebSocketFeed({ url, parse, subscribeMessage: { op: 'subscribe', channel: 'candles' } });
    const { rows } = await record(feed, T0, undefined, handles);
    await until(() => rows.length === 3);
    expect(received).toEqual([{ op: 'subscribe', channel: 'candles' }]);
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2]);
    expect(texts).toEqual(['not json']);
  });

  it('reconnects after the server drops it and delivers each bar once', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const { url, received } = await server((socket, n) => {
      socket.once('message', () => {
        if (n > 1) return sendRows(socket, bars(4, 1)); // replays bars 1 and 2
        sendRows(socket, bars(3));
        socket.send('{}', () => socket.terminate()); // once the rows are on the wire
      });
    });
    const feed = new WebSocketFeed({
      url,
      parse: (message) => ('ts' in (message as object) ? asRow(message) : null),
      subscribeMessage: 'hello',
      reconnect: { initialMs: 5, maxMs: 20 },
    });
    const { rows, errors } = await record(feed, T0, undefined, handles);
    await until(() => rows.length >= 5 && received.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(rows.map((row) => row.close)).toEqual([0, 1, 2, 3, 4]);
    expect(received).toEqual(['hello', 'hello']);
    expect(errors).toEqual([]);
    expect(warned).toHaveBeenCalledWith(expect.objectContaining({ url }), 'WebSocketFeed connection closed');
  });

  it('skips a message whose parse throws, and goes on', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const { url } = await server((socket) => sendRows(socket, bars(3)));
    const parse = (message: unknown): HistoryRow => {
      if ((message as HistoryRow)['close'] === 1) throw new Error('bad candle');
      return message as HistoryRow;
    };
    const { rows } = await record(new WebSocketFeed({ url, parse }), T0, undefined, handles);
    await until(() => rows.length === 2);
    expect(rows.map((row) => row.close)).toEqual([0, 2]);
    expect(warned).toHaveBeenCalledWith(
      expect.objectContaining({ url }),
      'WebSocketFeed parse threw; message skipped',
    );
  });

  it('gives up through onError after maxAttempts failed reconnects', async () => {
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const dead = createServer().listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const { port } = dead.address() as AddressInfo;
    await new Promise((resolve) => dead.close(resolve));
    const url = `ws://127.0.0.1:${port}`;
    const errors = await untilGivenUp(url);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: ErrorCode.Unavailable });
    expect(errors[0]?.message).toBe(`WebSocketFeed gave up on "${url}" after 2 failed reconnect attempts`);
  });

  it('counts a connection the server closes without a word as a failed attempt, and gives up', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    // Accepts, then closes at once: a refused subscription, a rate limit, a wrong path.
    const { url, connections } = await server((socket) => socket.close(1008, 'bad subscription'));
    const errors = await untilGivenUp(url);
    expect(connections).toHaveLength(3);
    expect(errors[0]?.message).toBe(`WebSocketFeed gave up on "${url}" after 2 failed reconnect attempts`);
  });

  it('resets the count after a connection on which the server sent a message', async () => {
    vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const { url, connections } = await server((socket) => socket.send('{}', () => socket.close()));
    const feed = new WebSocketFeed({
      url,
      parse: () => null,
      reconnect: { initialMs: 2, maxMs: 4, maxAttempts: 1 },
    });
    const { errors } = await record(feed, T0, undefined, handles);
    await until(() => connections.length >= 4);
    expect(errors).toEqual([]);
  });

  it('reconnects when the server has sent nothing for idleMs, and delivers each bar once', async () => {
    const warned = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    // Each connection sends the bars so far, then falls silent with the connection left open.
    const { url, connections } = await server((socket, n) => sendRows(socket, bars(n + 1)));
    const feed = new WebSocketFeed({ url, parse: asRow, idleMs: 30, reconnect: { initialMs: 2, maxMs: 4 } });
    const { rows, errors } = await record(feed, T0, undefined, handles);
    await until(() => connections.length >= 3);
    expect(rows.map((row) => row.close).slice(0, 3)).toEqual([0, 1, 2]);
    expect(errors).toEqual([]);
    expect(warned).toHaveBeenCalledWith(
      expect.objectContaining({ url, idleMs: 30 }),
      'WebSocketFeed heard nothing for idleMs; reconnecting',
    );
  });

  it('closes the connection on stop', async () => {
    const { url, connections } = await server(() => undefined);
    const { handle } = await record(new WebSocketFeed({ url, parse: asRow }), T0, undefined, handles);
    await until(() => connections.length === 1);
    const closed = once(connections[0]!, 'close');
    await handle.stop();
    await closed;
    await handle.done;
  });

  it('rejects invalid options, listing every problem', () => {
    const make = (): WebSocketFeed =>
      new WebSocketFeed({
        url: 'http://example.com',
        parse: 'json',
        subscribeMessage: 1n,
        reconnect: { initialMs: 10, maxMs: 5, maxAttempts: -1 },
        idleMs: 0,
      } as never);
    expect(make).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(make).toThrow('url must be a ws:// or wss:// URL, got "http://example.com"');
    expect(make).toThrow('parse must be a function, got "json"');
    expect(make).toThrow('subscribeMessage must be JSON-serialisable, got 1n');
    expect(make).toThrow('reconnect.maxAttempts must be a non-negative integer, got -1');
    expect(make).toThrow('reconnect.maxMs must be >= reconnect.initialMs (10), got 5');
    expect(make).toThrow('idleMs must be a positive number, got 0');
  });
});
