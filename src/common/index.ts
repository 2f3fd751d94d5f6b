export * from './errors.js';
export * from './hash.js';
export * from './crc32.js';
export * from './interval.js';
export * from './time.js';
export { logger, type Logger } from './logger.js';
