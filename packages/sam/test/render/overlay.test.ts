import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { colormapBytes } from '../../src/render/colormaps.js';
import { overlay } from '../../src/render/overlay.js';

const px = (out: Uint8Array, p: number) => Array.from(out.subarray(p * 4, p * 4 + 4));

describe('overlay: floor(255 * (alpha * colour + (1 - alpha) * image) + 0.5)', () => {
  it('blends half and half by default', () => {
    // jet at 0 is (0, 0, 0.5): r = g = 0.5 * 100/255 -> 50; b = 0.25 + 0.5 * 100/255 -> 113.75 -> 114.
    const out = overlay(new Uint8Array([100]), 1, 1, new Float32Array([0]), 'jet');
    expect(px(out, 0)).toEqual([50, 50, 114, 255]);
  });

  it('rounds half up, per channel', () => {
    // gray at 1 is 1: 0.5 + 0.5 * 0 -> 127.5 -> 128; 0.5 + 0.5 * 3/255 -> 129.0 -> 129
    const out = overlay(new Uint8Array([0, 3, 254]), 1, 1, new Float32Array([1]), 'gray');
    expect(px(out, 0)).toEqual([128, 129, 255, 255]);
  });

  it('alpha 1 shows the colormap, alpha 0 the image', () => {
    const image = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const map = new Float32Array([0.3, 0.9]);
    const full = overlay(image, 2, 1, map, 'viridis', 1);
    const v = colormapBytes('viridis');
    expect(px(full, 0)).toEqual([...v.subarray(76 * 3, 76 * 3 + 3), 255]); // floor(0.3 * 256) = 76
    expect(px(full, 1)).toEqual([...v.subarray(230 * 3, 230 * 3 + 3), 255]);
    const none = overlay(image, 2, 1, map, 'viridis', 0);
    expect(Array.from(none)).toEqual([10, 20, 30, 255, 40, 50, 60, 255]);
  });

  it('takes gray, RGB or RGBA images and composites RGBA over black', () => {
    const map = new Float32Array([0]);
    const gray = overlay(new Uint8Array([200]), 1, 1, map, 'gray', 0);
    const rgb = overlay(new Uint8Array([200, 200, 200]), 1, 1, map, 'gray', 0);
    const rgba = overlay(new Uint8Array([200, 200, 200, 255]), 1, 1, map, 'gray', 0);
    expect(Array.from(gray)).toEqual([200, 200, 200, 255]);
    expect(Array.from(rgb)).toEqual(Array.from(gray));
    expect(Array.from(rgba)).toEqual(Array.from(gray));
    expect(Array.from(overlay(new Uint8Array([200, 100, 50, 0]), 1, 1, map, 'gray', 0))).toEqual([0, 0, 0, 255]);
    expect(Array.from(overlay(new Uint8Array([200, 100, 50, 128]), 1, 1, map, 'gray', 0))).toEqual([100, 50, 25, 255]);
  });

  it('uses the colour at min(255, floor(v * 256)) and clamps out-of-range values', () => {
    const out = overlay(new Uint8Array(9), 3, 1, new Float32Array([-1, 1.5, 0.5]), 'gray', 1);
    expect([out[0], out[4], out[8]]).toEqual([0, 255, 128]);
  });

  it('rejects a bad alpha or mismatched sizes', () => {
    const image = new Uint8Array(4);
    const map = new Float32Array(1);
    expect(() => overlay(image, 1, 1, map, 'jet', 1.5)).toThrow(UsageError);
    expect(() => overlay(image, 1, 1, map, 'jet', Number.NaN)).toThrow(UsageError);
    expect(() => overlay(image, 1, 1, new Float32Array(2), 'jet')).toThrow(RangeError);
    expect(() => overlay(new Uint8Array(2), 1, 1, map, 'jet')).toThrow(RangeError);
  });
});
