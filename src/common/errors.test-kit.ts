import { expect } from 'vitest';
import { QmtlError } from './errors.js';

/** Runs `fn`, expecting it to throw a QmtlError, and returns that error. */
export function thrownBy(fn: () => unknown): QmtlError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(QmtlError);
    return error as QmtlError;
  }
  throw new Error('expected a QmtlError, but nothing was thrown');
}
