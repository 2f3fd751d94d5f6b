import type { NodeRuntime } from './node-runtime.js';

/** Adds a listener to a runtime's `onEmit`, keeping any already there; returns how to remove it. */
export function listenToEmits(
  runtime: NodeRuntime,
  listener: (bucket: number, value: unknown) => void,
): () => void {
  const previous = runtime.onEmit;
  runtime.onEmit =
    previous === null
      ? listener
      : (bucket, value) => {
          previous(bucket, value);
          listener(bucket, value);
        };
  return () => {
    runtime.onEmit = previous;
  };
}

/**
 * Bars of history a live run replays before its first live bucket so that every node is warm: the
 * largest sum of periods along any path from a stream to a node (a chain EMA(20) → SMA(10) needs 29).
 */
export function warmupBars(order: readonly NodeRuntime[]): number {
  const need = new Map<string, number>();
  let most = 1;
  for (const runtime of order) {
    let upstream = 0;
    for (const input of runtime.node.inputs) upstream = Math.max(upstream, need.get(input.nodeId) ?? 0);
    const bars = upstream === 0 ? runtime.period : upstream + runtime.period - 1;
    need.set(runtime.id, bars);
    most = Math.max(most, bars);
  }
  return most;
}
