import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectFiles } from './project-files.js';
import { COMMON_PROJECT_FILES } from './project-layout.test-kit.js';
import { TEMPLATE_NAMES, TEMPLATES, isTemplateName, templatesDirectory } from './templates.js';

const root = templatesDirectory();

describe('the templates', () => {
  it('are the five of SPEC §7, each a directory with a strategy.ts', () => {
    expect(TEMPLATE_NAMES).toEqual([
      'general',
      'single_indicator',
      'multi_indicator',
      'branching',
      'state_machine',
    ]);
    const directories = readdirSync(root).filter((entry) => entry !== 'common');
    expect(directories.sort()).toEqual([...TEMPLATE_NAMES].sort());
    for (const name of TEMPLATE_NAMES)
      expect(existsSync(path.join(root, name, 'strategy.ts')), name).toBe(true);
  });

  it('each export one Strategy subclass, so `qmtl run strategy.ts` needs no export name', () => {
    for (const name of TEMPLATE_NAMES) {
      const source = readFileSync(path.join(root, name, 'strategy.ts'), 'utf8');
      expect(source.match(/export class \w+ extends Strategy\b/g), name).toHaveLength(1);
    }
  });

  it('have a one-line description each', () => {
    for (const name of TEMPLATE_NAMES) expect(TEMPLATES[name]).toMatch(/^[^\n]{10,100}$/);
  });

  it('knows its names and nothing inherited from Object', () => {
    expect(isTemplateName('branching')).toBe(true);
    expect(isTemplateName('toString')).toBe(false);
    expect(isTemplateName('Branching')).toBe(false);
  });
});

describe('projectFiles', () => {
  const paths = (files: readonly { path: string }[]): string[] => files.map((file) => file.path);

  it('gives every template the common files, its strategy and a package.json, sorted', () => {
    for (const template of TEMPLATE_NAMES) {
      const files = paths(projectFiles({ template, name: 'demo', withSampleData: false }));
      expect(files, template).toEqual(expect.arrayContaining([...COMMON_PROJECT_FILES]));
      expect(files).toEqual([...files].sort());
      expect(files).not.toContain('data/sample_ohlcv.csv');
    }
  });

  it("overlays a template's own files on the common ones", () => {
    const files = projectFiles({ template: 'state_machine', name: 'demo', withSampleData: false });
    expect(paths(files)).toContain('indicators/trend-state.ts');
    const index = files.find((file) => file.path === 'indicators/index.ts')!.content;
    expect(index).toContain("from './trend-state.js'");
    expect(paths(files).filter((file) => file === 'indicators/index.ts')).toHaveLength(1);
  });

  it('adds the sample CSV with sample data', () => {
    const files = projectFiles({ template: 'general', name: 'demo', withSampleData: true });
    const csv = files.find((file) => file.path === 'data/sample_ohlcv.csv');
    expect(csv?.content.startsWith('timestamp,open,high,low,close,volume\n')).toBe(true);
  });

  it('fills in the placeholders of the README and leaves none anywhere', () => {
    const files = projectFiles({ template: 'branching', name: 'my-bot', withSampleData: false });
    const readme = files.find((file) => file.path === 'README.md')!.content;
    expect(readme).toMatch(/^# my-bot\n/);
    expect(readme).toContain('`branching` template: one stream feeding momentum and volatility nodes');
    expect(readme).toContain('--start-time 2024-01-01T00:00:00Z --end-time 2024-01-01T23:59:00Z');
    for (const file of files) expect(file.content, file.path).not.toMatch(/\{\{\w+\}\}/);
  });
});
