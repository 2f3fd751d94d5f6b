import { QuestDBClient } from '../../src/io/questdb-client.js';
import { servers } from './servers.js';

/** The test QuestDB's PostgreSQL wire, with its default login. */
export const questdbDsn = `postgresql://admin:quest@${servers.questdb.address}/qdb`;

/** A multiple of 60 s (2023-11-14T22:14:00Z): the first bucket of the QuestDB tests' streams. */
export const T0 = 1_700_000_040;

/**
 * Table names no other test file, process or earlier run uses, and a client (`admin`, which
 * connects on first use) to inspect them; {@link close} drops them all and ends the client.
 * @example
 * const tables = new TestTables('qmtl_ranges');
 * afterAll(() => tables.close());
 * const table = tables.next();
 */
export class TestTables {
  readonly admin = new QuestDBClient(questdbDsn, 1);
  private readonly names: string[] = [];

  constructor(private readonly prefix: string) {}

  /** A fresh name, `<prefix>_<pid>_<ms>_<n>`. */
  next(): string {
    return this.add(`${this.prefix}_${process.pid}_${Date.now()}_${this.names.length}`);
  }

  /** Remembers a name made elsewhere (to drop it too); returns it. */
  add(name: string): string {
    this.names.push(name);
    return name;
  }

  /** Rows of `table`, once QuestDB has applied every write to it. */
  async count(table: string): Promise<number> {
    await this.admin.waitForWal(table, 15_000);
    const [row] = await this.admin.query<{ count: number }>(`SELECT count() AS count FROM "${table}"`);
    return row?.count ?? 0;
  }

  async close(): Promise<void> {
    for (const name of this.names.splice(0)) await this.admin.query(`DROP TABLE IF EXISTS "${name}"`);
    await this.admin.close();
  }
}
