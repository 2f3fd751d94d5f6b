import path from 'node:path';
import { Option, type Command } from 'commander';
import { findConfigFile, loadConfig } from '../common/config.js';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import { parseTime } from '../common/time.js';
import type { ReplayProgress } from '../sdk/runner/replay.js';
import { resolveRunOptions, RunMode, type RunOptions } from '../sdk/runner/run-options.js';
import { Runner } from '../sdk/runner/runner.js';
import { LiveRun } from '../sdk/live/live-run.js';
import { HttpBroker } from '../sdk/execution/http-broker.js';
import { OnMissing } from '../sdk/runner/tick-engine.js';
import type { CliIo } from './cli-io.js';
import { formatProgress, formatRunSummary, runSummaryJson, summarizeRun } from './format-run-summary.js';
import { loadStrategy } from './load-strategy.js';
import { checkUsage } from './usage-error.js';

/** The arguments of `qmtl run`, as parsed. */
export interface RunCommandOptions {
  /** `file[:ExportName]`. */
  readonly target: string;
  readonly mode: RunMode;
  readonly startTime?: string;
  readonly endTime?: string;
  readonly onMissing?: OnMissing;
  readonly gatewayUrl?: string;
  /** Topic bus of a dry-run or live run with a Gateway. */
  readonly busDsn?: string;
  /** Fee and slippage of the simulated / paper broker, in basis points. */
  readonly feeBps?: string;
  readonly slippageBps?: string;
  /** Live runs: the HTTP venue order nodes send orders to (an `HttpBroker`). */
  readonly brokerUrl?: string;
  /** Live runs: `SYMBOL=QUANTITY` the venue already holds (repeatable). */
  readonly position?: readonly string[];
  /** Worker threads for nodes that declare a `worker` module (backtest, offline). */
  readonly workers?: string;
  /** Config file; default `qmtl.yml` / `qmtl.yaml` in the working directory when present. */
  readonly config?: string;
  /** Print one JSON object instead of the text report. */
  readonly json?: boolean;
}

/** Registers `qmtl run <file>[:Export] --mode …` (SPEC §7) on the program. */
export function registerRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description(
      'Run a strategy: replay history (backtest, offline) or go live on its feeds (dryrun, live; Ctrl-C stops), then print a summary',
    )
    .argument('<file>', 'strategy module (.ts, .mts, .js, .mjs), optionally file:ExportName')
    .addOption(
      new Option('--mode <mode>', 'how to run').choices(Object.values(RunMode)).makeOptionMandatory(),
    )
    .option(
      '--start-time <time>',
      'first bucket (live: first live bucket, default now): epoch seconds or ISO-8601',
    )
    .option('--end-time <time>', 'last bucket, inclusive (live: stop after it): epoch seconds or ISO-8601')
    .addOption(
      new Option('--on-missing <policy>', 'what a missing upstream bucket does')
        .choices(Object.values(OnMissing))
        .default(OnMissing.Skip),
    )
    .option('--gateway-url <url>', 'submit to a Gateway instead of running embedded')
    .option(
      '--bus-dsn <dsn>',
      'topic bus of a dryrun/live run with a Gateway: kafka://host:port or redis://host:port',
    )
    .option('--fee-bps <bps>', 'backtest and dry-run orders: fee in basis points of the notional (default 0)')
    .option(
      '--slippage-bps <bps>',
      'backtest and dry-run orders: slippage in basis points of the price (default 0)',
    )
    .option(
      '--broker-url <url>',
      'live runs with order nodes: the HTTP venue orders are POSTed to ({url}/orders)',
    )
    .option(
      '--position <symbol=quantity>',
      'live runs: a position the venue already holds, e.g. BTC=2 (repeatable); the order node trading it starts there',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--workers <n>',
      'worker threads for pure compute functions of nodes that declare a worker module',
    )
    .option('--config <path>', 'config file (default: qmtl.yml or qmtl.yaml in the working directory)')
    .option('--json', 'print one JSON object instead of the text summary')
    .action(async (target: string, options: Omit<RunCommandOptions, 'target'>) => {
      await runStrategyFile({ ...options, target }, io);
    });
}

/**
 * Loads the strategy of `options.target`, runs it and prints the summary (text or JSON) to
 * `io.stdout`; on a terminal, draws the replay progress on `io.stderr`.
 */
export async function runStrategyFile(options: RunCommandOptions, io: CliIo): Promise<void> {
  const cwd = io.cwd ?? process.cwd();
  const runOptions = checkUsage(() => toRunOptions(options));
  const configFile = options.config ?? findConfigFile(cwd);
  if (configFile !== null) {
    loadConfig(configFile, cwd);
    logger.info({ config: path.resolve(cwd, configFile) }, 'config file is valid');
  }
  const { strategyClass } = await loadStrategy(options.target, cwd);
  const drawProgress = io.stderr.isTTY === true;
  const onProgress = drawProgress
    ? (progress: ReplayProgress) => io.stderr.write(`\r${formatProgress(progress)}\u001b[K`)
    : undefined;
  const result = await Runner.run(strategyClass, {
    mode: options.mode,
    ...runOptions,
    ...(onProgress && { onProgress }),
  }).finally(() => {
    if (drawProgress) io.stderr.write('\r\u001b[K');
  });
  if (result instanceof LiveRun) await untilDoneOrSignal(result);
  const summary = summarizeRun(result);
  io.stdout.write(options.json === true ? `${runSummaryJson(summary)}\n` : formatRunSummary(summary));
  if (result instanceof LiveRun && result.unpublished > 0)
    throw new QmtlError(
      ErrorCode.Unavailable,
      `${result.unpublished} outputs were not published: the topic bus did not take them before the run stopped`,
    );
  if (result instanceof LiveRun && result.recordingError !== null)
    throw new QmtlError(
      ErrorCode.Unavailable,
      `the run ended with bars its event recorder did not store, lost when this process ends: ${result.recordingError.message}`,
      { cause: result.recordingError },
    );
}

