/**
 * Looking at the services of an e2e test from outside: HTTP calls that honour the Gateway's
 * degradation gate as a client would, polling until a probe holds, and connections to the
 * datastores (a Redis client, PostgreSQL databases of the test's own) to check them behind the
 * services' backs.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createClient } from 'redis';
import { servers } from './servers.js';

/** An HTTP answer: its status and its body, parsed as JSON (`null` when empty). */
export interface Reply<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * An HTTP call that honours the degradation gate as a client would: a 204 (STATIC) or, for a
 * POST, a 503 (MINIMAL) means "not now" — the Gateway measures the host's CPU, which other
 * processes share — so it is asked again every 100 ms, for at most `timeoutMs`.
 */
export async function callPastGate<T>(
  url: string,
  init: RequestInit = {},
  timeoutMs = 20_000,
): Promise<Reply<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(url, init);
    const gated = response.status === 204 || (init.method === 'POST' && response.status === 503);
    if (!gated || Date.now() > deadline) {
      const text = await response.text();
      return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as T };
    }
    await sleep(100);
  }
}

/** Polls `probe` every `intervalMs` until it returns true; false if `timeoutMs` passes first. */
export async function until(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** A connected node-redis client (RESP2) that ignores connection errors; the caller closes it. */
export async function connectRedis(dsn: string) {
  const client = createClient({ url: dsn, RESP: 2 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** What {@link connectRedis} resolves with. */
export type RedisClient = Awaited<ReturnType<typeof connectRedis>>;

/** PostgreSQL databases a suite creates on the test server and drops when it is done. */
export interface ScratchDatabases {
  /** Creates a database of its own for `label` and returns its DSN. */
  create(label: string): Promise<string>;
  /** Drops every database created (cutting the connections still open to it), then disconnects. */
  dropAll(): Promise<void>;
}

/**
 * Scratch databases named `<prefix>_<label>_<pid>_<random>`, so that runs side by side do not
 * meet; created through the server's `qmtl` database.
 */
export function scratchDatabases(prefix: string): ScratchDatabases {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const created: string[] = [];
  let admin: pg.Pool | null = null;
  return {
    async create(label) {
      admin ??= new pg.Pool({
        connectionString: `postgresql://postgres@${servers.postgres.address}/qmtl`,
        max: 1,
      });
      const name = `${prefix}_${label}_${suffix}`;
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
      return `postgresql://postgres@${servers.postgres.address}/${name}`;
    },
    async dropAll() {
      if (admin === null) return;
      for (const name of created.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      admin = null;
    },
  };
}
