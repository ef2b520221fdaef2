import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseIdxImages, parseIdxLabels } from '../../src/train/data/idx.js';
import { inputError } from '../formats/helpers.js';

/** An unsigned-byte IDX file with the given magic, dimensions and data. */
function idx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

describe('IDX', () => {
  it('reads images big-endian, row-major, as a copy', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
    const bytes = idx(0x803, [2, 3, 4], data);
    const img = parseIdxImages(bytes, 'x');
    expect(img).toMatchObject({ count: 2, rows: 3, cols: 4 });
    expect(Array.from(img.pixels)).toEqual(Array.from(data));
    bytes[16] = 99;
    expect(img.pixels[0]).toBe(0);
  });

  it('reads labels, also from a view at an offset', () => {
    const bytes = idx(0x801, [3], Uint8Array.of(7, 2, 1));
    const shifted = new Uint8Array(bytes.length + 5);
    shifted.set(bytes, 5);
    expect(Array.from(parseIdxLabels(shifted.subarray(5)))).toEqual([7, 2, 1]);
  });

  it('accepts an empty set', () => {
    expect(parseIdxImages(idx(0x803, [0, 28, 28], new Uint8Array(0))).count).toBe(0);
  });

  it('rejects a bad magic, naming the file', () => {
    const err = inputError(() => parseIdxImages(idx(0x801, [1, 1, 1], Uint8Array.of(1)), 'a.idx'));
    expect(err.file).toBe('a.idx');
    expect(err.message).toMatch(/magic 0x00000801, expected 0x00000803/);
    expect(() => parseIdxLabels(idx(0x803, [1], Uint8Array.of(1)))).toThrow(InputError);
    expect(() => parseIdxImages(idx(0x0d03, [1, 1, 1], Uint8Array.of(1)))).toThrow(/not an IDX images file/);
  });

  it('rejects truncated and oversized files', () => {
    const full = idx(0x803, [2, 2, 2], new Uint8Array(8));
    expect(inputError(() => parseIdxImages(full.subarray(0, full.length - 1))).message).toMatch(/truncated/);
    expect(inputError(() => parseIdxImages(full.subarray(0, 10))).message).toMatch(/too short/);
    expect(inputError(() => parseIdxLabels(new Uint8Array(3))).message).toMatch(/too short/);
    const long = new Uint8Array(full.length + 1);
    long.set(full);
    expect(inputError(() => parseIdxImages(long)).message).toMatch(/8 bytes of data but 9 follow/);
    // A header whose product is far beyond any file.
    expect(() => parseIdxImages(idx(0x803, [0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(4)))).toThrow(InputError);
  });

  it('rejects images with a zero side', () => {
    expect(() => parseIdxImages(idx(0x803, [3, 0, 28], new Uint8Array(0)))).toThrow(/size 0 x 28/);
  });
});