/**
 * Waits for a live run to end by itself, or for Ctrl-C / SIGTERM, which stop it cleanly: the
 * strategies are stopped at the Gateway, consumers commit and producers flush; a topic bus that
 * does not take what is left gets 10 s. A second signal stops at once, abandoning those outputs;
 * a third gets Node's default (the process ends).
 */
async function untilDoneOrSignal(run: LiveRun): Promise<void> {
  let signals = 0;
  let signalled = (): void => undefined;
  const firstSignal = new Promise<void>((resolve) => (signalled = resolve));
  const onSignal = (): void => {
    signals += 1;
    if (signals === 1) {
      logger.info(
        'stopping: strategies stop at the Gateway, consumers commit, producers flush (Ctrl-C again stops at once, abandoning outputs not yet published)',
      );
      signalled();
      return;
    }
    logger.warn(
      { unpublished: run.unpublished },
      'stopping at once: outputs not yet published are abandoned',
    );
    removeListeners();
    void run.stop({ graceMs: 0 });
  };
  const removeListeners = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await Promise.race([run.done, firstSignal]);
  } finally {
    try {
      await run.stop();
    } finally {
      removeListeners();
    }
  }
}

/**
 * The run options of the flags, checked as far as the flags alone tell (the Runner checks them
 * again against the strategy). Times and numbers are parsed here so errors name the flag.
 */
function toRunOptions(options: RunCommandOptions): RunOptions {
  const startTime = flagTime(options.startTime, '--start-time');
  const endTime = flagTime(options.endTime, '--end-time');
  if (options.mode === RunMode.Backtest && (startTime === undefined || endTime === undefined)) {
    throw new QmtlError(ErrorCode.InvalidArgument, '--mode backtest needs --start-time and --end-time');
  }
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `--start-time ${quote(options.startTime)} is after --end-time ${quote(options.endTime)}`,
    );
  }
  const runOptions: RunOptions = {
    ...(startTime !== undefined && { startTime }),
    ...(endTime !== undefined && { endTime }),
    ...(options.onMissing !== undefined && { onMissing: options.onMissing }),
    ...(options.gatewayUrl !== undefined && { gatewayUrl: options.gatewayUrl }),
    ...(options.busDsn !== undefined && { busDsn: options.busDsn }),
    ...(options.workers !== undefined && { workers: flagCount(options.workers, '--workers') }),
    ...(options.brokerUrl !== undefined && { broker: new HttpBroker({ url: options.brokerUrl }) }),
    ...(options.position !== undefined &&
      options.position.length > 0 && { positions: flagPositions(options.position) }),
    paper: {
      ...(options.feeBps !== undefined && { feeBps: flagNumber(options.feeBps, '--fee-bps') }),
      ...(options.slippageBps !== undefined && {
        slippageBps: flagNumber(options.slippageBps, '--slippage-bps'),
      }),
    },
  };
  // Flags that do not go together (--mode offline --gateway-url), a malformed --bus-dsn, …
  resolveRunOptions(options.mode, runOptions);
  return runOptions;
}

/** `--position BTC=2 --position ETH=-1.5` as `{ BTC: 2, ETH: -1.5 }`. */
function flagPositions(values: readonly string[]): Record<string, number> {
  const positions: Record<string, number> = {};
  for (const value of values) {
    const match = /^([^=\s]+)=(.+)$/.exec(value);
    const quantity = Number(match?.[2]);
    if (match === null || match[2]!.trim() === '' || !Number.isFinite(quantity))
      throw new QmtlError(
        ErrorCode.InvalidArgument,
        `--position must be SYMBOL=QUANTITY (a finite number, negative when short), got ${quote(value)}`,
      );
    positions[match[1]!] = quantity;
  }
  return positions;
}

function flagNumber(value: string, flag: string): number {
  const number = Number(value);
  if (value.trim() !== '' && Number.isFinite(number) && number >= 0) return number;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `${flag} must be a non-negative number, got ${quote(value)}`,
  );
}

function flagCount(value: string, flag: string): number {
  const count = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(count)) return count;
  throw new QmtlError(
    ErrorCode.InvalidArgument,
    `${flag} must be a non-negative integer, got ${quote(value)}`,
  );
}

function flagTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTime(value, flag);
  } catch (error) {
    // A number always parses, so its error is the range check's, which says when it is epoch milliseconds.
    if (/^\s*-?\d+(\.\d+)?\s*$/.test(value)) throw error;
    throw new QmtlError(
      ErrorCode.InvalidTime,
      `${flag}: expected epoch seconds or an ISO-8601 date such as "2024-01-01T00:00:00Z", got ${quote(value)}`,
      { cause: error },
    );
  }
}
