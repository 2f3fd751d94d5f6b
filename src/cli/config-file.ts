import path from 'node:path';
import { defaultConfig, findConfigFile, loadConfig, type QmtlConfig } from '../common/config.js';
import { logger } from '../common/logger.js';

/** The config of a service command: `--config FILE`, else `qmtl.yml` in `cwd`, else the embedded defaults. */
export function serviceConfig(configOption: string | undefined, cwd: string): QmtlConfig {
  const file = configOption ?? findConfigFile(cwd);
  if (file === null) return defaultConfig();
  const config = loadConfig(file, cwd);
  logger.info({ config: path.resolve(cwd, file) }, 'using config file');
  return config;
}

/**
 * The directory relative paths of the config (journal, archive, SQLite file) are resolved
 * against: the config file's, so the service finds the same files from any working directory;
 * `cwd` when no file is used.
 */
export function configDirectory(configOption: string | undefined, cwd: string): string {
  const file = configFileOf(configOption, cwd);
  return file === null ? cwd : path.dirname(file);
}

function configFileOf(configOption: string | undefined, cwd: string): string | null {
  return configOption === undefined ? findConfigFile(cwd) : path.resolve(cwd, configOption);
}

/**
 * Resolves relative paths of a DAG Manager config against `directory` (see
 * {@link configDirectory}), so a service started elsewhere finds its journal and archive.
 */
export function resolvePaths<T extends { memory_repo_path: string; archive_dir: string }>(
  config: T,
  directory: string,
): T {
  return {
    ...config,
    memory_repo_path: path.resolve(directory, config.memory_repo_path),
    archive_dir: path.resolve(directory, config.archive_dir),
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
