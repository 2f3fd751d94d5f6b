import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import type { DagManagerClient } from '../dagmanager/grpc-client.js';
import type { CliIo } from './cli-io.js';
import { serviceConfig } from './config-file.js';
import { checkUsage } from './usage-error.js';

interface DagmOptions {
  readonly target?: string;
  readonly config?: string;
  readonly timeout?: string;
}

/**
 * Registers `qmtl dagm <command>`: talk to a DAG Manager over gRPC (`--target host:port`, else
 * the config's grpc_host:grpc_port) — `diff`, `queue-stats`, `gc`, `redo-diff` — or inspect
 * Neo4j (`export-schema`). `diff --dry-run` runs the diff in-process on empty embedded stores.
 */
export function registerDagmCommand(program: Command, io: CliIo): void {
  const dagm = program
    .command('dagm')
    .description(
      'DAG Manager admin: diff a DAG, queue stats, release a strategy, redo a diff, export the Neo4j schema',
    )
    .option('--target <host:port>', 'DAG Manager gRPC address (default: grpc_host:grpc_port of the config)')
    .option('--config <file>', 'qmtl.yml to read the dagmanager: section from')
    .option(
      '--timeout <seconds>',
      'how long each call may take (default 30; a diff of a large new DAG may need more)',
    );
  const cwd = (): string => io.cwd ?? process.cwd();
  const print = (value: unknown): void => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

  const withClient = async <T>(fn: (client: DagManagerClient) => Promise<T>): Promise<T> => {
    const options = dagm.opts<DagmOptions>();
    const deadlineMs = checkUsage(() => timeoutMs(options.timeout));
    const { dagmanager } = serviceConfig(options.config, cwd());
    const target = options.target ?? `${dagmanager.grpc_host}:${dagmanager.grpc_port}`;
    const { DagManagerClient } = await import('../dagmanager/grpc-client.js');
    const client = new DagManagerClient(target, { deadlineMs });
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  };

  dagm
    .command('diff')
    .description('Diff a DAG JSON file against the global DAG and print queue_map, topic_map and sentinel_id')
    .requiredOption('--file <dag.json>', 'the DAG ({"nodes": [...]})')
    .option('--strategy-id <id>', 'strategy submitting the DAG', 'cli')
    .option('--dry-run', 'diff in-process against empty embedded stores (no server needed)')
    .action(async (options: { file: string; strategyId: string; dryRun?: boolean }) => {
      const dagJson = await readDag(cwd(), options.file);
      if (options.dryRun === true) {
        print(await dryRunDiff(options.strategyId, dagJson));
        return;
      }
      const reply = await withClient((client) => client.diff(options.strategyId, dagJson));
      print({ sentinel_id: reply.sentinelId, queue_map: reply.queueMap, topic_map: reply.topicMap });
    });

  dagm
    .command('queue-stats')
    .description('Messages held per topic, optionally only the topics of --tag at --interval')
    .option('--tag <tags>', 'comma-separated tags')
    .option('--interval <interval>', 'seconds or 1m / 1h / …')
    .action(async (options: { tag?: string; interval?: string }) => {
      const parts = [
        ...(options.tag !== undefined ? [`tag=${options.tag}`] : []),
        ...(options.interval !== undefined ? [`interval=${options.interval}`] : []),
      ];
      print(await withClient((client) => client.queueStats(parts.join(';'))));
    });

  dagm
    .command('gc')
    .description('Release a stopped strategy (Cleanup): its produced nodes pass to the next submitter')
    .requiredOption('--sentinel <id>', 'strategy id or its sentinel id')
    .action(async (options: { sentinel: string }) => {
      const strategyId = options.sentinel.replace(/-sentinel$/, '');
      const released = await withClient((client) => client.cleanup(strategyId));
      io.stdout.write(
        `GC triggered for sentinel: ${options.sentinel} (${released.length} produced node(s) released)\n`,
      );
    });

  dagm
    .command('redo-diff')
    .description('Re-run the diff of a sentinel with a DAG file')
    .requiredOption('--sentinel <id>', 'sentinel id ({strategy}-sentinel)')
    .requiredOption('--file <dag.json>', 'the DAG')
    .action(async (options: { sentinel: string; file: string }) => {
      const dagJson = await readDag(cwd(), options.file);
      const reply = await withClient((client) => client.redoDiff(options.sentinel, dagJson));
      print({ sentinel_id: reply.sentinelId, queue_map: reply.queueMap, topic_map: reply.topicMap });
    });

  dagm
    .command('export-schema')
    .description('Print (or write to --out) the Neo4j constraints and indexes as CREATE statements')
    .option('--uri <bolt-uri>', 'Neo4j URI (default: neo4j_dsn of the config)')
    .option('--user <user>', 'Neo4j user (default: neo4j_user of the config)')
    .option('--password <password>', 'Neo4j password (default: neo4j_password of the config)')
    .option('--out <file>', 'write the statements to this file instead of stdout')
    .action(async (options: { uri?: string; user?: string; password?: string; out?: string }) => {
      const { dagmanager } = serviceConfig(dagm.opts<DagmOptions>().config, cwd());
      const { Neo4jNodeRepository, exportSchema } = await import('../dagmanager/neo4j-node-repository.js');
      // Reads only: exporting must not first write qmtl's schema into the database it describes.
      const uri = options.uri ?? dagmanager.neo4j_dsn ?? 'bolt://127.0.0.1:7687';
      const repo = await Neo4jNodeRepository.connect(
        {
          uri,
          user: options.user ?? dagmanager.neo4j_user,
          password: options.password ?? dagmanager.neo4j_password ?? '',
        },
        { applySchema: false },
      );
      try {
        const statements = await exportSchema(repo);
        const text = schemaText(statements);
        if (options.out === undefined) io.stdout.write(text);
        else {
          await writeFile(path.resolve(cwd(), options.out), text);
          io.stdout.write(`schema written to ${options.out} (${statements.length} statements)\n`);
        }
        if (statements.length === 0)
          io.stderr.write(
            `qmtl: ${uri} has no constraints or indexes yet: a DAG Manager with repo_backend: neo4j creates them when it first connects\n`,
          );
      } finally {
        await repo.close();
      }
    });
}

