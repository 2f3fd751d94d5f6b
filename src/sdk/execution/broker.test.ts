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
});
