#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { QmtlError } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { packageVersion } from '../common/package-version.js';
import { processIo, type CliIo } from './cli-io.js';
import { registerDagmCommand } from './dagm-command.js';
import { registerDagManagerServerCommand } from './dagmgr-server-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerGatewayCommands } from './gw-command.js';
import { registerInitCommand } from './init-command.js';
import { registerRunCommand } from './run-command.js';
import { UsageError } from './usage-error.js';

export type { CliIo } from './cli-io.js';

/**
 * Commands that log their progress at `info` unless `QMTL_LOG_LEVEL` says otherwise. Not `demo`:
 * its report is the output, and JSON log lines above it would only clutter the terminal.
 */
const VERBOSE_COMMANDS = new Set(['run', 'dagmgr-server', 'gw', 'up']);

/**
 * Exit code of a usage error, as most CLIs use: the command line is wrong by itself (an unknown
 * command or option, a missing argument, a flag value refused, flags that do not go together).
 */
const USAGE_ERROR = 2;

/** Exit code of a command that failed once it ran. */
const FAILURE = 1;

const EXIT_CODES_HELP =
  'Exit codes: 0 success; 1 the command failed; 2 the command line is wrong (a flag, its value, or flags that do not go together).';

/**
 * The `qmtl` command line: one subcommand per file in `src/cli/`. Output goes to `io`, so tests run
 * it in-process.
 */
export function createProgram(io: CliIo): Command {
  const program = new Command('qmtl')
    .description(
      'Run trading strategies as DAGs of content-addressed nodes; identical nodes are computed once across strategies.',
    )
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\n${EXIT_CODES_HELP}`);
  program.hook('preAction', (_program, command) => {
    if (VERBOSE_COMMANDS.has(command.name()) && process.env['QMTL_LOG_LEVEL'] === undefined) {
      logger.level = 'info';
    }
  });
  registerInitCommand(program, io);
  registerRunCommand(program, io);
  registerDemoCommand(program, io);
  registerDagManagerServerCommand(program, io);
  registerGatewayCommands(program, io);
  registerDagmCommand(program, io);
  return program;
}

/**
 * Runs the CLI with `argv` (the arguments after `qmtl`) and returns the exit code: 0 on success, 1
 * when the command fails, 2 on a usage error (the argument parser's, or a {@link UsageError}).
 * Never calls `process.exit`.
 *
 * @example
 * const code = await main(['run', 'strategy.ts', '--mode', 'offline']);
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    await createProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    return reportError(error, io);
  }
}

/** Prints a failure as `qmtl: message`; stacks only with `QMTL_DEBUG=1`. Returns the exit code. */
function reportError(error: unknown, io: CliIo): number {
  // Commander has already printed its message (and help) through configureOutput.
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_ERROR;
  const debug = process.env['QMTL_DEBUG'] === '1';
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`qmtl: ${message}\n`);
  if (debug) {
    // A QmtlError's own stack is noise; the cause (a strategy's import failure, say) is what helps.
    const traced = isQmtlError(error) || error instanceof UsageError ? error.cause : error;
    if (traced instanceof Error && traced.stack !== undefined) io.stderr.write(`${traced.stack}\n`);
  }
  return error instanceof UsageError ? USAGE_ERROR : FAILURE;
}

/** Also true for a QmtlError of another copy of qmtl (a strategy importing a second install). */
function isQmtlError(error: unknown): error is Error {
  return error instanceof QmtlError || (error instanceof Error && error.name === 'QmtlError');
}

/** True when this module is the script node was started with; npm's bin is a symlink, hence realpath. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

/**
 * Runs {@link main} as the process's command. When Node's event loop runs dry while the command
 * is still pending, no callback is left that could ever settle it (a strategy, provider or fetcher
 * awaiting a promise that never resolves): Node would then end the process silently with code 13
 * (unsettled top-level await). Say so and exit 1 instead.
 */
async function runAsCommand(): Promise<void> {
  let settled = false;
  const onIdle = (): void => {
    if (settled) return;
    process.stderr.write(
      'qmtl: the run never finished: a promise never settled and nothing was left to wait for ' +
        '(a strategy, history provider or fetcher awaiting something that never answers)\n',
    );
    process.exit(1);
  };
  process.on('beforeExit', onIdle);
  try {
    process.exitCode = await main(process.argv.slice(2));
  } finally {
    settled = true;
    process.off('beforeExit', onIdle);
  }
}

if (isEntryPoint()) await runAsCommand();
