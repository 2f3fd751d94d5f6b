import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync, type Stats } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { logger } from '../common/logger.js';
import type { ProjectFile } from './project-files.js';

/** What the project's directory is before anything is written. */
export type TargetState = 'absent' | 'empty' | 'non-empty';

/** How many of a directory's entries an error lists. */
const LISTED_ENTRIES = 5;

/**
 * What is at `directory` (absolute; `given` is how the user wrote it, for messages): nothing, an
 * empty directory, or a non-empty one, which is refused unless `force`. A file or anything else
 * that is not a directory is refused.
 */
export function inspectTarget(directory: string, given: string, force: boolean): TargetState {
  if (!existsSync(directory)) return 'absent';
  if (!statSync(directory).isDirectory())
    throw invalidPath(`--path ${quote(given)} is not a directory (${directory})`);
  const entries = readdirSync(directory).sort();
  if (entries.length === 0) return 'empty';
  if (force) return 'non-empty';
  throw invalidPath(
    `--path ${quote(given)} is not empty (${directory} holds ${listEntries(entries)}); ` +
      'choose a new or empty directory, or add --force to write the project into it, replacing files of the same names',
  );
}

/**
 * Throws when a project file cannot replace what is at its path in `directory`: a directory where
 * a file goes, or a file where a directory goes (`generators` as a file). Lists every clash.
 */
export function assertNoClashes(directory: string, files: readonly ProjectFile[], given: string): void {
  const clashes = new Set<string>();
  for (const file of files) {
    const parts = file.path.split('/');
    for (let depth = 1; depth <= parts.length; depth++) {
      const relative = parts.slice(0, depth).join('/');
      const entry = statOrNull(path.join(directory, relative));
      if (entry === null) break;
      const wantsDirectory = depth < parts.length;
      if (wantsDirectory === entry.isDirectory()) continue;
      clashes.add(`${relative} is ${wantsDirectory ? 'not a directory' : 'a directory'}`);
      break;
    }
  }
  if (clashes.size > 0)
    throw invalidPath(
      `cannot write the project into --path ${quote(given)} (${directory}): ${[...clashes].join('; ')}`,
    );
}

/**
 * Writes `files` into `directory` so that a failure leaves nothing behind. Every file is first
 * written to a staging directory; an absent `directory` is then that staging directory renamed
 * (one step), an existing one gets each file moved in, and a failure while moving puts back what
 * was there. Returns the paths of existing files the project replaced.
 */
export async function writeProject(
  directory: string,
  files: readonly ProjectFile[],
  state: TargetState,
): Promise<{ readonly replaced: string[] }> {
  if (state === 'absent') {
    await writeNewDirectory(directory, files);
    return { replaced: [] };
  }
  return writeIntoDirectory(directory, files);
}

async function writeNewDirectory(directory: string, files: readonly ProjectFile[]): Promise<void> {
  const parent = path.dirname(directory);
  const createdParent = await mkdir(parent, { recursive: true });
  const staging = stagingPath(parent, `.${path.basename(directory)}`);
  try {
    await writeFiles(staging, files);
    await rename(staging, directory);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (createdParent !== undefined) await rm(createdParent, { recursive: true, force: true });
    throw error;
  }
}

/** A file moved into the project directory, with where what it replaced was put, so it can be undone. */
interface Move {
  readonly target: string;
  /** Where the file it replaced went, once it is there. */
  backup: string | null;
  /** Whether the new file got there (a failure can come between the backup and the move). */
  placed: boolean;
}

async function writeIntoDirectory(
  directory: string,
  files: readonly ProjectFile[],
): Promise<{ readonly replaced: string[] }> {
  const staging = stagingPath(directory, '');
  const moves: Move[] = [];
  const createdDirectories: string[] = [];
  try {
    await writeFiles(path.join(staging, 'new'), files);
    for (const file of files) {
      await makeParents(directory, file.path, createdDirectories);
      await moveIn(directory, staging, file.path, moves);
    }
  } catch (error) {
    const unrestored = await undoMoves(moves, createdDirectories);
    if (unrestored.length > 0) {
      // The staging directory holds the files that could not be put back: keep it.
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `writing the project into ${directory} failed (${reason}), and putting back ${unrestored.join(', ')} failed too: they are in ${path.join(staging, 'old')}`,
        { cause: error },
      );
    }
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await rm(staging, { recursive: true, force: true });
  return {
    replaced: moves
      .filter((move) => move.backup !== null)
      .map((move) => path.relative(directory, move.target).split(path.sep).join('/')),
  };
}

/**
 * Moves the staged file `relative` into `directory`, the file it replaces into the staging
 * directory's `old/`, and records each step in `moves` as soon as it is done.
 */
async function moveIn(directory: string, staging: string, relative: string, moves: Move[]): Promise<void> {
  const parts = relative.split('/');
  const move: Move = { target: path.join(directory, ...parts), backup: null, placed: false };
  moves.push(move);
  if (existsSync(move.target)) {
    const backup = path.join(staging, 'old', ...parts);
    await mkdir(path.dirname(backup), { recursive: true });
    await rename(move.target, backup);
    move.backup = backup;
  }
  await rename(path.join(staging, 'new', ...parts), move.target);
  move.placed = true;
}

/**
 * Puts back what the moves replaced and removes what they created, newest first, going on past a
 * step that fails. Returns the replaced files it could not put back.
 */
async function undoMoves(moves: readonly Move[], createdDirectories: readonly string[]): Promise<string[]> {
  const unrestored: string[] = [];
  for (const move of [...moves].reverse()) {
    try {
      if (move.placed) await rm(move.target, { force: true });
      if (move.backup !== null) await rename(move.backup, move.target);
    } catch (error) {
      logger.warn({ file: move.target, err: error }, 'init: could not undo writing a file');
      if (move.backup !== null) unrestored.push(move.target);
    }
  }
  for (const created of [...createdDirectories].reverse()) {
    await rm(created, { recursive: true, force: true }).catch((error: unknown) =>
      logger.warn({ directory: created, err: error }, 'init: could not remove a directory it created'),
    );
  }
  return unrestored;
}

/** Creates the missing directories of `relative` under `root`, recording each one created. */
async function makeParents(root: string, relative: string, created: string[]): Promise<void> {
  const parts = relative.split('/').slice(0, -1);
  for (let depth = 1; depth <= parts.length; depth++) {
    const directory = path.join(root, ...parts.slice(0, depth));
    if (existsSync(directory)) continue;
    await mkdir(directory);
    created.push(directory);
  }
}

async function writeFiles(root: string, files: readonly ProjectFile[]): Promise<void> {
  for (const file of files) {
    const target = path.join(root, ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content, { flag: 'wx' });
  }
}

/** A fresh path next to (or in) the project for staging its files; the name starts with a dot. */
function stagingPath(parent: string, prefix: string): string {
  return path.join(parent, `${prefix}.qmtl-init-${randomBytes(4).toString('hex')}`);
}

/** What is at `file` (links followed), or null when nothing is. */
function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}

function listEntries(entries: readonly string[]): string {
  const shown = entries.slice(0, LISTED_ENTRIES).join(', ');
  const more = entries.length - LISTED_ENTRIES;
  return more > 0 ? `${shown} and ${more} more` : shown;
}

function invalidPath(message: string): QmtlError {
  return new QmtlError(ErrorCode.InvalidArgument, message);
}
