import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { baseImage, imageToPixels, pixelsToRgba, rgbaToRgb } from '../src/image.js';

/** RGBA bytes from [r, g, b, a] pixels. */
const rgba = (...pixels: number[][]) => Uint8Array.from(pixels.flat());

describe('imageToPixels', () => {
  it('gives a gray image its exact levels on a 1-channel model', () => {
    const levels = Array.from({ length: 256 }, (_, v) => [v, v, v, 255]);
    const pixels = imageToPixels(rgba(...levels), 256, 1, 1, 1, 256);
    expect(Array.from(pixels)).toEqual(Array.from({ length: 256 }, (_, v) => v));
  });

  it('takes luma fl(0.299 R + 0.587 G + 0.114 B) computed in float64 and rounded once', () => {
    const px = imageToPixels(rgba([255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [10, 20, 30, 255]), 4, 1, 1, 1, 4);
    expect(px[0]).toBe(Math.fround(76.245));
    expect(px[1]).toBe(Math.fround(149.685));
    expect(px[2]).toBe(Math.fround(29.07));
    expect(px[3]).toBe(Math.fround(0.299 * 10 + 0.587 * 20 + 0.114 * 30));
    expect(px[3]).toBeCloseTo(18.15, 5);
  });

  it('composites alpha over black: fl(c * a / 255)', () => {
    const px = imageToPixels(rgba([200, 100, 50, 128], [255, 255, 255, 0], [7, 8, 9, 255]), 3, 1, 3, 1, 3);
    // planar [C, H, W]: all reds, then greens, then blues
    expect(Array.from(px)).toEqual([
      Math.fround((200 * 128) / 255), 0, 7,
      Math.fround((100 * 128) / 255), 0, 8,
      Math.fround((50 * 128) / 255), 0, 9,
    ]);
  });

  it('composites before taking luma', () => {
    const px = imageToPixels(rgba([100, 100, 100, 51]), 1, 1, 1, 1, 1);
    expect(px[0]).toBe(Math.fround(20));
  });

  it('resizes to the model size with the bilinear rule, channel by channel', () => {
    const img = rgba([1, 10, 0, 255], [2, 20, 0, 255], [3, 30, 0, 255], [4, 40, 0, 255]);
    const px = imageToPixels(img, 2, 2, 3, 4, 4);
    expect(px.length).toBe(3 * 16);
    expect(Array.from(px.subarray(0, 4))).toEqual([1, 1.25, 1.75, 2]);
    expect(Array.from(px.subarray(12, 16))).toEqual([3, 3.25, 3.75, 4]);
    expect(Array.from(px.subarray(16, 20))).toEqual([10, 12.5, 17.5, 20]);
    expect(Array.from(px.subarray(32))).toEqual(new Array(16).fill(0));
  });

  it('downsizes to a non-square model input', () => {
    const img = new Uint8Array(4 * 2 * 4).fill(255);
    const px = imageToPixels(img, 4, 2, 1, 1, 2);
    expect(Array.from(px)).toEqual([255, 255]);
  });

  it('names the file when the bytes do not fit the size', () => {
    expect(() => imageToPixels(new Uint8Array(15), 2, 2, 1, 2, 2, 'x.png')).toThrow(InputError);
    expect(() => imageToPixels(new Uint8Array(15), 2, 2, 1, 2, 2, 'x.png')).toThrow(/^x\.png: a 2x2 RGBA image needs 16/);
    expect(() => imageToPixels(new Uint8Array(0), 0, 0, 1, 2, 2, 'x.png')).toThrow(InputError);
    expect(() => imageToPixels(new Uint8Array(16), 2, 2, 4 as 3, 2, 2, 'x.png')).toThrow(/1 or 3 channels/);
  });
});

describe('pictures to draw on', () => {
  it('rgbaToRgb composites over black and rounds', () => {
    expect(Array.from(rgbaToRgb(rgba([255, 1, 100, 128], [9, 8, 7, 255]), 2, 1))).toEqual([128, 1, 50, 9, 8, 7]);
  });

  it('baseImage: the luma as gray for a 1-channel model, RGB for a 3-channel one, opaque', () => {
    const img = rgba([255, 0, 0, 255], [10, 20, 30, 0]);
    expect(Array.from(baseImage(img, 2, 1, 1))).toEqual([76, 76, 76, 255, 0, 0, 0, 255]);
    expect(Array.from(baseImage(img, 2, 1, 3))).toEqual([255, 0, 0, 255, 0, 0, 0, 255]);
  });

  it('pixelsToRgba rounds and clamps planar pixel values', () => {
    expect(Array.from(pixelsToRgba(new Float32Array([-3, 127.5, 300]), 1, 1, 3))).toEqual([
      0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255,
    ]);
    expect(Array.from(pixelsToRgba(new Float32Array([1, 2, 3]), 3, 1, 1))).toEqual([1, 2, 3, 255]);
    expect(() => pixelsToRgba(new Float32Array(2), 3, 1, 1)).toThrow(RangeError);
  });
});
