import { deflateSync } from 'node:zlib';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { decodePng, encodePng } from '../../src/node/png.js';

const { PNG } = pngjs;
const F = 'digit.png';

/** A PNG written by pngjs from `data` in the given input layout. */
function pngjsFile(width: number, height: number, data: Buffer, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16 = 8): Uint8Array {
  const png = new PNG({ width, height });
  png.data = data;
  return PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth, inputHasAlpha: colorType >= 4 });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 8 + body.length);
  return out;
}

/** A PNG assembled chunk by chunk, for what pngjs cannot write (palette) and for broken files. */
function handmade(width: number, height: number, colorType: number, rows: Uint8Array, extra: Buffer[] = [], idat?: Uint8Array): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', idat ?? deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function expectInputError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const err = caught as InputError;
  expect(err.file).toBe(F);
  expect(err.message.startsWith(`${F}: `)).toBe(true);
  expect(err.message).not.toContain('\n');
  expect(err.message).toMatch(pattern);
}

describe('decodePng', () => {
  it('reads 8-bit gray as opaque RGBA', () => {
    const img = decodePng(pngjsFile(3, 1, Buffer.from([0, 128, 255]), 0), F);
    expect(img.width).toBe(3);
    expect(img.height).toBe(1);
    expect(Array.from(img.rgba)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });

  it('reads gray + alpha, RGB and RGBA', () => {
    expect(Array.from(decodePng(pngjsFile(1, 1, Buffer.from([90, 7]), 4), F).rgba)).toEqual([90, 90, 90, 7]);
    expect(Array.from(decodePng(pngjsFile(2, 1, Buffer.from([1, 2, 3, 4, 5, 6]), 2), F).rgba)).toEqual([
      1, 2, 3, 255, 4, 5, 6, 255,
    ]);
    const rgba = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120];
    const img = decodePng(pngjsFile(1, 3, Buffer.from(rgba), 6), F);
    expect([img.width, img.height]).toEqual([1, 3]);
    expect(Array.from(img.rgba)).toEqual(rgba);
  });

  it('reads 16-bit samples rescaled to 8 bits', () => {
    const samples = new Uint16Array([0, 65535, 257 * 77, 32896, 1000, 65280]); // 2 RGB pixels
    const img = decodePng(pngjsFile(2, 1, Buffer.from(samples.buffer), 2, 16), F);
    const scaled = Array.from(samples, (v) => Math.floor((v * 255) / 65535 + 0.5));
    expect(Array.from(img.rgba)).toEqual([scaled[0], scaled[1], scaled[2], 255, scaled[3], scaled[4], scaled[5], 255]);
    expect(scaled.slice(0, 3)).toEqual([0, 255, 77]);
  });

  it('reads a palette image', () => {
    const plte = chunk('PLTE', new Uint8Array([255, 0, 0, 0, 0, 255]));
    const withPalette = decodePng(handmade(2, 1, 3, new Uint8Array([0, 1, 0]), [plte]), F);
    expect(Array.from(withPalette.rgba)).toEqual([0, 0, 255, 255, 255, 0, 0, 255]);
  });

  it('round-trips what encodePng writes', () => {
    const rgba = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const bytes = encodePng(5, 3, rgba);
    expect(Array.from(bytes.subarray(1, 4), (b) => String.fromCharCode(b)).join('')).toBe('PNG');
    const img = decodePng(bytes, F);
    expect([img.width, img.height]).toEqual([5, 3]);
    expect(Array.from(img.rgba)).toEqual(Array.from(rgba));
  });

  it('rejects bytes that are not a PNG', () => {
    expectInputError(() => decodePng(new Uint8Array(0), F), /not a valid PNG: wrong signature/);
    // A file of another known format is named for what it is.
    expectInputError(() => decodePng(new TextEncoder().encode('GIF89a........'), F), /not a PNG image \(it is a GIF image\)/);
    const jpegish = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0]);
    expectInputError(() => decodePng(jpegish, F), /not a PNG image \(it is a JPEG image\)/);
    expectInputError(() => decodePng(new TextEncoder().encode('just some text here'), F), /not a valid PNG: wrong signature/);
  });

  it('rejects a truncated file', () => {
    const good = encodePng(8, 8, new Uint8Array(8 * 8 * 4).fill(200));
    for (const cut of [8, 20, 40, good.length - 20, good.length - 1]) {
      expectInputError(() => decodePng(good.subarray(0, cut), F), /not a valid PNG/);
    }
  });

  it('rejects a corrupt chunk (bad CRC) and garbage IDAT data', () => {
    const good = encodePng(4, 4, new Uint8Array(64).fill(9));
    const idatLength = new DataView(good.buffer, good.byteOffset).getUint32(33);
    for (const at of [40, 45, 41 + idatLength]) { // the chunk type, its data, its CRC
      const flipped = good.slice();
      flipped[at] ^= 0xff;
      expectInputError(() => decodePng(flipped, F), /not a valid PNG/);
    }
    const garbage = handmade(4, 4, 2, new Uint8Array(0), [], Uint8Array.from({ length: 40 }, (_, i) => (i * 91 + 17) % 256));
    expectInputError(() => decodePng(garbage, F), /not a valid PNG/);
    const short = handmade(4, 4, 2, new Uint8Array(5));
    expectInputError(() => decodePng(short, F), /image data is short/);
    const noPalette = handmade(2, 1, 3, new Uint8Array([0, 1, 0]));
    expectInputError(() => decodePng(noPalette, F), /palette/);
    const badDepth = encodePng(1, 1, new Uint8Array(4));
    badDepth[24] = 3;
    expectInputError(() => decodePng(badDepth, F), /bit depth 3/);
  });

  it('tolerates image data longer than the image needs', () => {
    const rows = new Uint8Array([0, 10, 20, 30, 99, 99, 99]); // one RGB pixel row, then 3 extra bytes
    expect(Array.from(decodePng(handmade(1, 1, 2, rows), F).rgba)).toEqual([10, 20, 30, 255]);
  });

  it('reads an interlaced image', () => {
    // 2x2 RGB, Adam7: pass 1 holds (0,0), pass 6 (1,0), pass 7 the row y = 1; each pass row starts with filter 0.
    const rows = new Uint8Array([0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 10, 11, 12]);
    const ihdrInterlaced = handmade(2, 2, 2, rows);
    ihdrInterlaced[28] = 1;
    const ihdrBody = ihdrInterlaced.subarray(12, 29);
    new DataView(ihdrInterlaced.buffer, ihdrInterlaced.byteOffset).setUint32(29, crc32(ihdrBody));
    const img = decodePng(ihdrInterlaced, F);
    expect(Array.from(img.rgba)).toEqual([1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 255]);
  });

  it('rejects a missing IHDR, a zero size and an absurd size before decoding', () => {
    const good = encodePng(1, 1, new Uint8Array(4));
    const noIhdr = good.slice();
    noIhdr.set([0x49, 0x44, 0x41, 0x54], 12); // "IDAT" where IHDR should be
    expectInputError(() => decodePng(noIhdr, F), /no IHDR/);
    expectInputError(() => decodePng(handmade(0, 5, 6, new Uint8Array(0)), F), /size 0x5/);
    // The IDAT is tiny and valid zlib: only the header check stands between this and a 40 GB allocation.
    expectInputError(() => decodePng(handmade(100000, 100000, 6, new Uint8Array(1)), F), /too large/);
    expectInputError(() => decodePng(handmade(16384, 8192, 6, new Uint8Array(1)), F), /too large/);
    expectInputError(() => decodePng(handmade(100000, 1, 6, new Uint8Array(1)), F), /^digit\.png: PNG of 100000x1 is too large/);
  });
});

describe('encodePng', () => {
  it('rejects data of the wrong length', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(RangeError);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(RangeError);
  });
});
