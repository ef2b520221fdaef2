import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { normalizeMap, normalizeSequence, sequenceRange, valueRange } from '../../src/render/normalize.js';

const arr = (...v: number[]) => new Float32Array(v);

describe('normalizeMap', () => {
  it('frame: (M - min) / (max - min)', () => {
    expect(Array.from(normalizeMap(arr(1, 2, 3, 5), 'frame'))).toEqual([0, 0.25, 0.5, 1]);
  });

  it('frame: 0 everywhere when max == min', () => {
    expect(Array.from(normalizeMap(arr(3, 3, 3), 'frame'))).toEqual([0, 0, 0]);
    expect(Array.from(normalizeMap(arr(0, 0), 'frame'))).toEqual([0, 0]);
  });

  it('computes in float32', () => {
    const out = normalizeMap(arr(0, 1, 3), 'frame');
    expect(out[1]).toBe(Math.fround(1 / 3));
  });

  it('global: uses the given range, or the frame own range without one', () => {
    expect(Array.from(normalizeMap(arr(2, 3), 'global', { range: { min: 0, max: 4 } }))).toEqual([0.5, 0.75]);
    expect(Array.from(normalizeMap(arr(2, 3), 'global'))).toEqual([0, 1]);
  });

  it("official: (M - min) / (max + 1e-3), per frame, unclamped", () => {
    const out = normalizeMap(arr(1, 3), 'official');
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(Math.fround(2 / Math.fround(3 + Math.fround(1e-3))));
    expect(out[1]).toBeLessThan(1);
    // A silent frame stays 0 rather than dividing by zero.
    expect(Array.from(normalizeMap(arr(0, 0), 'official'))).toEqual([0, 0]);
  });

  it('fixed: M / limit clamped to [0, 1]', () => {
    expect(Array.from(normalizeMap(arr(0, 1, 2, 5, -1), 'fixed', { limit: 2 }))).toEqual([0, 0.5, 1, 1, 0]);
  });

  it('fixed: needs a finite limit > 0', () => {
    expect(() => normalizeMap(arr(1), 'fixed')).toThrow(UsageError);
    expect(() => normalizeMap(arr(1), 'fixed', { limit: 0 })).toThrow(/limit > 0/);
    expect(() => normalizeMap(arr(1), 'fixed', { limit: -2 })).toThrow(UsageError);
    expect(() => normalizeMap(arr(1), 'fixed', { limit: Number.NaN })).toThrow(UsageError);
    expect(() => normalizeMap(arr(1), 'fixed', { limit: Infinity })).toThrow(UsageError);
  });

  it('rejects an unknown mode', () => {
    expect(() => normalizeMap(arr(1), 'bogus' as never)).toThrow(UsageError);
  });
});

describe('ranges', () => {
  it('valueRange and sequenceRange', () => {
    expect(valueRange(arr(3, -1, 2))).toEqual({ min: -1, max: 3 });
    expect(valueRange(arr())).toEqual({ min: 0, max: 0 });
    expect(sequenceRange([arr(1, 2), arr(), arr(0, 7)])).toEqual({ min: 0, max: 7 });
    expect(sequenceRange([])).toEqual({ min: 0, max: 0 });
  });
});

describe('normalizeSequence', () => {
  const seq = arr(0, 1, 2, 4); // T = 2 frames of 2 values

  it('frame normalizes each step on its own', () => {
    expect(normalizeSequence(seq, 2, 'frame').map((f) => Array.from(f))).toEqual([[0, 1], [0, 1]]);
  });

  it('global shares one min/max over all steps', () => {
    expect(normalizeSequence(seq, 2, 'global').map((f) => Array.from(f))).toEqual([[0, 0.25], [0.5, 1]]);
  });

  it('global of a constant sequence is all 0', () => {
    expect(normalizeSequence(arr(5, 5, 5, 5), 2, 'global').map((f) => Array.from(f))).toEqual([[0, 0], [0, 0]]);
  });

  it('fixed passes the limit on', () => {
    expect(normalizeSequence(seq, 2, 'fixed', { limit: 4 }).map((f) => Array.from(f))).toEqual([[0, 0.25], [0.5, 1]]);
  });

  it('rejects a frame size that does not divide the data', () => {
    expect(() => normalizeSequence(seq, 3, 'frame')).toThrow(RangeError);
    expect(() => normalizeSequence(seq, 0, 'frame')).toThrow(RangeError);
  });
});
