import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

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
