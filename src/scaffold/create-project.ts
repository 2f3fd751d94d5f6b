import path from 'node:path';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { projectFiles } from './project-files.js';
import { projectPackageName, qmtlDependency } from './project-package.js';
import { DEFAULT_TEMPLATE, isTemplateName, TEMPLATE_NAMES, type TemplateName } from './templates.js';
import { assertNoClashes, inspectTarget, writeProject } from './write-project.js';

/** Options of {@link createProject}. */
export interface CreateProjectOptions {
  /** The project's directory, as the user wrote it; relative to `cwd`. */
  readonly path: string;
  /** Default {@link DEFAULT_TEMPLATE}. */
  readonly template?: string;
  /** Also write the sample market's bars to `data/sample_ohlcv.csv`. */
  readonly withSampleData?: boolean;
  /** Write into a non-empty directory, replacing files of the same names. */
  readonly force?: boolean;
  /** Default `process.cwd()`. */
  readonly cwd?: string;
}

/** What {@link createProject} wrote. */
export interface CreatedProject {
  /** The project's directory, absolute. */
  readonly directory: string;
  readonly template: TemplateName;
  /** The files written, relative to the directory, sorted. */
  readonly files: readonly string[];
  /** Existing files the project replaced (only with `force`). */
  readonly replaced: readonly string[];
  /** What its package.json depends on for qmtl: `^version`, or `file:` and this checkout. */
  readonly qmtlDependency: string;
}

/**
 * Creates a strategy project from a template (SPEC §7): `strategy.ts`, `history.ts`, `qmtl.yml`,
 * `package.json`, `tsconfig.json`, `README.md`, `.gitignore`, `generators/`, `indicators/`,
 * `transforms/`, and with sample data `data/sample_ohlcv.csv`. Everything is checked before
 * anything is written, and a failure while writing leaves nothing behind.
 *
 * @example
 * const project = await createProject({ path: 'my-strategy', template: 'multi_indicator', withSampleData: true });
 * project.files; // ['.gitignore', 'README.md', 'data/sample_ohlcv.csv', …]
 * @throws QmtlError `QMTL_INVALID_ARGUMENT` for an unknown template, or a path that is a file or a non-empty directory (without `force`).
 */
export async function createProject(options: CreateProjectOptions): Promise<CreatedProject> {
  const template = options.template ?? DEFAULT_TEMPLATE;
  if (!isTemplateName(template))
    throw new QmtlError(
      ErrorCode.InvalidArgument,
      `unknown template ${quote(template)}; the templates are ${TEMPLATE_NAMES.join(', ')}`,
    );
  checkProjectPath(options.path);
  const directory = path.resolve(options.cwd ?? process.cwd(), options.path);
  const state = inspectTarget(directory, options.path, options.force === true);
  const qmtl = qmtlDependency();
  const files = projectFiles({
    template,
    name: projectPackageName(directory),
    withSampleData: options.withSampleData === true,
    qmtl,
  });
  if (state === 'non-empty') assertNoClashes(directory, files, options.path);
  const { replaced } = await writeProject(directory, files, state);
  return { directory, template, files: files.map((file) => file.path), replaced, qmtlDependency: qmtl };
}

/**
 * Throws when `projectPath` (as the user wrote it) cannot name a directory: it is empty. Looks at
 * the string alone, not at the file system.
 */
export function checkProjectPath(projectPath: string): void {
  if (projectPath.trim() === '')
    throw new QmtlError(ErrorCode.InvalidArgument, `--path must name a directory, got ${quote(projectPath)}`);
}
