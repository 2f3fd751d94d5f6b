import path from 'node:path';
import { Option, type Command } from 'commander';
import { ErrorCode, QmtlError } from '../common/errors.js';
import { packageVersion } from '../common/package-version.js';
import { checkProjectPath, createProject, type CreatedProject } from '../scaffold/create-project.js';
import { SAMPLE_CSV_PATH, SAMPLE_MARKET } from '../scaffold/sample-data.js';
import { DEFAULT_TEMPLATE, TEMPLATE_NAMES, TEMPLATES } from '../scaffold/templates.js';
import type { CliIo } from './cli-io.js';
import { checkUsage } from './usage-error.js';

/** The arguments of `qmtl init`, as parsed. */
export interface InitCommandOptions {
  readonly path?: string;
  readonly strategy: string;
  readonly withSampleData?: boolean;
  readonly listTemplates?: boolean;
  readonly force?: boolean;
}

/** Registers `qmtl init --path DIR [--strategy NAME] [--with-sample-data] [--force]` and `qmtl init --list-templates` (SPEC §7). */
export function registerInitCommand(program: Command, io: CliIo): void {
  program
    .command('init')
    .description('Create a strategy project from a template, ready to backtest')
    .option('--path <dir>', 'directory of the new project (created; an existing one must be empty)')
    .addOption(
      new Option('--strategy <template>', 'the template (list them with --list-templates)')
        .choices(TEMPLATE_NAMES)
        .default(DEFAULT_TEMPLATE),
    )
    .option('--with-sample-data', `also write ${SAMPLE_CSV_PATH}: one day of seeded one-minute OHLCV bars`)
    .option('--force', 'write into a non-empty directory, replacing files of the same names')
    .option('--list-templates', 'print the templates with a line about each, and exit')
    .action(async (options: InitCommandOptions) => {
      if (options.listTemplates === true) {
        io.stdout.write(formatTemplateList());
        return;
      }
      const projectPath = checkUsage(() => requirePath(options.path));
      const project = await createProject({
        path: projectPath,
        template: options.strategy,
        withSampleData: options.withSampleData === true,
        force: options.force === true,
        ...(io.cwd !== undefined && { cwd: io.cwd }),
      });
      io.stdout.write(formatCreated(project, projectPath, io.cwd ?? process.cwd()));
    });
}

/** `--path`, which every use but `--list-templates` needs, naming a directory. */
function requirePath(value: string | undefined): string {
  if (value === undefined)
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      'qmtl init needs --path DIR, the directory of the new project (or --list-templates)',
    );
  checkProjectPath(value);
  return value;
}

/** One line per template: its name, padded, and what it holds. */
export function formatTemplateList(): string {
  const width = Math.max(...TEMPLATE_NAMES.map((name) => name.length));
  return TEMPLATE_NAMES.map((name) => {
    const note = name === DEFAULT_TEMPLATE ? ' (default)' : '';
    return `${name.padEnd(width)}  ${TEMPLATES[name]}${note}\n`;
  }).join('');
}

/** What was written, and the commands that run it. */
function formatCreated(project: CreatedProject, given: string, cwd: string): string {
  const replaced = new Set(project.replaced);
  const lines = [`Created a ${project.template} project in ${project.directory}:`];
  for (const file of project.files) {
    const notes = [
      ...(file === SAMPLE_CSV_PATH ? [`${SAMPLE_MARKET.bars.toLocaleString('en-US')} one-minute bars`] : []),
      ...(replaced.has(file) ? ['replaced'] : []),
    ];
    lines.push(`  ${file}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`);
  }
  const cd = path.relative(cwd, project.directory) === '' ? [] : [`  cd ${shellWord(given)}`];
  if (project.qmtlDependency.startsWith('file:'))
    lines.push(
      '',
      `package.json depends on this qmtl checkout ("qmtl": "${project.qmtlDependency}"), as its version`,
      `may not be published; make it "^${packageVersion()}" to use the published package.`,
    );
  lines.push('', 'Next:', ...cd, '  npm install', '  npm run backtest', '');
  return lines.join('\n');
}

/** `word` quoted for a POSIX shell when it needs it. */
function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
