/**
 * PostgresStrategyStore against a real PostgreSQL (started by `.ci/run`, or locally with
 * `bash .ci/servers.sh start postgres`): the StrategyStore contract, synchronous commit on every
 * write, two Gateways on one database, and outages simulated by a TCP proxy in front of the server
 * (refused connections, dropped connections, a server that never answers, and recovery).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/common/errors.js';
import { sha256Hex } from '../../src/common/hash.js';
import { PostgresStrategyStore } from '../../src/gateway/store/postgres-strategy-store.js';
import {
  testStrategy,
  testStrategyStoreContract,
} from '../../src/gateway/store/strategy-store.contract.test-kit.js';
import { StrategyEvent, StrategyStatus } from '../../src/gateway/strategy-status.js';
import { describeWithServer, isReachable, servers } from '../support/servers.js';
import { freePort } from '../support/service-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const reachable = await isReachable('postgres');
/** This run's own database, dropped after the suite; every store gets a fresh schema in it. */
const database = `qmtl_test_${process.pid}_${randomBytes(4).toString('hex')}`;
const adminDsn = `postgresql://postgres@${servers.postgres.address}/qmtl`;
const pools: pg.Pool[] = [];
let admin: pg.Pool;
let testDatabase: pg.Pool;
let schemas = 0;

/** A DSN whose `search_path` is a new, empty schema of the test database. */
async function freshSchemaDsn(address = servers.postgres.address): Promise<string> {
  const schema = `store_${(schemas += 1)}`;
  await testDatabase.query(`CREATE SCHEMA ${schema}`);
  const options = encodeURIComponent(`-c search_path=${schema}`);
  return `postgresql://postgres@${address}/${database}?options=${options}`;
}

/** A plain pg pool (ended after the suite) for checks the store does not expose. */
function sqlPool(dsn: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: dsn, max: 2 });
  // pool.end() resolves before its connections are closed, so the DROP DATABASE … WITH (FORCE)
  // after the suite may still terminate one: that is expected, not a failure.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  pools.push(pool);
  return pool;
}

