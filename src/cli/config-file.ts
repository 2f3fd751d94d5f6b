import path from 'node:path';
import { defaultConfig, findConfigFile, loadConfig, type QmtlConfig } from '../common/config.js';
import { logger } from '../common/logger.js';

/** The config of a service command: `--config FILE`, else `qmtl.yml` in `cwd`, else the embedded defaults. */
export function serviceConfig(configOption: string | undefined, cwd: string): QmtlConfig {
  const file = configOption === undefined ? findConfigFile(cwd) : path.resolve(cwd, configOption);
  if (file === null) return defaultConfig();
  logger.info({ config: file }, 'using config file');
  return loadConfig(file);
}

/**
 * Resolves relative paths of a DAG Manager config against `cwd`, so a service started elsewhere
 * finds its journal and archive where the config file meant.
 */
export function resolvePaths<T extends { memory_repo_path: string; archive_dir: string }>(
  config: T,
  cwd: string,
): T {
  return {
    ...config,
    memory_repo_path: path.resolve(cwd, config.memory_repo_path),
    archive_dir: path.resolve(cwd, config.archive_dir),
  };
}

/** Resolves once SIGINT or SIGTERM arrives (listeners removed afterwards). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
