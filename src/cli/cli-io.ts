/** A stream the CLI writes to; `isTTY` decides whether progress lines are drawn. */
export type CliOutput = NodeJS.WritableStream & { readonly isTTY?: boolean };

/**
 * Where a CLI invocation writes and which directory it works in: the process's streams and
 * working directory by default, `PassThrough` streams and a temp directory in tests.
 */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Directory that relative paths (strategy files, `--config`, `qmtl.yml`) resolve against; default `process.cwd()`. */
  readonly cwd?: string;
}

/** The process's own streams. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}
