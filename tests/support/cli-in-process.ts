import { Writable } from 'node:stream';
import { afterEach, beforeEach, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { logger } from '../../src/common/logger.js';

/** What one in-process `qmtl` call printed, and its exit code. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `qmtl …args` in this process, in `cwd`, and returns what it printed and its exit code. */
export async function runQmtl(args: string[], cwd: string): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const collect = (chunks: string[]): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
  const code = await main(args, { stdout: collect(stdout), stderr: collect(stderr), cwd });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/**
 * Keeps the log silent in every test of the calling file: the commands raise it to `info` unless
 * `QMTL_LOG_LEVEL` is set, and their log lines would bury the test output.
 */
export function silenceLogsInEachTest(): void {
  beforeEach(() => {
    vi.stubEnv('QMTL_LOG_LEVEL', 'silent');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    logger.level = 'silent';
  });
}
