import { describe, expect, it } from 'vitest';
import { resizeBilinear, resizeBilinearInterleaved, resizeBilinearPlanar } from '../../src/render/resize.js';

/** The align_corners=False definition in float64, written independently of the float32 code under test. */
function reference(src: ArrayLike<number>, inH: number, inW: number, outH: number, outW: number): number[] {
  const axis = (d: number, inSize: number, outSize: number) => {
    const s = Math.max(0, ((d + 0.5) * inSize) / outSize - 0.5);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    return { i0, i1: Math.min(i0 + 1, inSize - 1), l: s - i0 };
  };
  const out: number[] = [];
  for (let y = 0; y < outH; y++) {
    const a = axis(y, inH, outH);
    for (let x = 0; x < outW; x++) {
      const b = axis(x, inW, outW);
      const v = (r: number, c: number) => src[r * inW + c];
      const top = v(a.i0, b.i0) * (1 - b.l) + v(a.i0, b.i1) * b.l;
      const bottom = v(a.i1, b.i0) * (1 - b.l) + v(a.i1, b.i1) * b.l;
      out.push(top * (1 - a.l) + bottom * a.l);
    }
  }
  return out;
}

/** A small deterministic generator, so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('resizeBilinear (PyTorch bilinear, align_corners=False)', () => {
  it('upsamples 2x2 to 4x4 as torch does', () => {
    const out = resizeBilinear(new Float32Array([1, 2, 3, 4]), 2, 2, 4, 4);
    expect(Array.from(out)).toEqual([
      1, 1.25, 1.75, 2,
      1.5, 1.75, 2.25, 2.5,
      2.5, 2.75, 3.25, 3.5,
      3, 3.25, 3.75, 4,
    ]);
  });

  it('downsamples 4x4 to 2x2 by averaging each 2x2 block centre', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    expect(Array.from(resizeBilinear(src, 4, 4, 2, 2))).toEqual([2.5, 4.5, 10.5, 12.5]);
  });

  it('clamps at the edges: 1x3 to 1x5 is [0, 0.4, 1, 1.6, 2] with float32 rounding', () => {
    const out = resizeBilinear(new Float32Array([0, 1, 2]), 1, 3, 1, 5);
    // scale = fl(3/5); fl(scale * 2.5) is a tie that rounds to 1.5 in float32, so the middle sample is exactly 1
    // (float64 arithmetic would give 1.0000000596).
    expect(out[2]).toBe(1);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(Math.fround(0.400000035762786865234375));
    expect(out[3]).toBeCloseTo(1.6, 6);
    expect(out[4]).toBe(2);
  });

  it('returns an equal copy when the size does not change', () => {
    const src = Float32Array.from({ length: 12 }, (_, i) => i * 0.1);
    const out = resizeBilinear(src, 3, 4, 3, 4);
    expect(out).not.toBe(src);
    expect(Array.from(out)).toEqual(Array.from(src));
  });

  it('leaves an axis whose size is unchanged untouched', () => {
    const src = Float32Array.from([0.1, 0.7, 0.3, 0.9, 0.5, 0.2]); // 2 rows x 3 columns
    const out = resizeBilinear(src, 2, 3, 4, 3);
    for (let x = 0; x < 3; x++) {
      expect(out[x]).toBe(src[x]);
      expect(out[9 + x]).toBe(src[3 + x]);
    }
  });

  it('agrees with the float64 definition within float32 rounding for many sizes', () => {
    const rand = lcg(42);
    for (let trial = 0; trial < 60; trial++) {
      const inH = 1 + Math.floor(rand() * 9);
      const inW = 1 + Math.floor(rand() * 9);
      const outH = 1 + Math.floor(rand() * 30);
      const outW = 1 + Math.floor(rand() * 30);
      const src = Float32Array.from({ length: inH * inW }, () => rand() * 10);
      const out = resizeBilinear(src, inH, inW, outH, outW);
      const ref = reference(src, inH, inW, outH, outW);
      expect(out.length).toBe(ref.length);
      for (let i = 0; i < ref.length; i++) expect(Math.abs(out[i] - ref[i])).toBeLessThan(1e-5);
    }
  });

  it('maps 14x14 onto 28x28 with the expected corner and interior samples', () => {
    const src = Float32Array.from({ length: 196 }, (_, i) => i % 14);
    const out = resizeBilinear(src, 14, 14, 28, 28);
    // column x samples source column (x + 0.5) / 2 - 0.5: 0 (clamped), 0.25, 0.75, ..., 12.75, 13 (clamped).
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0.25);
    expect(out[2]).toBe(0.75);
    expect(out[27]).toBe(13);
  });
});

describe('interleaved and planar variants', () => {
  it('resizes every channel of an interleaved image with the same weights', () => {
    const src = new Float32Array([1, 10, 100, 2, 20, 200, 3, 30, 300, 4, 40, 400]); // 2x2, 3 channels
    const out = resizeBilinearInterleaved(src, 2, 2, 3, 4, 4);
    const single = resizeBilinear(new Float32Array([1, 2, 3, 4]), 2, 2, 4, 4);
    for (let p = 0; p < 16; p++) {
      expect(out[p * 3]).toBe(single[p]);
      expect(out[p * 3 + 1]).toBe(Math.fround(single[p] * 10));
      expect(out[p * 3 + 2]).toBe(Math.fround(single[p] * 100));
    }
  });

  it('resizes a planar [C, H, W] image plane by plane', () => {
    const src = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = resizeBilinearPlanar(src, 2, 2, 2, 4, 4);
    expect(Array.from(out.subarray(0, 16))).toEqual(Array.from(resizeBilinear(src.subarray(0, 4), 2, 2, 4, 4)));
    expect(Array.from(out.subarray(16))).toEqual(Array.from(resizeBilinear(src.subarray(4), 2, 2, 4, 4)));
  });

  it('rejects sizes that do not match the data', () => {
    expect(() => resizeBilinear(new Float32Array(5), 2, 2, 4, 4)).toThrow(RangeError);
    expect(() => resizeBilinear(new Float32Array(4), 2, 2, 0, 4)).toThrow(RangeError);
    expect(() => resizeBilinearInterleaved(new Float32Array(4), 2, 2, 1.5, 4, 4)).toThrow(RangeError);
  });
});
