import { describe, expect, it } from 'vitest';
import { packageManifest, packageVersion } from '../common/package-version.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectPackageJson, projectPackageName, qmtlDependency, qmtlRoot } from './project-package.js';

describe('projectPackageName', () => {
  it("is the directory's base name, made a valid npm name", () => {
    expect(projectPackageName('/work/My Strategy')).toBe('my-strategy');
    expect(projectPackageName('/work/.hidden_bot')).toBe('hidden_bot');
    expect(projectPackageName('/work/crossover-v2')).toBe('crossover-v2');
    expect(projectPackageName('/work/Crossover (v2)')).toBe('crossover-v2');
  });

  it('falls back to qmtl-strategy when nothing is left or the name would be qmtl itself', () => {
    expect(projectPackageName('/work/!!!')).toBe('qmtl-strategy');
    expect(projectPackageName('/work/QMTL')).toBe('qmtl-strategy');
  });
});

describe('qmtlDependency', () => {
  it('is this version for an installed qmtl', () => {
    expect(qmtlDependency(path.join(path.sep, 'app', 'node_modules', 'qmtl'))).toBe(`^${packageVersion()}`);
  });

  it('is the checkout itself for a qmtl run from its sources, whose version may not be published', () => {
    expect(qmtlDependency(path.join(path.sep, 'src', 'qmtl'))).toBe(
      `file:${path.join(path.sep, 'src', 'qmtl')}`,
    );
    const checkout = fileURLToPath(new URL('../..', import.meta.url));
    expect(path.resolve(qmtlRoot())).toBe(path.resolve(checkout));
    expect(qmtlDependency()).toBe(`file:${path.resolve(checkout)}`);
  });
});

describe('projectPackageJson', () => {
  const manifest = JSON.parse(projectPackageJson('demo', '^0.1.0')) as {
    name: string;
    type: string;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it('is an ES module package depending on qmtl as it is told', () => {
    expect(manifest).toMatchObject({ name: 'demo', type: 'module', private: true });
    expect(manifest.dependencies).toEqual({ qmtl: '^0.1.0' });
  });

  it('backtests the sample day, replays offline and type-checks', () => {
    expect(manifest.scripts).toEqual({
      backtest:
        'qmtl run strategy.ts --mode backtest --start-time 2024-01-01T00:00:00Z --end-time 2024-01-01T23:59:00Z',
      offline: 'qmtl run strategy.ts --mode offline',
      typecheck: 'tsc --noEmit',
    });
  });

  it('type-checks with the TypeScript and Node types qmtl is built with', () => {
    const own = packageManifest()['devDependencies'] as Record<string, string>;
    expect(manifest.devDependencies).toEqual({
      '@types/node': `^${own['@types/node']!.replace(/^\D*/, '')}`,
      typescript: `^${own['typescript']!.replace(/^\D*/, '')}`,
    });
  });
});
