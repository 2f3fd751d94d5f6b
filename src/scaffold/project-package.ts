import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageManifest, packageVersion } from '../common/package-version.js';
import { sampleRange } from './sample-data.js';

/** The name a project in `directory` gets when nothing better is known. */
const FALLBACK_NAME = 'qmtl-strategy';

/**
 * An npm package name for a project in `directory`: its base name, lower-cased, with runs of
 * characters npm does not allow turned into `-`. `qmtl-strategy` when nothing is left, or when the
 * name would be `qmtl` itself (npm refuses to install a package into one of the same name).
 */
export function projectPackageName(directory: string): string {
  const name = path
    .basename(path.resolve(directory))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 214);
  return name === '' || name === 'qmtl' ? FALLBACK_NAME : name;
}

/**
 * The root of this qmtl package: two levels above this module, in `src/scaffold/` and in the
 * built `dist/scaffold/` alike.
 */
export function qmtlRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/**
 * How a new project depends on qmtl: on this version (`^x.y.z`) when this qmtl is an installed
 * package (it sits in a `node_modules` directory), else on this checkout (`file:` and its
 * absolute path), whose version may not be published, so that `npm install` works either way.
 */
export function qmtlDependency(root = qmtlRoot()): string {
  const installed = path.resolve(root).split(path.sep).includes('node_modules');
  return installed ? `^${packageVersion()}` : `file:${path.resolve(root)}`;
}

/**
 * The `package.json` of a new project: an ES module package depending on qmtl (see
 * {@link qmtlDependency}), with `backtest` (the sample day), `offline` and `typecheck` scripts.
 */
export function projectPackageJson(name: string, qmtl = qmtlDependency()): string {
  const { startTime, endTime } = sampleRange();
  const devDependencies = (packageManifest()['devDependencies'] ?? {}) as Record<string, string>;
  const manifest = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      backtest: `qmtl run strategy.ts --mode backtest --start-time ${startTime} --end-time ${endTime}`,
      offline: 'qmtl run strategy.ts --mode offline',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { qmtl },
    devDependencies: {
      '@types/node': caretRange(devDependencies['@types/node'], '20.19.0'),
      typescript: caretRange(devDependencies['typescript'], '5.9.0'),
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** `^x.y.z` of a version or range qmtl itself is built with, else of `fallback`. */
function caretRange(version: string | undefined, fallback: string): string {
  const exact = /\d+\.\d+\.\d+/.exec(version ?? '')?.[0];
  return `^${exact ?? fallback}`;
}
