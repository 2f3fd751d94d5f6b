import { describe, expect, it } from 'vitest';
import { CacheView } from './cache-view.js';
import { NodeCache } from './node-cache.js';

function makeView(onRead?: (u: string, i: number) => void) {
  const cache = new NodeCache(3);
  for (let i = 1; i <= 4; i++) cache.append('price', 60, i * 60, i * 10);
  cache.append('rec', 60, 60, { close: 1 });
  const view = new CacheView(cache, {
    nodeName: 'n',
    inputs: [
      { id: 'price', interval: 60 },
      { id: 'rec', interval: 60 },
    ],
    params: { k: 2 },
    ...(onRead && { onRead }),
  });
  return { cache, view };
}

describe('CacheView', () => {
  it('reads windows oldest to newest with at, latest, values, timestamps and iteration', () => {
    const { view } = makeView();
    const w = view.get('price');
    expect(w.length).toBe(3);
    expect(w.at(0)).toBe(20);
    expect(w.at(-1)).toBe(40);
    expect(w.at(3)).toBeUndefined();
    expect(w.timeAt(-1)).toBe(240);
    expect(w.latest()).toBe(40);
    expect(w.latestTime()).toBe(240);
    expect(w.values()).toEqual(new Float64Array([20, 30, 40]));
    expect(w.timestamps()).toEqual(new Float64Array([120, 180, 240]));
    expect([...w]).toEqual([
      [120, 20],
      [180, 30],
      [240, 40],
    ]);
  });

  it('accepts a node object or a node id and the input index', () => {
    const { view } = makeView();
    expect(view.get({ nodeId: 'price' }).latest()).toBe(40);
    expect(view.input(1).latest()).toEqual({ close: 1 });
    expect(view.input(1).field('close')).toEqual([1]);
    expect(view.params).toEqual({ k: 2 });
  });

  it('throws naming the node when an input is unknown', () => {
    const { view } = makeView();
    expect(() => view.get('nope')).toThrow(/node "n" has no input "nope"/);
    expect(() => view.input(5)).toThrow(/input\(5\) does not exist/);
  });

  it('throws on any write attempt', () => {
    const { view } = makeView();
    const w = view.get('price');
    expect(() => {
      (view as unknown as { params: unknown }).params = {};
    }).toThrow(TypeError);
    expect(() => {
      (w as unknown as { length: number }).length = 0;
    }).toThrow(TypeError);
    expect(() => {
      (w as unknown as Record<string, unknown>)['extra'] = 1;
    }).toThrow(TypeError);
    const copy = w.values();
    copy[0] = 999;
    expect(w.at(0)).toBe(20);
  });

  it('exports a numeric window as an Arrow table and refuses records', () => {
    const { view } = makeView();
    const table = view.get('price').toArrow();
    expect(table.numRows).toBe(3);
    expect([...table.getChild('v')!]).toEqual([20, 30, 40]);
    expect([...table.getChild('t')!]).toEqual([120, 180, 240]);
    expect(() => view.get('rec').toArrow()).toThrow(/numeric series/);
  });

  it('logs and reports reads when tracking is on', () => {
    const reads: Array<[string, number]> = [];
    const { view } = makeView((u, i) => reads.push([u, i]));
    view.get('price');
    view.input(1);
    expect(view.accessLog()).toEqual([
      ['price', 60],
      ['rec', 60],
    ]);
    expect(reads).toEqual(view.accessLog());
  });
});
