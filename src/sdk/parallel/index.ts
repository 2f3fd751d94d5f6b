export { createComputePool, type ComputePool } from './compute-pool.js';
export { replayParallel, replayWithWorkers, type ParallelReplayOptions } from './parallel-replay.js';
