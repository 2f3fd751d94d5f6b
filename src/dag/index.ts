export * from './node-json.js';
export * from './node-id.js';
export * from './topo-sort.js';
export * from './validate-dag.js';
