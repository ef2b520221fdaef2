import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  COLORMAPS,
  colorize,
  colormapBytes,
  colormapIndex,
  colormapTable,
  legendStrip,
  type ColormapName,
} from '../../src/render/colormaps.js';

const hex = (name: ColormapName, i: number) =>
  Array.from(colormapBytes(name).subarray(i * 3, i * 3 + 3), (b) => b.toString(16).padStart(2, '0')).join('');

describe('colormap tables', () => {
  it('are 256 RGB entries in [0, 1]', () => {
    for (const name of COLORMAPS) {
      const t = colormapTable(name);
      expect(t.length).toBe(768);
      for (const v of t) expect(v >= 0 && v <= 1).toBe(true);
    }
  });

  it('jet: matplotlib values at the ends and the middle', () => {
    const jet = colormapTable('jet');
    expect(Array.from(jet.subarray(0, 3))).toEqual([0, 0, 0.5]);
    expect(Array.from(jet.subarray(765))).toEqual([0.5, 0, 0]);
    // matplotlib: cm.jet(0.5) == (0.49019607843137253, 1.0, 0.4775458570524986, 1.0)
    expect(jet[384]).toBeCloseTo(0.49019607843137253, 14);
    expect(jet[385]).toBe(1);
    expect(jet[386]).toBeCloseTo(0.4775458570524986, 14);
    expect(hex('jet', 0)).toBe('000080');
    expect(hex('jet', 255)).toBe('800000');
  });

  it('jet: the segment breakpoints (red rises from x = 0.35, blue is 1 on [0.11, 0.34])', () => {
    const jet = colormapTable('jet');
    expect(jet[89 * 3]).toBe(0); // x = 89/255 = 0.349 < 0.35
    expect(jet[90 * 3]).toBeGreaterThan(0);
    for (let i = 29; i <= 86; i++) expect(jet[i * 3 + 2]).toBe(1); // 0.1137 .. 0.3373
    expect(jet[28 * 3 + 2]).toBeLessThan(1);
  });

  it('viridis and inferno: matplotlib listed data', () => {
    expect(hex('viridis', 0)).toBe('440154');
    expect(hex('viridis', 128)).toBe('21918c');
    expect(hex('viridis', 255)).toBe('fde725');
    expect(hex('inferno', 0)).toBe('000004');
    expect(hex('inferno', 128)).toBe('bc3754');
    expect(hex('inferno', 255)).toBe('fcffa4');
    expect(Array.from(colormapTable('viridis').subarray(0, 3))).toEqual([0.267004, 0.004874, 0.329415]);
    expect(Array.from(colormapTable('inferno').subarray(765))).toEqual([0.988362, 0.998364, 0.644924]);
  });

  it('gray: entry i is i / 255', () => {
    const gray = colormapTable('gray');
    for (const i of [0, 1, 127, 254, 255]) expect(gray[i * 3]).toBe(i / 255);
    expect(Array.from(colormapBytes('gray').subarray(3 * 77, 3 * 77 + 3))).toEqual([77, 77, 77]);
  });

  it('rejects an unknown name', () => {
    expect(() => colormapTable('hot' as ColormapName)).toThrow(UsageError);
  });
});

describe('colormapIndex: min(255, floor(v * 256))', () => {
  it('maps values to entries', () => {
    expect(colormapIndex(0)).toBe(0);
    expect(colormapIndex(1 / 256 - 1e-9)).toBe(0);
    expect(colormapIndex(1 / 256)).toBe(1);
    expect(colormapIndex(0.25)).toBe(64);
    expect(colormapIndex(0.5)).toBe(128);
    expect(colormapIndex(0.999)).toBe(255);
    expect(colormapIndex(1)).toBe(255);
  });

  it('clamps out-of-range values and NaN', () => {
    expect(colormapIndex(-0.5)).toBe(0);
    expect(colormapIndex(3)).toBe(255);
    expect(colormapIndex(Number.NaN)).toBe(0);
  });
});

describe('colorize and legendStrip', () => {
  it('colours each value, RGBA by default and RGB on request', () => {
    const norm = new Float32Array([0, 0.5, 1]);
    expect(Array.from(colorize(norm, 'gray'))).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
    expect(Array.from(colorize(norm, 'jet', 3).subarray(0, 3))).toEqual([0, 0, 128]);
    expect(colorize(norm, 'viridis', 3).length).toBe(9);
  });

  it('a 256-wide strip shows every entry once, left to right, on every row', () => {
    const strip = legendStrip('viridis', 256, 3);
    const bytes = colormapBytes('viridis');
    for (let y = 0; y < 3; y++) {
      for (const x of [0, 1, 100, 255]) {
        const o = (y * 256 + x) * 4;
        expect(Array.from(strip.subarray(o, o + 4))).toEqual([bytes[x * 3], bytes[x * 3 + 1], bytes[x * 3 + 2], 255]);
      }
    }
  });
});
