import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_NAMES, type TemplateName } from '../../src/scaffold/templates.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = path.join(root, 'dist', 'cli', 'main.js');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-init-e2e-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs `node script …args` in `cwd`; never throws for a non-zero exit. */
async function node(
  script: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], {
      cwd,
      env: { ...process.env, QMTL_LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * Makes `qmtl` resolvable from the project as `npm install` would: node_modules/qmtl is this
 * repository (its package.json exports point at dist/), and node_modules/@types its Node types.
 */
function installQmtl(project: string): void {
  mkdirSync(path.join(project, 'node_modules'));
  symlinkSync(root, path.join(project, 'node_modules', 'qmtl'), 'dir');
  symlinkSync(path.join(root, 'node_modules', '@types'), path.join(project, 'node_modules', '@types'), 'dir');
}

/** The project's `npm run backtest`, run with the built bin: its script's arguments after `qmtl`. */
function backtestArgs(project: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(project, 'package.json'), 'utf8')) as {
    scripts: { backtest: string };
  };
  const [command, ...args] = manifest.scripts.backtest.split(' ');
  expect(command).toBe('qmtl');
  return args;
}

interface RunSummary {
  strategies: string[];
  bars: number;
  historyGaps: unknown[];
  nodeStats: { name: string; skips: number; gaps: number }[];
  outputs: { name: string; length: number }[];
}

const STRATEGY_CLASSES: Record<TemplateName, string> = {
  general: 'GeneralStrategy',
  single_indicator: 'SingleIndicatorStrategy',
  multi_indicator: 'MultiIndicatorStrategy',
  branching: 'BranchingStrategy',
  state_machine: 'StateMachineStrategy',
};

describe.concurrent('a project made by qmtl init', () => {
  beforeAll(async () => {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run "npm run build" first`);
    // The built bin, so the templates must be found from dist/ as in an installed package.
    const made = await Promise.all(
      TEMPLATE_NAMES.map((template) =>
        node(bin, ['init', '--path', template, '--strategy', template, '--with-sample-data'], workDir),
      ),
    );
    for (const [k, template] of TEMPLATE_NAMES.entries()) {
      expect(made[k], template).toMatchObject({ code: 0, stderr: '' });
      installQmtl(path.join(workDir, template));
    }
  });

  it.each(TEMPLATE_NAMES)(
    '%s: backtests the sample data with its backtest script, out of the box',
    async (template) => {
      const project = path.join(workDir, template);
      const { code, stdout, stderr } = await node(bin, [...backtestArgs(project), '--json'], project);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as RunSummary;
      expect(summary).toMatchObject({
        strategies: [STRATEGY_CLASSES[template]],
        bars: 1440,
        historyGaps: [],
      });
      expect(summary.nodeStats.filter((stats) => stats.skips > 0 || stats.gaps > 0)).toEqual([]);
      expect(summary.outputs.length).toBeGreaterThan(0);
      for (const output of summary.outputs) expect(output.length, output.name).toBeGreaterThan(0);
    },
  );

  it('type-check, every template, with the tsconfig.json they come with', async () => {
    // One compiler run over all projects: each resolves qmtl through its own node_modules.
    writeFileSync(
      path.join(workDir, 'tsconfig.json'),
      JSON.stringify({
        extends: './general/tsconfig.json',
        compilerOptions: { typeRoots: [path.join(root, 'node_modules', '@types')] },
        include: TEMPLATE_NAMES.map((template) => `${template}/**/*.ts`),
        exclude: ['*/node_modules'],
      }),
    );
    const { code, stdout } = await node(tsc, ['-p', workDir], workDir);
    expect(stdout).toBe('');
    expect(code).toBe(0);
  });

  it('runs without the sample CSV, on the same market generated in memory', async () => {
    const project = path.join(workDir, 'no-data');
    expect((await node(bin, ['init', '--path', project, '--strategy', 'state_machine'], workDir)).code).toBe(
      0,
    );
    installQmtl(project);
    const { code, stdout, stderr } = await node(bin, [...backtestArgs(project), '--json'], project);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    expect(summary).toMatchObject({ bars: 1440, historyGaps: [] });
    expect(summary.outputs[0]!.length).toBeGreaterThan(0);
  });
});
