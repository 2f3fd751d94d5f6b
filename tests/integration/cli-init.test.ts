import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/common/config.js';
import { packageVersion } from '../../src/common/package-version.js';
import { COMMON_PROJECT_FILES } from '../../src/scaffold/project-layout.test-kit.js';
import { TEMPLATE_NAMES } from '../../src/scaffold/templates.js';
import { runQmtl } from '../support/cli-in-process.js';

const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-cli-init-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Every file under `directory`, `/`-separated, sorted. */
function filesOf(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) =>
      path.relative(directory, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
    )
    .sort();
}

describe('qmtl init --list-templates', () => {
  it('prints every template with a one-line description, without --path', async () => {
    const { code, stdout, stderr } = await runQmtl(['init', '--list-templates'], workDir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.split(/\s+/)[0])).toEqual(TEMPLATE_NAMES);
    for (const line of lines) expect(line).toMatch(/^\w+\s{2,}\S.{10,}$/);
    expect(lines[0]).toMatch(/^general .*\(default\)$/);
  });
});

describe('qmtl init --path', () => {
  it('creates a project with the common files and the strategy, and says how to run it', async () => {
    const { code, stdout, stderr } = await runQmtl(['init', '--path', 'plain'], workDir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const directory = path.join(workDir, 'plain');
    expect(filesOf(directory)).toEqual(COMMON_PROJECT_FILES);
    expect(readFileSync(path.join(directory, 'strategy.ts'), 'utf8')).toContain(
      'export class GeneralStrategy',
    );
    expect(stdout).toContain(`Created a general project in ${directory}:\n  .gitignore\n`);
    expect(stdout).toMatch(/Next:\n {2}cd plain\n {2}npm install\n {2}npm run backtest\n$/);
  });

  it('adds data/sample_ohlcv.csv with --with-sample-data, and the files of the chosen template', async () => {
    const { code, stdout } = await runQmtl(
      ['init', '--path', 'machine', '--strategy', 'state_machine', '--with-sample-data'],
      workDir,
    );
    expect(code).toBe(0);
    const directory = path.join(workDir, 'machine');
    expect(filesOf(directory)).toEqual(
      [...COMMON_PROJECT_FILES, 'data/sample_ohlcv.csv', 'indicators/trend-state.ts'].sort(),
    );
    expect(stdout).toContain('  data/sample_ohlcv.csv (1,440 one-minute bars)\n');
    const csv = readFileSync(path.join(directory, 'data/sample_ohlcv.csv'), 'utf8').trimEnd().split('\n');
    expect(csv).toHaveLength(1441);
  });

  it('writes a package.json that runs the strategy with this qmtl: a checkout, as here, by its path', async () => {
    const { stdout } = await runQmtl(['init', '--path', 'Package Check', '--strategy', 'branching'], workDir);
    const manifest = JSON.parse(
      readFileSync(path.join(workDir, 'Package Check', 'package.json'), 'utf8'),
    ) as {
      name: string;
      type: string;
      dependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(manifest).toMatchObject({ name: 'package-check', type: 'module' });
    expect(manifest.dependencies['qmtl']).toBe(`file:${repoRoot}`);
    expect(stdout).toContain(`package.json depends on this qmtl checkout ("qmtl": "file:${repoRoot}")`);
    expect(stdout).toContain(`make it "^${packageVersion()}" to use the published package`);
    expect(manifest.scripts['backtest']).toMatch(
      /^qmtl run strategy\.ts --mode backtest --start-time \S+ --end-time \S+$/,
    );
  });

  it('writes a qmtl.yml that is valid, and whose commented examples are valid keys and values', async () => {
    await runQmtl(['init', '--path', 'config-check'], workDir);
    const file = path.join(workDir, 'config-check', 'qmtl.yml');
    const config = loadConfig(file);
    expect(config.gateway).toMatchObject({ database_backend: 'sqlite', queue_backend: 'memory' });
    expect(config.dagmanager).toMatchObject({ repo_backend: 'memory', queue_backend: 'memory' });
    let section = '';
    const examples: string[] = [];
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      section = /^(\w+):$/.exec(line)?.[1] ?? section;
      const example = /^ {2}# (\w+: .+)$/.exec(line)?.[1];
      if (example === undefined) continue;
      examples.push(example);
      expect(() => parseConfig(`${section}:\n  ${example}\n`, `${section}: ${example}`)).not.toThrow();
    }
    expect(examples).toEqual(
      expect.arrayContaining([
        'database_dsn: postgresql://postgres@127.0.0.1:5432/qmtl',
        'redis_dsn: redis://127.0.0.1:6379',
        'neo4j_dsn: bolt://127.0.0.1:7687',
        'kafka_dsn: 127.0.0.1:9092',
      ]),
    );
  });

  it('writes into an existing empty directory, such as the working directory', async () => {
    const directory = path.join(workDir, 'empty-here');
    mkdirSync(directory);
    const { code, stdout } = await runQmtl(['init', '--path', '.'], directory);
    expect(code).toBe(0);
    expect(filesOf(directory)).toEqual(COMMON_PROJECT_FILES);
    expect(stdout).not.toContain('cd ');
  });
});

describe('qmtl init refuses, before writing anything,', () => {
  it('an unknown template, naming it and listing the templates (a usage error)', async () => {
    const { code, stderr } = await runQmtl(['init', '--path', 'never', '--strategy', 'momentum'], workDir);
    expect(code).toBe(2);
    expect(stderr).toContain("'momentum' is invalid");
    expect(stderr).toContain(TEMPLATE_NAMES.join(', '));
    expect(existsSync(path.join(workDir, 'never'))).toBe(false);
  });

  it('a missing or empty --path, saying what it needs (a usage error)', async () => {
    const missing = await runQmtl(['init', '--strategy', 'branching'], workDir);
    expect(missing).toMatchObject({
      code: 2,
      stderr: 'qmtl: qmtl init needs --path DIR, the directory of the new project (or --list-templates)\n',
    });
    const empty = await runQmtl(['init', '--path', ' '], workDir);
    expect(empty).toMatchObject({ code: 2, stderr: 'qmtl: --path must name a directory, got " "\n' });
  });

  it('a non-empty directory without --force, naming it, and leaves it as it was', async () => {
    const directory = path.join(workDir, 'occupied');
    mkdirSync(directory);
    writeFileSync(path.join(directory, 'README.md'), 'mine');
    const { code, stderr } = await runQmtl(['init', '--path', 'occupied'], workDir);
    expect(code).toBe(1);
    expect(stderr).toContain(`qmtl: --path "occupied" is not empty (${directory} holds README.md)`);
    expect(stderr).toContain('--force');
    expect(filesOf(directory)).toEqual(['README.md']);
  });

  it('a path that is a file', async () => {
    writeFileSync(path.join(workDir, 'a-file'), 'x');
    const { code, stderr } = await runQmtl(['init', '--path', 'a-file'], workDir);
    expect(code).toBe(1);
    expect(stderr).toContain('qmtl: --path "a-file" is not a directory');
  });

  it('a second init into the project it made', async () => {
    expect((await runQmtl(['init', '--path', 'twice'], workDir)).code).toBe(0);
    const again = await runQmtl(['init', '--path', 'twice', '--strategy', 'branching'], workDir);
    expect(again.stderr).toContain('--path "twice" is not empty');
    expect(readFileSync(path.join(workDir, 'twice', 'strategy.ts'), 'utf8')).toContain('GeneralStrategy');
  });
});

describe('qmtl init --force', () => {
  it('writes into a non-empty directory, keeping other files and listing the ones it replaced', async () => {
    const directory = path.join(workDir, 'forced');
    mkdirSync(path.join(directory, '.git'), { recursive: true });
    writeFileSync(path.join(directory, 'README.md'), 'mine');
    writeFileSync(path.join(directory, 'notes.txt'), 'keep me');
    const { code, stdout } = await runQmtl(['init', '--path', 'forced', '--force'], workDir);
    expect(code).toBe(0);
    expect(stdout).toContain('  README.md (replaced)\n');
    expect(readFileSync(path.join(directory, 'notes.txt'), 'utf8')).toBe('keep me');
    expect(readFileSync(path.join(directory, 'README.md'), 'utf8')).toMatch(/^# forced\n/);
    expect(existsSync(path.join(directory, '.git'))).toBe(true);
  });

  it('still refuses a directory where a project file goes, naming it, and writes nothing', async () => {
    const directory = path.join(workDir, 'clash');
    mkdirSync(path.join(directory, 'strategy.ts'), { recursive: true });
    const { code, stderr } = await runQmtl(['init', '--path', 'clash', '--force'], workDir);
    expect(code).toBe(1);
    expect(stderr).toContain('strategy.ts is a directory');
    expect(readdirSync(directory)).toEqual(['strategy.ts']);
  });
});