/** `export-schema` output: each statement on its own line, ended by `;`; nothing for no statements. */
export function schemaText(statements: readonly string[]): string {
  return statements.map((statement) => `${statement};\n`).join('');
}

async function readDag(cwd: string, file: string): Promise<string> {
  try {
    return await readFile(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `cannot read DAG file ${quote(file)}: ${(error as Error).message}`,
    );
  }
}

async function dryRunDiff(strategyId: string, dagJson: string): Promise<unknown> {
  const [{ DagManager }, { MemoryNodeRepository }, { MemoryQueueAdmin }, { toChunks }] = await Promise.all([
    import('../dagmanager/dag-manager.js'),
    import('../dagmanager/memory-node-repository.js'),
    import('../dagmanager/memory-queue-admin.js'),
    import('../dagmanager/diff-chunks.js'),
  ]);
  const admin = new MemoryQueueAdmin();
  const manager = new DagManager({
    repo: MemoryNodeRepository.open(),
    admin,
    topics: { ensure: (s) => admin.createTopic(s), remove: (name) => admin.deleteTopic(name) },
  });
  const outcome = await manager.diff(strategyId, dagJson);
  return {
    sentinel_id: outcome.sentinelId,
    queue_map: Object.fromEntries(outcome.queueMap),
    topic_map: Object.fromEntries(outcome.topicMap),
    buffer_nodes: outcome.bufferNodes,
    chunks: toChunks(outcome).length,
  };
}

/** `--timeout` in ms: positive seconds (fractions allowed), 30 s when absent. */
function timeoutMs(option: string | undefined): number {
  if (option === undefined) return 30_000;
  const seconds = Number(option);
  if (option.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 2_147_483)
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `--timeout must be a positive number of seconds, got ${quote(option)}`,
    );
  return Math.round(seconds * 1000);
}
