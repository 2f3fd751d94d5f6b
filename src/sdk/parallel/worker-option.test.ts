import { describe, expect, it } from 'vitest';
import { QmtlError } from '../../common/errors.js';
import { ProcessingNode } from '../processing-node.js';
import { StreamInput } from '../stream-input.js';

const price = new StreamInput({ tags: ['p'], interval: 60, period: 1 });
const echo = (view: { input(): { latest(): unknown } }) => view.input().latest();
const heavy = { module: 'file:///strategies/heavy.js', export: 'echo' };

describe('the worker option of a node', () => {
  it('keeps the computeFn and is not part of the NodeID', () => {
    const plain = new ProcessingNode({ name: 'n', input: price, computeFn: echo });
    const offloadable = new ProcessingNode({ name: 'n', input: price, computeFn: echo, worker: heavy });
    expect(offloadable.worker).toEqual(heavy);
    expect(Object.isFrozen(offloadable.worker)).toBe(true);
    expect(offloadable.computeFn).toBe(echo);
    expect(offloadable.nodeId).toBe(plain.nodeId);
    expect(offloadable.toJSON()).toEqual(plain.toJSON());
    expect(plain.worker).toBeNull();
  });

  it.each([
    [
      'a relative module path',
      { module: './heavy.js', export: 'echo' },
      /worker\.module must be an absolute module URL .*got "\.\/heavy\.js"/,
    ],
    [
      'an empty export',
      { module: heavy.module, export: ' ' },
      /worker\.export must be the non-empty name of an export, got " "/,
    ],
    ['both at once', { module: 7, export: null }, /worker\.module .*got 7; worker\.export .*got null/],
    [
      'an unknown key',
      { ...heavy, threads: 2 },
      /: worker: unknown option "threads" \(known: module, export\)/,
    ],
    [
      'a string',
      'file:///heavy.js',
      /worker must be an object \{ module, export \}, got "file:\/\/\/heavy\.js"/,
    ],
  ])('rejects %s, naming the node, the field and the value', (_, worker, message) => {
    const build = () =>
      new ProcessingNode({ name: 'n', input: price, computeFn: echo, worker: worker as never });
    expect(build).toThrow(QmtlError);
    expect(build).toThrow(message);
    expect(build).toThrow(/ProcessingNode "n"/);
  });

  it('needs a computeFn', () => {
    expect(() => new ProcessingNode({ name: 'n', input: price, worker: heavy })).toThrow(
      /ProcessingNode "n": worker \{"module":"file:\/\/\/strategies\/heavy.js","export":"echo"\} needs a computeFn/,
    );
  });
});