describeWithServer('postgres', reachable, 'PostgresStrategyStore (real server)', () => {
  beforeAll(async () => {
    admin = sqlPool(adminDsn);
    await admin.query(`CREATE DATABASE ${database}`);
    // The default of this database is OFF, so only the store's own SET LOCAL makes commits synchronous.
    await admin.query(`ALTER DATABASE ${database} SET synchronous_commit = off`);
    testDatabase = sqlPool(`postgresql://postgres@${servers.postgres.address}/${database}`);
  });

  afterAll(async () => {
    for (const pool of pools.filter((pool) => pool !== admin)) await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  testStrategyStoreContract(
    'postgres',
    async () => PostgresStrategyStore.connect(await freshSchemaDsn()),
    25,
  );

  it('commits every write with synchronous_commit on, although the database default is off', async () => {
    const dsn = await freshSchemaDsn();
    const store = await PostgresStrategyStore.connect(dsn);
    const sql = sqlPool(dsn);
    // A trigger records the setting in force inside each writing transaction.
    await sql.query(`
      CREATE TABLE commit_audit (seq SERIAL PRIMARY KEY, tbl TEXT, op TEXT, setting TEXT);
      CREATE FUNCTION audit_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO commit_audit (tbl, op, setting) VALUES (TG_TABLE_NAME, TG_OP, current_setting('synchronous_commit'));
          RETURN NULL;
        END $$;
      CREATE TRIGGER audit AFTER INSERT OR UPDATE ON strategies FOR EACH ROW EXECUTE FUNCTION audit_commit();
      CREATE TRIGGER audit AFTER INSERT OR UPDATE ON strategy_events FOR EACH ROW EXECUTE FUNCTION audit_commit();
    `);
    const strategy = testStrategy('a');
    await store.insert(strategy);
    await store.insert({ ...testStrategy('b'), dagHash: strategy.dagHash });
    await store.transition(
      strategy.id,
      StrategyStatus.Queued,
      StrategyStatus.Processing,
      StrategyEvent.Process,
      1,
    );
    await store.saveDiff(strategy.id, { sentinelId: null, queueMap: {}, topicMap: {} });
    // The control: a write outside the store runs with the database default.
    await sql.query('UPDATE strategies SET run_type = run_type WHERE id = $1', [strategy.id]);

    const { rows } = await sql.query('SELECT tbl, op, setting FROM commit_audit ORDER BY seq');
    expect(
      rows.map((row: { tbl: string; op: string; setting: string }) => Object.values(row).join(' ')),
    ).toEqual([
      'strategies INSERT on',
      'strategy_events INSERT on',
      'strategies UPDATE on',
      'strategy_events INSERT on',
      'strategies UPDATE on',
      'strategies UPDATE off',
    ]);
    await store.close();
  });

  it('shares one schema and one DAG hash dedupe between two Gateways', async () => {
    const dsn = await freshSchemaDsn();
    // Both create the schema at once (serialised by an advisory lock).
    const [a, b] = await Promise.all([
      PostgresStrategyStore.connect(dsn, { poolSize: 4 }),
      PostgresStrategyStore.connect(dsn, { poolSize: 4 }),
    ]);
    const dagHash = sha256Hex('shared');
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? a : b).insert({ ...testStrategy(`g${i}`), dagHash }),
      ),
    );
    const winners = outcomes.flatMap((outcome, i) => (outcome.inserted ? [`strategy-g${i}`] : []));
    expect(winners).toHaveLength(1);
    expect(new Set(outcomes.map((outcome) => (outcome.inserted ? winners[0] : outcome.existingId)))).toEqual(
      new Set(winners),
    );
    expect(await b.get(winners[0]!)).toMatchObject({ status: StrategyStatus.Queued });
    expect(await a.listByStatus([StrategyStatus.Queued])).toEqual(winners);
    await Promise.all([a.close(), b.close()]);
  });

  it('refuses a NUL character in meta (JSONB cannot hold one) as an invalid argument', async () => {
    const store = await PostgresStrategyStore.connect(await freshSchemaDsn());
    await expect(store.insert(testStrategy('a', { meta: { note: 'a\u0000b' } }))).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    expect(await store.get('strategy-a')).toBeNull();
    expect(await store.health()).toBe(true);
    await store.close();
  });

  describe('outages', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = new TcpProxy(servers.postgres);
      await proxy.listen();
    });
    afterAll(async () => {
      await proxy.close();
    });

    it('rejects connecting to a closed port as unavailable within 3 s', async () => {
      const closedPort = await freePort();
      const started = Date.now();
      await expect(
        PostgresStrategyStore.connect(`postgresql://postgres@127.0.0.1:${closedPort}/qmtl`),
      ).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('rejects calls as unavailable while the database is down, then recovers by itself', async () => {
      const store = await PostgresStrategyStore.connect(await freshSchemaDsn(proxy.address));
      const first = testStrategy('before');
      await store.insert(first);

      await proxy.close(); // drops every open connection and refuses new ones
      const started = Date.now();
      await expect(store.get(first.id)).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      await expect(store.insert(testStrategy('during'))).rejects.toMatchObject({
        code: ErrorCode.Unavailable,
      });
      await expect(
        store.transition(
          first.id,
          StrategyStatus.Queued,
          StrategyStatus.Processing,
          StrategyEvent.Process,
          1,
        ),
      ).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      expect(await store.health()).toBe(false);
      expect(Date.now() - started).toBeLessThan(3_000);

      await proxy.listen();
      expect(await store.health()).toBe(true);
      expect(await store.get(first.id)).toMatchObject({ status: StrategyStatus.Queued });
      expect(await store.get('strategy-during')).toBeNull();
      expect(await store.insert(testStrategy('after'))).toEqual({ inserted: true });
      await store.close();
    });

    it('gives up on a server that accepts connections but never answers', async () => {
      const silent = new TcpProxy(null);
      await silent.listen();
      const started = Date.now();
      await expect(
        PostgresStrategyStore.connect(`postgresql://postgres@${silent.address}/qmtl`, {
          connectionTimeoutMs: 1_000,
        }),
      ).rejects.toMatchObject({ code: ErrorCode.Unavailable });
      expect(Date.now() - started).toBeLessThan(3_000);
      await silent.close();
    });
  });
});
