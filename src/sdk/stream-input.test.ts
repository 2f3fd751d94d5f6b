import { describe, expect, it } from 'vitest';
import type { HistoryProvider } from './history/protocols.js';
import { StreamInput } from './stream-input.js';

function provider(sourceId?: string): HistoryProvider & { bound: unknown[] } {
  const bound: unknown[] = [];
  return {
    bound,
    ...(sourceId !== undefined && { sourceId }),
    fetch: () => Promise.resolve([]),
    coverage: () => Promise.resolve([]),
    fillMissing: () => Promise.resolve(),
    bindStream: (stream) => void bound.push(stream),
  };
}

describe('StreamInput', () => {
  it('is identified by sorted tags, interval and data source, not by period or name', () => {
    const a = new StreamInput({ tags: ['BTC', 'price'], interval: 60, period: 10, name: 'a' });
    expect(new StreamInput({ tags: ['price', 'BTC'], interval: 60, period: 99, name: 'b' }).nodeId).toBe(
      a.nodeId,
    );
    expect(new StreamInput({ tags: ['ETH', 'price'], interval: 60 }).nodeId).not.toBe(a.nodeId);
    expect(new StreamInput({ tags: ['BTC', 'price'], interval: 300 }).nodeId).not.toBe(a.nodeId);
    expect(new StreamInput({ tags: ['BTC', 'price'], interval: 60, source: 'binance' }).nodeId).not.toBe(
      a.nodeId,
    );
  });

  it("takes the provider's sourceId as its data source", () => {
    const stream = new StreamInput({ tags: ['x'], interval: 60, historyProvider: provider('csv:a.csv') });
    expect(stream.source).toBe('csv:a.csv');
    expect(stream.nodeId).toBe(new StreamInput({ tags: ['x'], interval: 60, source: 'csv:a.csv' }).nodeId);
  });

  it('binds its provider and recorder and keeps them read-only', () => {
    const history = provider();
    const recorder = {
      persist: () => Promise.resolve(),
      bindStream: (s: unknown) => void history.bound.push(s),
    };
    const stream = new StreamInput({
      tags: ['x'],
      interval: 60,
      historyProvider: history,
      eventRecorder: recorder,
    });
    expect(history.bound).toEqual([stream, stream]);
    expect(() => {
      (stream as unknown as { historyProvider: unknown }).historyProvider = null;
    }).toThrow(TypeError);
    expect(() => {
      (stream as unknown as { eventRecorder: unknown }).eventRecorder = null;
    }).toThrow(TypeError);
  });

  it('rejects providers and recorders without the protocol methods, and unknown options', () => {
    expect(() => new StreamInput({ historyProvider: { fetch: () => Promise.resolve([]) } as never })).toThrow(
      /missing: coverage, fillMissing/,
    );
    expect(() => new StreamInput({ eventRecorder: {} as never })).toThrow(
      /eventRecorder must have a persist method/,
    );
    expect(() => new StreamInput({ tags: ['x'], provider: {} } as never)).toThrow(
      /unknown option "provider"/,
    );
    expect(() => new StreamInput({ tags: [1] as never })).toThrow(/tags must be an array of strings/);
  });

  it('serialises with no inputs and a null code hash', () => {
    const json = new StreamInput({ tags: ['x'], interval: '1m', period: 3 }).toJSON();
    expect(json).toMatchObject({
      node_type: 'StreamInput',
      interval: 60,
      period: 3,
      inputs: [],
      tags: ['x'],
    });
  });
});
