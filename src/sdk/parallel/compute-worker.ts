import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CacheView } from '../cache/cache-view.js';
import { NodeCache } from '../cache/node-cache.js';
import { frozenJsonObject, type Params } from '../node-options.js';
import { TSX_REGISTERED, type BatchOutcome, type BucketBatch, type NodeTask } from './bucket-task.js';
import { restoreRing } from './ring-snapshot.js';

type ComputeExport = (view: CacheView<never>) => unknown;

/** A node's cache and view in this thread, reused for each of its buckets. */
interface NodeState {
  readonly cache: NodeCache;
  readonly view: CacheView<never>;
}

const functions = new Map<string, ComputeExport>();
const nodes = new Map<string, NodeState>();

/**
 * The piscina entry point: computes a batch of buckets of one pure node in this worker thread,
 * in order, stopping at the first that throws. The view is a real {@link CacheView} over a cache
 * rebuilt from each bucket's ring snapshots, so the compute function reads exactly what it reads
 * on the main thread.
 */
export function computeBuckets(batch: BucketBatch): BatchOutcome | Promise<BatchOutcome> {
  const fn = functions.get(`${batch.module}#${batch.exportName}`);
  return fn === undefined
    ? loadExport(batch).then((loaded) => computeAll(loaded, batch))
    : computeAll(fn, batch);
}

function computeAll(fn: ComputeExport, batch: BucketBatch): BatchOutcome {
  const { cache, view } = nodeState(batch);
  const outputs: unknown[] = [];
  for (const bucket of batch.buckets) {
    for (const ring of bucket.rings) restoreRing(cache.ring(ring.upstreamId, ring.interval), ring);
    view.setTime(bucket.time);
    try {
      outputs.push(fn(view));
    } catch (error) {
      return { outputs, failed: true, error };
    }
  }
  return { outputs, failed: false };
}

function nodeState(task: NodeTask): NodeState {
  let state = nodes.get(task.nodeId);
  if (state === undefined) {
    const cache = new NodeCache(task.period);
    const view = new CacheView<never>(cache, {
      nodeName: task.nodeName,
      inputs: task.inputs,
      // Frozen as on the main thread, so a function that writes to its params fails the same way.
      params: frozenJsonObject<Params>(task.params, 'params', task.nodeName) as never,
    });
    nodes.set(task.nodeId, (state = { cache, view }));
  }
  return state;
}

async function loadExport(task: NodeTask): Promise<ComputeExport> {
  const exports = await importModule(task.module);
  const fn = exports[task.exportName];
  if (typeof fn !== 'function')
    throw new Error(`module ${task.module} has no function export "${task.exportName}"`);
  functions.set(`${task.module}#${task.exportName}`, fn as ComputeExport);
  return fn as ComputeExport;
}

async function importModule(moduleUrl: string): Promise<Record<string, unknown>> {
  const url = sourceOf(moduleUrl);
  const registry = globalThis as Record<symbol, unknown>;
  if (/\.[cm]?tsx?$/.test(new URL(url).pathname) && registry[TSX_REGISTERED] !== true) {
    // A TypeScript module in a process run with `--import tsx`, which hooks only the main thread.
    const { register } = await import('tsx/esm/api');
    register();
    registry[TSX_REGISTERED] = true;
  }
  return (await import(url)) as Record<string, unknown>;
}

const TYPESCRIPT_SOURCE: Readonly<Record<string, string>> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

/**
 * The URL to import for a worker module. TypeScript ESM code names a `.ts` file `./heavy.js`, and
 * the main thread (run through tsx) resolves that to the source; a worker thread would not find
 * the `.js` file. So a missing `.js`/`.mjs`/`.cjs` file with its TypeScript source beside it
 * names that source.
 */
function sourceOf(moduleUrl: string): string {
  const url = new URL(moduleUrl);
  const extension = /\.[cm]?js$/.exec(url.pathname)?.[0];
  if (url.protocol !== 'file:' || extension === undefined) return moduleUrl;
  const file = fileURLToPath(url);
  if (existsSync(file)) return moduleUrl;
  const source = `${file.slice(0, -extension.length)}${TYPESCRIPT_SOURCE[extension]!}`;
  return existsSync(source) ? pathToFileURL(source).href : moduleUrl;
}
