/** The minimum a topological sort needs to know about a node. */
export interface GraphNode {
  readonly id: string;
  /** Ids of upstream nodes; ids not in the graph are ignored here (validation reports them). */
  readonly inputs: readonly string[];
}

/** The result of {@link topologicalSort}: the sorted ids, and every cycle found (each as a path). */
export interface TopoResult {
  readonly order: string[];
  /** Each cycle as the ids along it, first id repeated at the end: `[a, b, a]`. */
  readonly cycles: string[][];
}

/**
 * Kahn's algorithm, stable: among nodes whose inputs are all placed, the one given first goes
 * first, so an already-sorted list keeps its order. O((V + E) log V). Nodes on or below a cycle
 * are left out of `order`; `cycles` names one path per strongly connected component.
 */
export function topologicalSort(nodes: readonly GraphNode[]): TopoResult {
  const index = new Map<string, number>();
  nodes.forEach((node, i) => {
    if (!index.has(node.id)) index.set(node.id, i);
  });
  const indegree = new Int32Array(nodes.length);
  const children: number[][] = nodes.map(() => []);
  nodes.forEach((node, i) => {
    if (index.get(node.id) !== i) return; // a duplicate id: validation reports it
    const inputs = node.inputs;
    for (let k = 0; k < inputs.length; k++) {
      const input = inputs[k]!;
      const parent = index.get(input);
      // An input listed twice is one edge.
      if (parent === undefined || inputs.indexOf(input) < k) continue;
      children[parent]!.push(i);
      indegree[i]!++;
    }
  });
  const ready = new MinHeap();
  index.forEach((i) => {
    if (indegree[i] === 0) ready.push(i);
  });
  const order: string[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(nodes[i]!.id);
    for (const child of children[i]!) if (--indegree[child]! === 0) ready.push(child);
  }
  const cycles = order.length === index.size ? [] : findCycles(nodes, index, children, indegree);
  return { order, cycles };
}

/** Tarjan's SCC (iterative, so a 10,000-node cycle cannot overflow the stack), one path per SCC. */
function findCycles(
  nodes: readonly GraphNode[],
  index: Map<string, number>,
  children: number[][],
  indegree: Int32Array,
): string[][] {
  const n = nodes.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const start of index.values()) {
    if (indegree[start] === 0 || order[start] !== -1) continue;
    const frames: Array<[node: number, next: number]> = [[start, 0]];
    order[start] = low[start] = counter++;
    stack.push(start);
    onStack[start] = 1;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const [v, next] = frame;
      const edges = children[v]!;
      if (next < edges.length) {
        frame[1]++;
        const w = edges[next]!;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          frames.push([w, 0]);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, order[w]!);
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] !== order[v]) continue;
      const component = new Set<number>();
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        component.add(w);
      } while (w !== v);
      if (component.size > 1 || children[v]!.includes(v))
        cycles.push(cyclePath(v, component, children, nodes));
    }
  }
  return cycles;
}

/** Walks edges inside one strongly connected component from `start` until a node repeats. */
function cyclePath(
  start: number,
  component: Set<number>,
  children: number[][],
  nodes: readonly GraphNode[],
): string[] {
  const path: number[] = [start];
  const position = new Map<number, number>([[start, 0]]);
  let current = start;
  for (;;) {
    const next = children[current]!.find((c) => component.has(c))!;
    const seen = position.get(next);
    if (seen !== undefined) return [...path.slice(seen), next].map((i) => nodes[i]!.id);
    position.set(next, path.length);
    path.push(next);
    current = next;
  }
}

/** A binary min-heap of integers, for the stable Kahn order. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
