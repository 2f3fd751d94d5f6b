import { describe, expect, it } from 'vitest';
import { packageManifest, packageVersion } from '../common/package-version.js';
import { projectPackageJson, projectPackageName } from './project-package.js';

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

describe('projectPackageJson', () => {
  const manifest = JSON.parse(projectPackageJson('demo')) as {
    name: string;
    type: string;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };

  it('is an ES module package depending on this version of qmtl', () => {
    expect(manifest).toMatchObject({ name: 'demo', type: 'module', private: true });
    expect(manifest.dependencies).toEqual({ qmtl: `^${packageVersion()}` });
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
