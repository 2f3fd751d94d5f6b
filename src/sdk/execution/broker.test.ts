import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../common/errors.js';
import { thrownBy } from '../../common/errors.test-kit.js';
import { toBar } from './broker.js';

describe('toBar', () => {
  it('keeps a full OHLCV row', () => {
    expect(toBar({ ts: 60, open: 1, high: 3, low: 0.5, close: 2, volume: 10 })).toEqual({
      ts: 60,
      open: 1,
      high: 3,
      low: 0.5,
      close: 2,
      volume: 10,
    });
  });

  it('reads a close-only row as a flat bar at the close', () => {
    expect(toBar({ ts: 60, close: 101 })).toEqual({ ts: 60, open: 101, high: 101, low: 101, close: 101 });
  });

  it('bounds a missing high and low by open and close', () => {
    expect(toBar({ ts: 0, open: 10, close: 12 })).toMatchObject({ high: 12, low: 10 });
  });

  it('uses the given bucket as the bar time instead of ts', () => {
    expect(toBar({ ts: 65, close: 1 }, 60).ts).toBe(60);
    expect(toBar({ close: 1 }, 120).ts).toBe(120);
  });

  it('names the field and value it cannot read', () => {
    expect(thrownBy(() => toBar({ ts: 60, close: 'x' })).message).toBe(
      'price bar {"ts":60,"close":"x"}: close must be a finite number, got "x"',
    );
    expect(thrownBy(() => toBar({ close: 1 })).message).toBe(
      'price bar {"close":1}: ts must be a finite number, got undefined',
    );
    expect(thrownBy(() => toBar({ ts: 0, close: 1, open: NaN })).message).toContain(
      'open must be a finite number, got NaN',
    );
    expect(thrownBy(() => toBar(42)).code).toBe(ErrorCode.InvalidArgument);
  });

  it('refuses an inconsistent bar, as indicators do, naming the fields and values', () => {
    expect(thrownBy(() => toBar({ ts: 60, open: 100, high: 99, low: 101, close: 100 })).message).toBe(
      'price bar {"ts":60,"open":100,"high":99,"low":101,"close":100} is not a consistent bar: low 101 is above high 99',
    );
    expect(thrownBy(() => toBar({ ts: 60, open: 100, high: 101, low: 99, close: 102 })).message).toMatch(
      /: close 102 is outside \[low 99, high 101\]$/,
    );
    expect(thrownBy(() => toBar({ ts: 60, open: 98, high: 101, low: 99, close: 100 })).message).toMatch(
      /: open 98 is outside \[low 99, high 101\]$/,
    );
    // A given high below the close leaves no room for it, whatever low is derived.
    expect(thrownBy(() => toBar({ ts: 60, high: 5, close: 7 })).code).toBe(ErrorCode.InvalidArgument);
    // Equal bounds are a consistent (flat) bar.
    expect(toBar({ ts: 60, open: 1, high: 1, low: 1, close: 1 })).toMatchObject({ high: 1, low: 1 });
  });
});
