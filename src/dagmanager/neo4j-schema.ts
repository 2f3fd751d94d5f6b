import type { Driver, EagerResult } from 'neo4j-driver';

/**
 * The schema {@link Neo4jNodeRepository} needs, in the order it is applied; each statement is
 * idempotent (`IF NOT EXISTS`). The uniqueness constraints are what make concurrent MERGEs of
 * one node, strategy or sentinel store it once; the indexes serve the repository's lookups.
 */
export const SCHEMA_STATEMENTS: readonly string[] = [
  'CREATE CONSTRAINT compute_pk IF NOT EXISTS FOR (c:ComputeNode) REQUIRE c.node_id IS UNIQUE',
  'CREATE CONSTRAINT strategy_pk IF NOT EXISTS FOR (s:Strategy) REQUIRE s.strategy_id IS UNIQUE',
  'CREATE CONSTRAINT sentinel_pk IF NOT EXISTS FOR (v:VersionSentinel) REQUIRE v.version IS UNIQUE',
  'CREATE CONSTRAINT pending_weight_gate_pk IF NOT EXISTS FOR (g:PendingWeightGate) REQUIRE g.name IS UNIQUE',
  'CREATE INDEX queue_topic IF NOT EXISTS FOR (q:Queue) ON (q.topic)',
  'CREATE INDEX queue_interval IF NOT EXISTS FOR (q:Queue) ON (q.interval)',
  'CREATE INDEX compute_lineage IF NOT EXISTS FOR (c:ComputeNode) ON (c.node_type, c.config_hash)',
  'CREATE INDEX compute_buffering IF NOT EXISTS FOR (c:ComputeNode) ON (c.buffering_since)',
  'CREATE INDEX strategy_active IF NOT EXISTS FOR (s:Strategy) ON (s.active)',
  // Pending weights are the sentinels with strategy_id '': counted and expired by seeking it.
  'CREATE INDEX sentinel_strategy IF NOT EXISTS FOR (v:VersionSentinel) ON (v.strategy_id)',
];

/** How long {@link applySchema} waits for new indexes to come online. */
const INDEX_WAIT_SECONDS = 60;

/** Applies {@link SCHEMA_STATEMENTS} and waits until every index is online. */
export async function applySchema(driver: Driver, database: string | undefined): Promise<void> {
  const config = database === undefined ? {} : { database };
  for (const statement of SCHEMA_STATEMENTS) await driver.executeQuery(statement, {}, config);
  await driver.executeQuery('CALL db.awaitIndexes($seconds)', { seconds: INDEX_WAIT_SECONDS }, config);
}

/**
 * The `CREATE` statements of the database's constraints, then of its indexes, each group sorted
 * by name: a script that rebuilds the schema in an empty database (`qmtl dagm export-schema`).
 * Indexes a constraint owns and the built-in token lookup indexes are left out, since the
 * constraint, or the database itself, creates them.
 */
export async function readSchema(driver: Driver, database: string | undefined): Promise<string[]> {
  const config = { routing: 'READ' as const, ...(database === undefined ? {} : { database }) };
  const constraints = await driver.executeQuery<EagerResult<{ statement: string }>>(
    'SHOW CONSTRAINTS YIELD name, createStatement RETURN createStatement AS statement ORDER BY name',
    {},
    config,
  );
  const indexes = await driver.executeQuery<EagerResult<{ statement: string }>>(
    `SHOW INDEXES YIELD name, type, owningConstraint, createStatement
     WHERE owningConstraint IS NULL AND type <> 'LOOKUP'
     RETURN createStatement AS statement ORDER BY name`,
    {},
    config,
  );
  return [...constraints.records, ...indexes.records].map((record) => record.get('statement'));
}
