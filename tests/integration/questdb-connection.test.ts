/**
 * How the QuestDB client behaves when the connection goes wrong, against a real QuestDB: an idle
 * pooled connection that drops (a TCP proxy in front of QuestDB cuts it), a port that accepts
 * connections and never answers, a login QuestDB refuses, and ILP/HTTP sent where nothing or
 * something else listens.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { QuestDBClient } from '../../src/io/questdb-client.js';
import { createIlpSender } from '../../src/io/ilp-sender.js';
import { QuestDBLoader } from '../../src/io/questdb-loader.js';
import type { StreamKey } from '../../src/sdk/history/protocols.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { freePort } from '../support/service-process.js';

const reachable = await isReachable('questdb');
const { host, port } = servers.questdb;
const key: StreamKey = { nodeId: 'btc', interval: 60 };
const table = `qmtl_it_missing_${process.pid}`;
const opened: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  sockets.splice(0).forEach((socket) => socket.destroy());
  await Promise.all(opened.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(server: Server): Promise<number> {
  opened.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A TCP proxy to QuestDB's PostgreSQL wire; `cut()` drops every connection through it. */
async function proxy(): Promise<{ port: number; cut: () => void }> {
  const pairs: Socket[] = [];
  const proxyPort = await listen(
    createServer((client) => {
      const upstream = connect(port, host);
      pairs.push(client, upstream);
      sockets.push(client, upstream);
      client.pipe(upstream).pipe(client);
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    }),
  );
  return { port: proxyPort, cut: () => pairs.splice(0).forEach((socket) => socket.destroy()) };
}

describeWithServer('questdb', reachable, 'QuestDB connection failures (real server)', () => {
  it('survives an idle pooled connection that drops, and the next call opens a new one', async () => {
    const link = await proxy();
    const client = new QuestDBClient(`postgresql://admin:quest@127.0.0.1:${link.port}/qdb`, 1);
    try {
      // A query that succeeds leaves its connection idle in the pool (a failed one is discarded).
      expect(await client.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      link.cut();
      // Without a listener, the pool's 'error' event for the idle connection ends the process.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await client.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    } finally {
      await client.close();
    }
  });

  it('fails a call to a port that accepts and never answers with QMTL_TIMEOUT naming the DSN', async () => {
    const silent = await listen(createServer((socket) => sockets.push(socket)));
    const loader = new QuestDBLoader({
      dsn: `postgresql://admin:quest@127.0.0.1:${silent}/qdb`,
      table,
      connectTimeoutMs: 300,
    });
    const started = Date.now();
    await expect(loader.coverage(key)).rejects.toMatchObject({
      code: ErrorCode.Timeout,
      message: expect.stringContaining(
        `QuestDB at postgresql://admin:***@127.0.0.1:${silent}/qdb did not answer in time`,
      ),
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    await loader.close();
  });

  it('names the DSN, without the password, when QuestDB refuses the login', async () => {
    const loader = new QuestDBLoader({ dsn: `postgresql://admin:wrong@${host}:${port}/qdb`, table });
    const error = (await loader.coverage(key).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.message).toMatch(
      new RegExp(`^QuestDB at postgresql://admin:\\*\\*\\*@${host}:${port}/qdb refused the login: `),
    );
    await loader.close();
  });

  it('says why an ILP/HTTP batch was not sent: refused, or closed by a port that is not ILP/HTTP', async () => {
    const unused = await freePort();
    const cases = [
      [`http://127.0.0.1:${unused}`, `connect ECONNREFUSED 127.0.0.1:${unused}`],
      // QuestDB's ILP/TCP port reads the HTTP request as a bad line and closes the connection.
      [`http://${host}:9009`, 'other side closed'],
    ] as const;
    for (const [address, reason] of cases) {
      const error = (await createIlpSender(address)
        .send('t,node_id=n v=1 0\n')
        .catch((e: unknown) => e)) as Error & { code: string };
      expect(error.code).toBe(ErrorCode.Unavailable);
      expect(error.message).toBe(
        `QuestDB ILP/HTTP is unreachable at ${address}/write?precision=n: fetch failed (${reason})`,
      );
    }
  });
});
