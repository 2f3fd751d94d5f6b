import path from 'node:path';
import type { Command } from 'commander';
import type { QmtlConfig } from '../common/config.js';
import type { CliIo } from './cli-io.js';
import { configDirectory, resolvePaths, serviceConfig, untilSignal } from './config-file.js';

/**
 * Registers `qmtl gw [--config FILE]` (the Gateway; with `gateway.dagmanager_url` null it also
 * hosts the DAG Manager) and `qmtl up [--config FILE]` (Gateway + DAG Manager in one process,
 * whatever `dagmanager_url` says: the local all-in-one). Both run until SIGINT/SIGTERM, then shut
 * down gracefully.
 */
export function registerGatewayCommands(
  program: Command,
  io: CliIo,
  stop: () => Promise<unknown> = untilSignal,
): void {
  const run = async (options: { config?: string }, allInOne: boolean): Promise<void> => {
    const cwd = io.cwd ?? process.cwd();
    const loaded = serviceConfig(options.config, cwd);
    const directory = configDirectory(options.config, cwd);
    const config: QmtlConfig = {
      gateway: {
        ...loaded.gateway,
        ...(allInOne && { dagmanager_url: null }),
        database_dsn: resolveSqlitePath(loaded.gateway, directory),
      },
      dagmanager: resolvePaths(loaded.dagmanager, directory),
    };
    const { startGatewayService } = await import('../gateway/service.js');
    const service = await startGatewayService(config);
    const gw = config.gateway;
    io.stdout.write(
      `Gateway running: http://${gw.host}:${service.port} (store: ${gw.database_backend}, state: ${gw.queue_backend}, ` +
        `DAG Manager: ${gw.dagmanager_url ?? 'in-process'})\n`,
    );
    if (service.dagManager !== null) {
      const dm = config.dagmanager;
      io.stdout.write(
        `DAG Manager running: gRPC ${dm.grpc_host}:${service.dagManager.grpcPort}, HTTP http://${dm.http_host}:${service.dagManager.httpPort}\n`,
      );
    }
    await stop();
    await service.close();
    io.stdout.write('Gateway stopped\n');
  };
  const configOption = '--config <file>';
  const configHelp =
    'qmtl.yml to read the gateway: and dagmanager: sections from (default: ./qmtl.yml if present)';
  program
    .command('gw')
    .description(
      'Run the Gateway (HTTP API, /ws events, worker); hosts the DAG Manager unless gateway.dagmanager_url is set',
    )
    .option(configOption, configHelp)
    .action((options: { config?: string }) => run(options, false));
  program
    .command('up')
    .description('Run the Gateway and the DAG Manager together in one process (local use)')
    .option(configOption, configHelp)
    .action((options: { config?: string }) => run(options, true));
}

/** A relative SQLite path is relative to the config file's directory (the working directory without one). */
function resolveSqlitePath(config: QmtlConfig['gateway'], directory: string): string | null {
  const dsn = config.database_dsn;
  if (config.database_backend !== 'sqlite' || dsn === null || dsn === ':memory:' || dsn.includes('://'))
    return dsn;
  return path.resolve(directory, dsn);
}
