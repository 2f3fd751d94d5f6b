import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { topologicalSort } from '../../src/dag/topo-sort.js';

const src = fileURLToPath(new URL('../../src', import.meta.url));

/** Every non-test module of src/ with the relative modules it imports (type-only imports included). */
function importGraph(): Map<string, string[]> {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !/\.test(-kit)?\.ts$/.test(f),
  );
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(src, file), 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
      relative(src, resolve(dirname(join(src, file)), `${m[1]!}.ts`)),
    );
    graph.set(file, targets);
  }
  return graph;
}

describe('the module graph of src/', () => {
  const graph = importGraph();

  it('has no import cycles', () => {
    const { cycles } = topologicalSort([...graph].map(([id, inputs]) => ({ id, inputs })));
    expect(cycles).toEqual([]);
  });

  it('points one way: common ← dag, transport ← sdk, dagmanager ← indicators, generators, io, gateway ← transforms ← demo, scaffold ← cli', () => {
    const rank: Record<string, number> = {
      common: 0,
      dag: 1,
      transport: 1,
      sdk: 2,
      dagmanager: 2,
      indicators: 3,
      generators: 3,
      io: 3,
      gateway: 3,
      transforms: 4,
      demo: 5,
      scaffold: 5,
      cli: 6,
      'index.ts': 7,
    };
    const violations = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => {
          const [from, to] = [file.split('/')[0]!, target.split('/')[0]!];
          return from !== to && rank[to]! >= rank[from]!;
        })
        .map((target) => `${file} -> ${target}`),
    );
    expect(violations).toEqual([]);
  });

  it('finds the imports it checks', () => {
    expect(graph.get('sdk/node.ts')).toContain('common/errors.ts');
  });
});
