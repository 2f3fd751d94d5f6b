import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import { StreamInput } from '../sdk/stream-input.js';
import { gridFetcher } from '../sdk/history/history.test-kit.js';
import { QuestDBLoader } from './questdb-loader.js';

const key = { nodeId: 'btc', interval: 60 };
// Nothing listens on port 1, so any attempt to connect would fail with Unavailable.
const nowhere = 'postgresql://admin:secret@127.0.0.1:1/qdb';

describe('QuestDBLoader (without a server)', () => {
  it('defaults its table to the node id of the StreamInput it serves; an explicit table wins', () => {
    const loader = new QuestDBLoader({ dsn: nowhere });
    expect(() => loader.table).toThrow(
      'QuestDBLoader has no table: pass options.table or give the loader to a StreamInput as its historyProvider',
    );
    const stream = new StreamInput({ tags: ['btc'], interval: 60, period: 1, historyProvider: loader });
    expect(loader.table).toBe(stream.nodeId);
    const explicit = new QuestDBLoader({ dsn: nowhere, table: 'btc_1m' });
    new StreamInput({ tags: ['eth'], interval: 60, period: 1, historyProvider: explicit });
    expect(explicit.table).toBe('btc_1m');
  });

  it('has a sourceId only for an explicit table or when given one', () => {
    expect(new QuestDBLoader({ dsn: nowhere }).sourceId).toBeUndefined();
    expect(new QuestDBLoader({ dsn: nowhere, table: 'bars' }).sourceId).toBe('questdb:bars');
    expect(new QuestDBLoader({ dsn: nowhere, sourceId: 'binance:btc' }).sourceId).toBe('binance:btc');
  });

  it('fills nothing without a fetcher, without connecting, so a backtest reports the gaps', async () => {
    const loader = new QuestDBLoader({ dsn: nowhere, table: 'bars' });
    await expect(loader.fillMissing(0, 60, key)).resolves.toBeUndefined();
  });

  it('refuses a DSN that is not a PostgreSQL-wire URL and bad timeouts', () => {
    expect(() => new QuestDBLoader({ dsn: 'not a dsn' })).toThrow(
      'dsn must be a PostgreSQL-wire URL such as "postgresql://admin:quest@127.0.0.1:8812/qdb", got "not a dsn"',
    );
    expect(() => new QuestDBLoader({ dsn: 'postgresql://u:secret@h:1/db', connectTimeoutMs: 0 })).toThrow(
      'connectTimeoutMs must be a positive integer of ms, got 0',
    );
  });

  it('fails with Unavailable naming the DSN without its password when QuestDB is down', async () => {
    const loader = new QuestDBLoader({ dsn: nowhere, table: 'bars', fetcher: gridFetcher((ts) => ({ ts })) });
    const error = await loader.coverage(key).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.Unavailable });
    expect((error as Error).message).toContain(
      'QuestDB is unreachable at postgresql://admin:***@127.0.0.1:1/qdb',
    );
    await loader.close();
    await expect(loader.fetch(0, 60, key)).rejects.toThrow(/is closed/);
  });

  it('rejects a hostile table name and a bad pool size up front', () => {
    expect(() => new QuestDBLoader({ table: 'x"; DROP TABLE y; --' })).toThrow(/contains "\\""/);
    expect(() => new QuestDBLoader({ poolSize: 0 })).toThrow('poolSize must be a positive integer, got 0');
  });
});
