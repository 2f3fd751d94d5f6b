import { describe, expect, it } from 'vitest';
import { topologicalSort, type GraphNode } from './topo-sort.js';

const node = (id: string, ...inputs: string[]): GraphNode => ({ id, inputs });

/** Asserts that `path` is a closed walk along edges of `nodes` visiting exactly `members`. */
function expectCyclePath(
  nodes: readonly GraphNode[],
  path: readonly string[],
  members: readonly string[],
): void {
  expect(path[0]).toBe(path[path.length - 1]);
  expect(path).toHaveLength(members.length + 1);
  expect(new Set(path)).toEqual(new Set(members));
  const inputsOf = new Map(nodes.map((n) => [n.id, n.inputs]));
  for (let i = 0; i + 1 < path.length; i++) {
    // Each step follows data flow: the next node takes the current one as an input.
    expect(inputsOf.get(path[i + 1]!)).toContain(path[i]);
  }
}

/** A ring of `size` nodes where each takes the previous one as input. */
function ring(prefix: string, size: number): GraphNode[] {
  return Array.from({ length: size }, (_, i) => node(`${prefix}${i}`, `${prefix}${(i + size - 1) % size}`));
}

describe('topologicalSort', () => {
  it('keeps an already-sorted list in its order', () => {
    const nodes = [node('s1'), node('s2'), node('a', 's1'), node('b', 's2'), node('c', 'a', 'b'), node('d')];
    expect(topologicalSort(nodes)).toEqual({ order: ['s1', 's2', 'a', 'b', 'c', 'd'], cycles: [] });
  });

  it('places among ready nodes the one given first', () => {
    const nodes = [node('z'), node('y'), node('x', 'z'), node('w', 'y')];
    expect(topologicalSort(nodes).order).toEqual(['z', 'y', 'x', 'w']);
  });

  it('sorts a diamond', () => {
    const nodes = [node('sink', 'left', 'right'), node('right', 'top'), node('left', 'top'), node('top')];
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual(['top', 'right', 'left', 'sink']);
    expect(cycles).toEqual([]);
  });

  it('sorts inputs given in reverse order', () => {
    const nodes = [node('d', 'c'), node('c', 'b'), node('b', 'a'), node('a')];
    expect(topologicalSort(nodes).order).toEqual(['a', 'b', 'c', 'd']);
  });

  it('ignores inputs that are not in the graph', () => {
    const nodes = [node('b', 'a', 'missing'), node('a', 'also-missing')];
    expect(topologicalSort(nodes)).toEqual({ order: ['a', 'b'], cycles: [] });
  });

  it('counts an input listed twice once', () => {
    const nodes = [node('b', 'a', 'a'), node('a')];
    expect(topologicalSort(nodes)).toEqual({ order: ['a', 'b'], cycles: [] });
  });

  it('places a duplicate id once', () => {
    const nodes = [node('a'), node('b', 'a'), node('a')];
    expect(topologicalSort(nodes)).toEqual({ order: ['a', 'b'], cycles: [] });
  });

  it('returns an empty order for an empty graph', () => {
    expect(topologicalSort([])).toEqual({ order: [], cycles: [] });
  });

  it('reports a self-loop as a path and leaves it out of the order', () => {
    const nodes = [node('a'), node('loop', 'a', 'loop')];
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual(['a']);
    expect(cycles).toEqual([['loop', 'loop']]);
  });

  it('reports a 2-cycle as a path and leaves it out of the order', () => {
    const nodes = [node('src'), node('x', 'src', 'y'), node('y', 'x')];
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual(['src']);
    expect(cycles).toHaveLength(1);
    expectCyclePath(nodes, cycles[0]!, ['x', 'y']);
  });

  it('reports a 1,000-node cycle as one path', () => {
    const nodes = [node('src'), ...ring('n', 1000)];
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual(['src']);
    expect(cycles).toHaveLength(1);
    expectCyclePath(
      nodes,
      cycles[0]!,
      ring('n', 1000).map((n) => n.id),
    );
  });

  it('leaves nodes below a cycle out of the order without reporting them as cycles', () => {
    const nodes = [node('a', 'b'), node('b', 'a'), node('below', 'a'), node('free')];
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual(['free']);
    expect(cycles).toHaveLength(1);
    expectCyclePath(nodes, cycles[0]!, ['a', 'b']);
  });

  it('reports two separate cycles as two paths', () => {
    const nodes = [...ring('p', 3), node('ok'), ...ring('q', 2)];
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual(['ok']);
    expect(cycles).toHaveLength(2);
    const byFirstLetter = [...cycles].sort((a, b) => a[0]!.localeCompare(b[0]!));
    expectCyclePath(nodes, byFirstLetter[0]!, ['p0', 'p1', 'p2']);
    expectCyclePath(nodes, byFirstLetter[1]!, ['q0', 'q1']);
  });

  it('sorts a 10,000-node chain without overflowing the stack', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `c${i}`);
    const reversed = ids.map((id, i) => (i === 0 ? node(id) : node(id, ids[i - 1]!))).reverse();
    const { order, cycles } = topologicalSort(reversed);
    expect(order).toEqual(ids);
    expect(cycles).toEqual([]);
  });

  it('reports a 10,000-node cycle without overflowing the stack', () => {
    const nodes = ring('r', 10_000);
    const { order, cycles } = topologicalSort(nodes);
    expect(order).toEqual([]);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(10_001);
  });
});
