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
