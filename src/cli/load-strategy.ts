import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCode, QmtlError, quote } from '../common/errors.js';
import { Strategy } from '../sdk/strategy.js';

/** A Strategy subclass the Runner can construct with no arguments. */
export type StrategyClass = new () => Strategy;

/** `file[:ExportName]` of `qmtl run`, split. */
export interface StrategyTarget {
  readonly file: string;
  /** The export to run, or null to pick the default / single Strategy export. */
  readonly exportName: string | null;
}

/** What {@link loadStrategy} found. */
export interface LoadedStrategy {
  readonly strategyClass: StrategyClass;
  readonly exportName: string;
  /** The strategy file, absolute. */
  readonly file: string;
}

const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];
const JAVASCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs'];

/**
 * Splits `path/to/file.ts:ExportName`. The suffix counts as an export name only when it is an
 * identifier, so a Windows drive (`C:\x.ts`) stays part of the path.
 */
export function parseStrategyTarget(target: string): StrategyTarget {
  const match = /^(.+):([A-Za-z_$][\w$]*)$/.exec(target);
  return match ? { file: match[1]!, exportName: match[2]! } : { file: target, exportName: null };
}

/**
 * Imports a strategy module and picks the Strategy subclass to run (see {@link selectStrategy}).
 *
 * @example
 * const { strategyClass } = await loadStrategy('strategy.ts:Crossover', process.cwd());
 */
export async function loadStrategy(target: string, cwd: string): Promise<LoadedStrategy> {
  const { file, exportName } = parseStrategyTarget(target);
  const moduleExports = await importStrategyModule(file, cwd);
  const selected = selectStrategy(moduleExports, file, exportName);
  return { ...selected, file: path.resolve(cwd, file) };
}

/**
 * Imports a `.ts`/`.mts`/`.cts` file through tsx, a `.js`/`.mjs`/`.cjs` file natively. Errors name
 * the file as given and where it resolved to.
 */
export async function importStrategyModule(file: string, cwd: string): Promise<Record<string, unknown>> {
  const resolved = path.resolve(cwd, file);
  if (!existsSync(resolved)) {
    // `file.ts:1bad` kept its suffix, which is not an export name: say so rather than only "not found".
    const suffix = /^(.+):([^:/\\]+)$/.exec(file);
    const hint =
      suffix !== null && existsSync(path.resolve(cwd, suffix[1]!))
        ? `; ${quote(suffix[2])} after ':' is not an export name (a JavaScript identifier)`
        : '';
    throw invalidArgument(`strategy file ${quote(file)} not found (resolved to ${resolved})${hint}`);
  }
  const extension = path.extname(resolved).toLowerCase();
  if (
    statSync(resolved).isDirectory() ||
    ![...TYPESCRIPT_EXTENSIONS, ...JAVASCRIPT_EXTENSIONS].includes(extension)
  ) {
    throw invalidArgument(
      `strategy file ${quote(file)} must be a module ending in ${[...TYPESCRIPT_EXTENSIONS, ...JAVASCRIPT_EXTENSIONS].join(', ')}`,
    );
  }
  if (TYPESCRIPT_EXTENSIONS.includes(extension)) await enableTypeScriptImports();
  try {
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = resolved === file ? '' : ` (${resolved})`;
    throw new QmtlError(
      ErrorCode.InvalidStrategy,
      `cannot load strategy file ${quote(file)}${where}: ${reason}`,
      { cause: error },
    );
  }
}

let typeScriptImports: Promise<void> | null = null;

/**
 * Registers tsx's loader for the whole process, once. Not `tsImport()`: it evaluates the module in
 * a private namespace that re-loads every dependency, `qmtl` included, so the file's `Strategy`
 * would be a different class from the Runner's and every `instanceof` check would fail.
 */
function enableTypeScriptImports(): Promise<void> {
  typeScriptImports ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return typeScriptImports;
}

/**
 * Picks the strategy of a module: the named export when there is one; else the default export if it
 * is a Strategy subclass; else the one exported Strategy subclass. Throws an `InvalidStrategy`
 * error that lists the exports when there is none, several, or the named one is not a strategy.
 */
export function selectStrategy(
  moduleExports: Readonly<Record<string, unknown>>,
  file: string,
  exportName: string | null,
): { strategyClass: StrategyClass; exportName: string } {
  const names = Object.keys(moduleExports);
  if (exportName !== null) {
    if (!names.includes(exportName))
      throw invalidStrategy(
        `${quote(file)} has no export ${quote(exportName)} (exports: ${listNames(names)})`,
      );
    const value = moduleExports[exportName];
    if (!isStrategyClass(value))
      throw invalidStrategy(
        `export ${quote(exportName)} of ${quote(file)} is not a Strategy subclass: it is ${describeExport(value)}`,
      );
    return { strategyClass: value, exportName };
  }
  const defaultExport = moduleExports['default'];
  if (isStrategyClass(defaultExport)) return { strategyClass: defaultExport, exportName: 'default' };
  const candidates = names.filter((name) => isStrategyClass(moduleExports[name]));
  const distinct = new Set(candidates.map((name) => moduleExports[name]));
  if (distinct.size === 1)
    return { strategyClass: moduleExports[candidates[0]!] as StrategyClass, exportName: candidates[0]! };
  if (distinct.size > 1) {
    throw invalidStrategy(
      `${quote(file)} exports several Strategy subclasses (${candidates.join(', ')}); choose one with "${file}:${candidates[0]!}"`,
    );
  }
  const foreign = names.filter((name) => extendsForeignStrategy(moduleExports[name]));
  const hint = foreign.length > 0 ? `; ${foreign.join(', ')} ${foreignStrategyHint}` : '';
  throw invalidStrategy(`${quote(file)} exports no Strategy subclass (exports: ${listNames(names)})${hint}`);
}

/** Whether `value` is a class extending this copy of qmtl's `Strategy`. */
export function isStrategyClass(value: unknown): value is StrategyClass {
  return typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Strategy;
}

const foreignStrategyHint =
  'extends a Strategy class from another copy of qmtl; import Strategy from the same "qmtl" the CLI runs from';

/** A class whose chain has a `Strategy` that is not ours: a second copy of the package. */
function extendsForeignStrategy(value: unknown): boolean {
  if (typeof value !== 'function' || isStrategyClass(value)) return false;
  for (
    let base: unknown = Object.getPrototypeOf(value);
    typeof base === 'function';
    base = Object.getPrototypeOf(base)
  ) {
    if (base.name === 'Strategy') return true;
  }
  return false;
}

function describeExport(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (value instanceof Strategy) return `an instance of ${value.constructor.name}; export the class instead`;
  if (typeof value === 'function') {
    if (extendsForeignStrategy(value)) return `a class that ${foreignStrategyHint}`;
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(value));
    return isClass
      ? `the class ${quote(value.name)}, which does not extend Strategy`
      : `a function ${quote(value.name)}`;
  }
  if (typeof value === 'object') {
    const constructorName = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)
      ?.constructor?.name;
    return constructorName && constructorName !== 'Object'
      ? `an instance of ${constructorName}`
      : `an object ${quote(value)}`;
  }
  return `a ${typeof value} (${quote(value)})`;
}

function listNames(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

function invalidArgument(message: string): QmtlError {
  return new QmtlError(ErrorCode.InvalidArgument, message);
}

function invalidStrategy(message: string): QmtlError {
  return new QmtlError(ErrorCode.InvalidStrategy, message);
}
