import { inflateSync } from 'node:zlib';
import pngjs from 'pngjs';
import { InputError } from '../errors.js';
import { notA } from '../formats/sniff.js';
import { LIMITS } from '../limits.js';

const { PNG } = pngjs;

/**
 * PNG in and out for Node. Any PNG pngjs reads (gray, gray+alpha, RGB, RGBA, palette; 1 to 16 bit) comes back as
 * 8-bit RGBA (16-bit samples rescaled by pngjs as floor(v * 255 / 65535 + 0.5)), the form image.ts takes.
 */
export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** Largest side and pixel count accepted (docs/limits.md): 16 Mpixel is 64 MiB of RGBA before pngjs's working copies. */
export const MAX_PNG_SIDE = LIMITS.imageSide;
export const MAX_PNG_PIXELS = LIMITS.imagePixels;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Samples per pixel for each colour type, and the bit depths PNG allows with it. */
const COLOR_TYPES: Record<number, { samples: number; depths: readonly number[] }> = {
  0: { samples: 1, depths: [1, 2, 4, 8, 16] },
  2: { samples: 3, depths: [8, 16] },
  3: { samples: 1, depths: [1, 2, 4, 8] },
  4: { samples: 2, depths: [8, 16] },
  6: { samples: 4, depths: [8, 16] },
};

// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/** A problem found by our own checks; `invalid` false for a well-formed file we refuse (too large). */
class PngProblem extends Error {
  constructor(
    message: string,
    readonly invalid = true,
  ) {
    super(message);
  }
}

/** Bytes of filtered scanlines the image data must inflate to. */
function scanlineBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  return ADAM7.reduce(
    (sum, [x0, y0, dx, dy]) => sum + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
    0,
  );
}

/**
 * Check what pngjs does not, before it runs: the signature, IHDR (an absurd size is refused before anything is
 * allocated), the chunk layout, and that the image data is a whole zlib stream of the right length (pngjs's
 * synchronous inflate silently yields zeros for a corrupt or short stream on current Node).
 */
function checkStructure(bytes: Uint8Array): void {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new PngProblem('wrong signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const typeAt = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 33 || view.getUint32(8) !== 13 || typeAt(12) !== 'IHDR') throw new PngProblem('no IHDR chunk first');
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const colorType = bytes[25];
  const interlace = bytes[28];
  if (width === 0 || height === 0) throw new PngProblem(`size ${width}x${height}`);
  if (width > MAX_PNG_SIDE || height > MAX_PNG_SIDE || width * height > MAX_PNG_PIXELS) {
    throw new PngProblem(
      `PNG of ${width}x${height} is too large (at most ${MAX_PNG_SIDE} a side and ${MAX_PNG_PIXELS} pixels)`,
      false,
    );
  }
  const format = COLOR_TYPES[colorType];
  if (!format) throw new PngProblem(`colour type ${colorType}`);
  if (!format.depths.includes(depth)) throw new PngProblem(`bit depth ${depth} with colour type ${colorType}`);
  if (interlace > 1) throw new PngProblem(`interlace method ${interlace}`);

  const idat: Uint8Array[] = [];
  let at = 33;
  let ended = false;
  while (!ended) {
    if (at + 12 > bytes.length) throw new PngProblem('truncated (no IEND chunk)');
    const length = view.getUint32(at);
    if (at + 12 + length > bytes.length) throw new PngProblem(`truncated inside the ${typeAt(at + 4)} chunk`);
    const type = typeAt(at + 4);
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    ended = type === 'IEND';
    at += 12 + length;
  }
  if (idat.length === 0) throw new PngProblem('no image data');
  const expected = scanlineBytes(width, height, format.samples * depth, interlace === 1);
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (err) {
    // More data than the image needs is tolerated, as by libpng: pngjs reads what it needs.
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return;
    throw new PngProblem(`image data: ${(err as Error).message}`);
  }
  if (inflated.length < expected) throw new PngProblem(`image data is short (${inflated.length} of ${expected} bytes)`);
}

/** Decode a PNG file's bytes; `file` names it in errors (InputError, one line). */
export function decodePng(bytes: Uint8Array, file: string): DecodedPng {
  let png: { width: number; height: number; data: Buffer };
  const other = notA('a PNG image', bytes, 'a PNG image');
  if (other) throw new InputError(file, other);
  try {
    checkStructure(bytes);
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    if (err instanceof PngProblem && !err.invalid) throw new InputError(file, err.message);
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0].slice(0, 120);
    throw new InputError(file, `not a valid PNG: ${reason}`);
  }
  if (png.data.length !== png.width * png.height * 4) {
    throw new InputError(file, `not a valid PNG: decoded ${png.data.length} bytes for ${png.width}x${png.height}`);
  }
  return {
    width: png.width,
    height: png.height,
    rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength),
  };
}

/** An 8-bit RGBA PNG of the picture. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: ${width}x${height} is not a positive size`);
  }
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`encodePng: a ${width}x${height} RGBA picture needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const out = PNG.sync.write(png);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
