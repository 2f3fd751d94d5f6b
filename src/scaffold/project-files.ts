import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { projectPackageJson, qmtlDependency } from './project-package.js';
import { SAMPLE_CSV_PATH, sampleOhlcvCsv, sampleRange } from './sample-data.js';
import { TEMPLATES, templatesDirectory, type TemplateName } from './templates.js';

/** One file of a new project: its path relative to the project (`/`-separated) and its text. */
export interface ProjectFile {
  readonly path: string;
  readonly content: string;
}

/** What {@link projectFiles} builds. */
export interface ProjectSpec {
  readonly template: TemplateName;
  /** The package name, also the README's title. */
  readonly name: string;
  /** Adds the sample market's bars as {@link SAMPLE_CSV_PATH}. */
  readonly withSampleData: boolean;
  /** The version range or `file:` path of the qmtl dependency; default {@link qmtlDependency}. */
  readonly qmtl?: string;
}

/**
 * Template files whose name differs in the project: npm leaves `.gitignore` out of a published
 * package, so the template ships it without the dot.
 */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/**
 * Every file of a new project, sorted by path, built in memory: the `common/` template files
 * overlaid by the template's own, a `package.json`, and with sample data the CSV. `{{name}}`-style
 * placeholders in the text are filled in.
 */
export function projectFiles(spec: ProjectSpec): ProjectFile[] {
  const root = templatesDirectory();
  const files = new Map<string, string>([
    ...readTree(path.join(root, 'common')),
    ...readTree(path.join(root, spec.template)),
  ]);
  files.set('package.json', projectPackageJson(spec.name, spec.qmtl ?? qmtlDependency()));
  if (spec.withSampleData) files.set(SAMPLE_CSV_PATH, sampleOhlcvCsv());
  const values: Record<string, string> = {
    name: spec.name,
    template: spec.template,
    description: TEMPLATES[spec.template],
    ...sampleRange(),
  };
  return [...files]
    .map(([file, content]) => ({ path: file, content: fillPlaceholders(content, values) }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The files under `directory` as `[relative path, text]`, `/`-separated, renamed per {@link RENAMED}. */
function readTree(directory: string): [string, string][] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((file) => statSync(path.join(directory, file)).isFile())
    .map((file) => {
      const parts = file.split(path.sep);
      const base = parts.pop()!;
      const relative = [...parts, RENAMED[base] ?? base].join('/');
      return [relative, readFileSync(path.join(directory, file), 'utf8')];
    });
}

function fillPlaceholders(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (match, key: string) => values[key] ?? match);
}
