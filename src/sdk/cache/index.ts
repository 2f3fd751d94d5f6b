export * from './series-ring.js';
export * from './series-window.js';
export * from './backfill-state.js';
export * from './node-cache.js';
export * from './cache-view.js';
