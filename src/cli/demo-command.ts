import { InvalidArgumentError, type Command } from 'commander';
import type { CliIo } from './cli-io.js';

/** The arguments of `qmtl demo`, as parsed. */
export interface DemoCommandOptions {
  readonly bars?: number;
  readonly json?: boolean;
}

/** Registers `qmtl demo [--bars N] [--json]`: the main job, three strategies sharing nodes over generated bars. */
export function registerDemoCommand(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'Backtest three strategies that share nodes over generated GARCH bars and report what sharing saved',
    )
    .option('--bars <n>', 'one-minute bars to generate (default 200,000)', parsePositiveInteger)
    .option('--json', 'print one JSON object instead of the text report')
    .action(async (options: DemoCommandOptions) => {
      // Imported on use, so other commands never load the demo's generators.
      const { runDemo } = await import('../demo/main-job.js');
      await runDemo({
        ...(options.bars !== undefined && { bars: options.bars }),
        json: options.json === true,
        out: io.stdout,
      });
    });
}

/** Parses `--bars`: a positive integer, else a usage error naming the value. */
export function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError(`must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return number;
}
