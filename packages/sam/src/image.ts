import { InputError } from './errors.js';
import type { Model } from './model.js';
import { resizeBilinearPlanar } from './render/resize.js';

/**
 * Decoded images (RGBA bytes, rows top to bottom, as pngjs and a canvas give them) turned into model input
 * (docs/semantics.md §7) and into the picture a map is drawn over. Isomorphic: the same bytes give the same floats everywhere.
 *
 * Exact arithmetic, per pixel:
 *   composite over black  c' = fl(c * a / 255)       (c * a is an exact integer, so one rounding)
 *   luma (1 channel)      y  = fl(0.299 R' + 0.587 G' + 0.114 B')  evaluated in float64 left to right, rounded
 *                         once; with R' = G' = B' = v this gives v exactly, so a gray image enters the model
 *                         with the same pixel values as a grayscale array would (per-operation float32
 *                         rounding does not: it turns 35 of the 256 gray levels into v +- 1 ulp)
 * then the bilinear resize of `render/resize.ts` on each channel plane, when the size changes.
 */

export type Channels = 1 | 3;

function checkRgba(rgba: Uint8Array, width: number, height: number, file: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InputError(file, `image size ${width}x${height} is not a positive size`);
  }
  if (rgba.length !== width * height * 4) {
    throw new InputError(file, `a ${width}x${height} RGBA image needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
}

function composite(c: number, a: number): number {
  return Math.fround((c * a) / 255);
}

function luma(r: number, g: number, b: number): number {
  return Math.fround(0.299 * r + 0.587 * g + 0.114 * b);
}

/**
 * Model input pixels: a Float32Array [channels, outH, outW] of values 0..255, channel-major (C-order, as the
 * model's `[C, H, W]` input). `file` names the image in errors.
 */
export function imageToPixels(
  rgba: Uint8Array,
  width: number,
  height: number,
  channels: Channels,
  outH: number,
  outW: number,
  file = '',
): Float32Array {
  checkRgba(rgba, width, height, file);
  if (channels !== 1 && channels !== 3) throw new InputError(file, `a model input needs 1 or 3 channels, not ${channels}`);
  const plane = width * height;
  const planes = new Float32Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    const a = rgba[p * 4 + 3];
    const r = composite(rgba[p * 4], a);
    const g = composite(rgba[p * 4 + 1], a);
    const b = composite(rgba[p * 4 + 2], a);
    if (channels === 1) {
      planes[p] = luma(r, g, b);
    } else {
      planes[p] = r;
      planes[plane + p] = g;
      planes[2 * plane + p] = b;
    }
  }
  if (outH === height && outW === width) return planes;
  return resizeBilinearPlanar(planes, channels, height, width, outH, outW);
}

/** Interleaved RGB bytes with alpha composited over black: floor(c * a / 255 + 0.5). */
export function rgbaToRgb(rgba: Uint8Array, width: number, height: number): Uint8Array {
  checkRgba(rgba, width, height, '');
  const plane = width * height;
  const out = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    const a = rgba[p * 4 + 3];
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.floor(composite(rgba[p * 4 + c], a) + 0.5);
  }
  return out;
}

/**
 * The opaque RGBA picture a map is drawn over, as the model sees it: alpha composited over black and, for a
 * 1-channel model, the luma as gray. Same size as the input.
 */
export function baseImage(rgba: Uint8Array, width: number, height: number, channels: Channels): Uint8Array {
  checkRgba(rgba, width, height, '');
  const plane = width * height;
  const out = new Uint8Array(plane * 4);
  for (let p = 0; p < plane; p++) {
    const a = rgba[p * 4 + 3];
    const r = composite(rgba[p * 4], a);
    const g = composite(rgba[p * 4 + 1], a);
    const b = composite(rgba[p * 4 + 2], a);
    const o = p * 4;
    if (channels === 1) {
      out.fill(Math.floor(luma(r, g, b) + 0.5), o, o + 3);
    } else {
      out[o] = Math.floor(r + 0.5);
      out[o + 1] = Math.floor(g + 0.5);
      out[o + 2] = Math.floor(b + 0.5);
    }
    out[o + 3] = 255;
  }
  return out;
}

/**
 * Opaque RGBA from planar pixel values [channels, height, width] (1 channel: gray; 3: RGB), as when the input was an
 * array rather than an image: each value rounded (floor(v + 0.5)) and clamped to 0..255.
 */
export function pixelsToRgba(pixels: Float32Array, channels: Channels, height: number, width: number): Uint8Array {
  const plane = width * height;
  if (pixels.length !== channels * plane) {
    throw new RangeError(`expected ${channels}x${height}x${width} = ${channels * plane} pixel values, got ${pixels.length}`);
  }
  const out = new Uint8Array(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[(channels === 1 ? 0 : c) * plane + p];
      out[p * 4 + c] = v > 0 ? Math.min(255, Math.floor(v + 0.5)) : 0;
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** The channels and size of image input a model takes, or an InputError naming `file` when it takes no image. */
export function imageShape(model: Model, file = ''): { C: Channels; H: number; W: number } {
  const s = model.input.shape;
  if (s.length !== 3 || (s[0] !== 1 && s[0] !== 3))
    throw new InputError(file, `the model takes input [${s.join(',')}], not an image (1 or 3 channels)`);
  return { C: s[0] as Channels, H: s[1], W: s[2] };
}

/**
 * A decoded image as one sample of model input (docs/semantics.md §7): its pixels composited, converted to the model's channels
 * and resized to its input. The same path for the CLI and the web page, so both give the model the same floats.
 */
export function imageInput(model: Model, rgba: Uint8Array, width: number, height: number, file = ''): Float32Array {
  const { C, H, W } = imageShape(model, file);
  return imageToPixels(rgba, width, height, C, H, W, file);
}
