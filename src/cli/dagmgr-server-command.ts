import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { configDirectory, resolvePaths, serviceConfig, untilSignal } from './config-file.js';

/**
 * Registers `qmtl dagmgr-server [--config FILE]`: the DAG Manager service (gRPC 50051 and HTTP
 * 8001 by default, embedded stores unless the `dagmanager:` section names Neo4j / Kafka). Runs
 * until SIGINT/SIGTERM, then shuts down gracefully.
 */
export function registerDagManagerServerCommand(
  program: Command,
  io: CliIo,
  stop: () => Promise<unknown> = untilSignal,
): void {
  program
    .command('dagmgr-server')
    .description('Run the DAG Manager service (gRPC diff, tag queries, admin; HTTP status, metrics, GC)')
    .option(
      '--config <file>',
      'qmtl.yml to read the dagmanager: section from (default: ./qmtl.yml if present)',
    )
    .action(async (options: { config?: string }) => {
      const cwd = io.cwd ?? process.cwd();
      const config = resolvePaths(
        serviceConfig(options.config, cwd).dagmanager,
        configDirectory(options.config, cwd),
      );
      const { startDagManagerService } = await import('../dagmanager/service.js');
      const service = await startDagManagerService(config);
      io.stdout.write(
        `DAG Manager running: gRPC ${config.grpc_host}:${service.grpcPort}, HTTP http://${config.http_host}:${service.httpPort} ` +
          `(graph store: ${config.repo_backend}, queues: ${config.queue_backend})\n`,
      );
      await stop();
      await service.close();
      io.stdout.write('DAG Manager stopped\n');
    });
}
