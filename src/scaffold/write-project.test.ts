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
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../common/errors.js';
import type { ProjectFile } from './project-files.js';
import { assertNoClashes, inspectTarget, writeProject } from './write-project.js';

const workDir = mkdtempSync(path.join(tmpdir(), 'qmtl-write-project-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

let directories = 0;
/** A fresh directory under the work directory holding `files` (a `null` content: a directory). */
function directoryWith(files: Record<string, string | null> = {}): string {
  const directory = path.join(workDir, `case-${(directories += 1)}`);
  mkdirSync(directory);
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(directory, file);
    if (content === null) mkdirSync(target, { recursive: true });
    else {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }
  return directory;
}

/** Every file and directory under `directory`, `/`-separated, sorted. */
function tree(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .map((entry) => entry.split(path.sep).join('/'))
    .sort();
}

const project: ProjectFile[] = [
  { path: 'README.md', content: 'new readme' },
  { path: 'generators/index.ts', content: 'export {};' },
  { path: 'strategy.ts', content: 'export class S {}' },
];
/** A path no file system takes: writing it fails after the files before it were staged. */
const unwritable: ProjectFile = { path: 'z\0bad.ts', content: '' };

describe('inspectTarget', () => {
  it('tells an absent path, an empty directory and (with force) a non-empty one', () => {
    expect(inspectTarget(path.join(workDir, 'nothing-here'), 'nothing-here', false)).toBe('absent');
    expect(inspectTarget(directoryWith(), 'empty', false)).toBe('empty');
    expect(inspectTarget(directoryWith({ 'a.txt': 'a' }), 'full', true)).toBe('non-empty');
  });

  it('refuses a non-empty directory without force, naming the path and what it holds', () => {
    const directory = directoryWith({ 'a.txt': '', 'b.txt': '', '.git': null });
    expect(() => inspectTarget(directory, 'mine', false)).toThrow(
      expect.objectContaining({
        code: ErrorCode.InvalidArgument,
        message: expect.stringContaining(
          `--path "mine" is not empty (${directory} holds .git, a.txt, b.txt)`,
        ),
      }),
    );
  });

  it('lists five entries of a larger directory and counts the rest', () => {
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [`f${k}.txt`, '']));
    expect(() => inspectTarget(directoryWith(files), 'big', false)).toThrow(
      'holds f0.txt, f1.txt, f2.txt, f3.txt, f4.txt and 3 more)',
    );
  });

  it('refuses a file', () => {
    const file = path.join(directoryWith({ 'notes.txt': 'x' }), 'notes.txt');
    expect(() => inspectTarget(file, 'notes.txt', true)).toThrow(
      `--path "notes.txt" is not a directory (${file})`,
    );
  });
});

describe('assertNoClashes', () => {
  it('accepts files that replace files, and directories that exist as directories', () => {
    const directory = directoryWith({ 'README.md': 'old', 'generators/other.ts': '' });
    expect(() => assertNoClashes(directory, project, 'p')).not.toThrow();
  });

  it('lists every file that would go where a directory is, or under a file', () => {
    const directory = directoryWith({ 'strategy.ts': null, generators: 'a file' });
    expect(() => assertNoClashes(directory, project, 'p')).toThrow(
      `cannot write the project into --path "p" (${directory}): generators is not a directory; strategy.ts is a directory`,
    );
  });
});

describe('writeProject', () => {
  it('creates an absent directory, and its missing parents, with the files', async () => {
    const directory = path.join(directoryWith(), 'a', 'b', 'project');
    expect(await writeProject(directory, project, 'absent')).toEqual({ replaced: [] });
    expect(tree(directory)).toEqual(['README.md', 'generators', 'generators/index.ts', 'strategy.ts']);
    expect(readFileSync(path.join(directory, 'strategy.ts'), 'utf8')).toBe('export class S {}');
  });

  it('writes into an existing directory, keeping other files and reporting the ones it replaced', async () => {
    const directory = directoryWith({ 'README.md': 'old', 'notes.txt': 'mine' });
    expect(await writeProject(directory, project, 'non-empty')).toEqual({ replaced: ['README.md'] });
    expect(tree(directory)).toEqual([
      'README.md',
      'generators',
      'generators/index.ts',
      'notes.txt',
      'strategy.ts',
    ]);
    expect(readFileSync(path.join(directory, 'README.md'), 'utf8')).toBe('new readme');
  });

  it('leaves nothing behind when a file cannot be written: not the directory, its parents or a staging directory', async () => {
    const root = directoryWith();
    const directory = path.join(root, 'parent', 'project');
    await expect(writeProject(directory, [...project, unwritable], 'absent')).rejects.toThrow();
    expect(tree(root)).toEqual([]);
  });

  it('leaves an existing directory as it was when a file cannot be written', async () => {
    const directory = directoryWith({ 'README.md': 'old' });
    await expect(writeProject(directory, [...project, unwritable], 'non-empty')).rejects.toThrow();
    expect(tree(directory)).toEqual(['README.md']);
    expect(readFileSync(path.join(directory, 'README.md'), 'utf8')).toBe('old');
  });

  it('puts back what it replaced and removes what it created when moving a file in fails', async () => {
    // `generators` is a file, so moving generators/index.ts in fails after README.md was replaced.
    const directory = directoryWith({ 'README.md': 'old', generators: 'a file' });
    const files = [project[0]!, { path: 'data/x.csv', content: 'ts\n' }, project[1]!];
    await expect(writeProject(directory, files, 'non-empty')).rejects.toThrow();
    expect(tree(directory)).toEqual(['README.md', 'generators']);
    expect(readFileSync(path.join(directory, 'README.md'), 'utf8')).toBe('old');
    expect(readFileSync(path.join(directory, 'generators'), 'utf8')).toBe('a file');
  });

  it('never leaves its staging directory in the project', async () => {
    const directory = directoryWith();
    await writeProject(directory, project, 'empty');
    expect(existsSync(directory)).toBe(true);
    expect(tree(directory).filter((entry) => entry.includes('qmtl-init'))).toEqual([]);
  });
});
