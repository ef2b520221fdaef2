import { createHash } from 'node:crypto';
import { rngNext, rngSeed } from '@spikelens/core-wasm/twin';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/errors.js';
import { loadDataset } from '../../src/node/datasets.js';
import {
  CANVAS_PIXELS,
  CANVAS_SIDE,
  GENERATED_NAMES,
  ImageGenerator,
  SEED_OFFSETS,
  boxesOf,
  describeGenerator,
  generateDataset,
  streamSeed,
  type Box,
  type GeneratedName,
  type GeneratedSplit,
} from '../../src/train/data/cluttered.js';
import type { Dataset } from '../../src/train/data/dataset.js';

/**
 * The generated sets of docs/datasets.md, checked against an independent replay of the documented draws: every
 * image is rebuilt here from the draw order alone (the stream, floor(u * n), the redraw rules, max pasting) and
 * must match the generator byte for byte, and every box is recomputed from the source digit and its offset.
 */

let mnistTest: Dataset;
let mnistTrain: Dataset;
beforeAll(async () => {
  mnistTest = await loadDataset('mnist', 'test');
  mnistTrain = await loadDataset('mnist', 'train');
}, 60_000);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Replay {
  label: number;
  pixels: Uint8Array;
  digits: { source: number; class: number; y: number; x: number; box: Box | null }[];
  pieces: { source: number; cropY: number; cropX: number; y: number; x: number }[];
}

/** The bounding box of the digit's nonzero pixels, moved to (y, x): computed the plain way, from the rows and columns with ink. */
function boxOf(src: Dataset, k: number, y: number, x: number): Box | null {
  const rows: number[] = [];
  const cols: number[] = [];
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 28; c++)
      if (src.pixels[k * 784 + r * 28 + c] !== 0) {
        rows.push(r);
        cols.push(c);
      }
  if (!rows.length) return null;
  return [y + Math.min(...rows), x + Math.min(...cols), y + Math.max(...rows), x + Math.max(...cols)];
}

/** docs/datasets.md, written out again from the text: the stream, the draws in order, and the canvas. */
function replay(src: Dataset, name: GeneratedName, split: GeneratedSplit, seed: number, i: number): Replay {
  const offset = name === 'two-digit' ? 3 : split === 'train' ? 1 : 2;
  const state = new Uint32Array(4);
  rngSeed(state, 1, (seed + offset) % 2 ** 32, i);
  const draw = (n: number): number => Math.floor(((rngNext(state, 0) >>> 8) / 2 ** 24) * n);
  const canvas = new Uint8Array(48 * 48);
  const paste = (k: number, cy: number, cx: number, h: number, w: number, y: number, x: number): void => {
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++) {
        const o = (y + r) * 48 + x + c;
        canvas[o] = Math.max(canvas[o], src.pixels[k * 784 + (cy + r) * 28 + cx + c]);
      }
  };
  const digit = (k: number, y: number, x: number) => ({ source: k, class: src.labels[k], y, x, box: boxOf(src, k, y, x) });
  const N = src.count;
  if (name === 'cluttered-mnist') {
    const target = draw(N);
    const oy = draw(21);
    const ox = draw(21);
    paste(target, 0, 0, 28, 28, oy, ox);
    const pieces = [];
    for (let p = 0; p < 6; p++) {
      let source = draw(N);
      while (source === target) source = draw(N);
      const piece = { source, cropY: draw(21), cropX: draw(21), y: draw(41), x: draw(41) };
      paste(piece.source, piece.cropY, piece.cropX, 8, 8, piece.y, piece.x);
      pieces.push(piece);
    }
    return { label: src.labels[target], pixels: canvas, digits: [digit(target, oy, ox)], pieces };
  }
  const first = draw(N);
  let second = draw(N);
  while (src.labels[second] === src.labels[first]) second = draw(N);
  const diagonal = draw(2);
  const a = digit(first, 0, diagonal ? 20 : 0);
  const b = digit(second, 20, diagonal ? 0 : 20);
  paste(first, 0, 0, 28, 28, a.y, a.x);
  paste(second, 0, 0, 28, 28, b.y, b.x);
  return { label: src.labels[first], pixels: canvas, digits: [a, b], pieces: [] };
}

describe('the stream', () => {
  it('is the generator of docs/semantics.md section 6 (its known answers)', () => {
    const state = new Uint32Array(4);
    rngSeed(state, 1, 7, 1);
    expect(Array.from({ length: 4 }, () => rngNext(state, 0).toString(16).padStart(8, '0'))).toEqual(['a9877f15', 'e31dca2d', '314d4a57', 'a1c94c52']);
  });

  it('gives each set and split a seed offset that is distinct mod 4 and never 0 mod 4', () => {
    const offsets = [SEED_OFFSETS['cluttered-mnist'].train!, SEED_OFFSETS['cluttered-mnist'].test!, SEED_OFFSETS['two-digit'].test!];
    expect(offsets).toEqual([1, 2, 3]);
    expect(new Set(offsets.map((o) => o % 4)).size).toBe(3);
    expect(offsets.every((o) => o % 4 !== 0)).toBe(true);
    expect(streamSeed('cluttered-mnist', 'test', 0xffffffff)).toBe(1);
    expect(() => streamSeed('two-digit', 'train', 0)).toThrow(UsageError);
  });
});

describe('cluttered-mnist', () => {
  it('matches a replay of the documented draws, pixel for pixel (every pixel the max of the digit and the pieces on it)', () => {
    for (const [split, src] of [['test', mnistTest], ['train', mnistTrain]] as const) {
      const gen = new ImageGenerator(src, 'cluttered-mnist', split, 12345);
      for (let i = 0; i < 300; i++) {
        const img = gen.image(i);
        const want = replay(src, 'cluttered-mnist', split, 12345, i);
        if (!sameBytes(img.pixels, want.pixels)) expect.fail(`${split} image ${i}: pixels differ from the replay`);
        expect(img.label).toBe(want.label);
        expect(img.digits).toEqual(want.digits);
        expect(img.pieces).toEqual(want.pieces);
      }
    }
  });

  it("boxes every target digit by its nonzero pixels on the canvas, before clutter", () => {
    const ds = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 2000, seed: 7 });
    const gen = new ImageGenerator(mnistTest, 'cluttered-mnist', 'test', 7);
    const oys = new Set<number>();
    for (let k = 0; k < ds.count; k++) {
      const s = ds.sources[k];
      const img = gen.image(k);
      const { y, x } = img.digits[0];
      oys.add(y);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(20);
      expect(x).toBeLessThanOrEqual(20);
      expect(boxesOf(ds, k)).toEqual([{ class: mnistTest.labels[s], box: boxOf(mnistTest, s, y, x) }]);
      expect(ds.labels[k]).toBe(mnistTest.labels[s]);
      // the target's own pixels are all on the canvas, under the clutter (max never lowers a pixel)
      for (let r = 0; r < 28; r++)
        for (let c = 0; c < 28; c++)
          if (ds.pixels[k * CANVAS_PIXELS + (y + r) * 48 + x + c] < mnistTest.pixels[s * 784 + r * 28 + c]) expect.fail(`image ${k}: a digit pixel was lowered`);
    }
    // the offsets cover 0..20
    expect(Math.min(...oys)).toBe(0);
    expect(Math.max(...oys)).toBe(20);
  });

  it('never takes a clutter piece from the target image itself', () => {
    const gen = new ImageGenerator(mnistTest, 'cluttered-mnist', 'test', 0);
    for (let i = 0; i < 2000; i++) {
      const img = gen.image(i);
      for (const p of img.pieces) expect(p.source).not.toBe(img.digits[0].source);
    }
  });

  it('is reproducible from its seed, and another seed gives another set', () => {
    const a = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 200, seed: 3 });
    const b = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 200, seed: 3 });
    const c = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 200, seed: 4 });
    expect(sameBytes(a.pixels, b.pixels)).toBe(true);
    expect(Array.from(a.boxes)).toEqual(Array.from(b.boxes));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(sameBytes(a.pixels, c.pixels)).toBe(false);
  });

  it('makes any slice alone with the bytes of the whole set (images 5000..5099)', async () => {
    const whole = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 5100 });
    const slice = await loadDataset('cluttered-mnist', 'test', { start: 5000, count: 100 });
    expect(slice).toMatchObject({ name: 'cluttered-mnist', split: 'test', start: 5000, count: 100, height: 48, width: 48, seed: 0 });
    expect(sameBytes(slice.pixels, whole.pixels.subarray(5000 * CANVAS_PIXELS))).toBe(true);
    expect(Array.from(slice.labels)).toEqual(Array.from(whole.labels.subarray(5000)));
    expect(Array.from(slice.boxes)).toEqual(Array.from(whole.boxes.subarray(5000 * 4)));
    // and one image alone, in any order
    const gen = new ImageGenerator(mnistTest, 'cluttered-mnist', 'test', 0);
    const late = gen.image(5099);
    gen.image(3);
    expect(sameBytes(gen.image(5099).pixels, late.pixels)).toBe(true);
    expect(sameBytes(late.pixels, whole.pixels.subarray(5099 * CANVAS_PIXELS))).toBe(true);
  });

  it('draws train images from the training set and test images from the test set, with streams of their own', () => {
    const train = generateDataset(mnistTrain, 'cluttered-mnist', 'train', { count: 500 });
    const test = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 500 });
    expect(Math.max(...train.sources)).toBeGreaterThanOrEqual(10000);
    // the same index draws differently in the two splits (not just scaled)
    const same = Array.from(train.sources).filter((s, k) => Math.floor((s * 10000) / 60000) === test.sources[k]).length;
    expect(same).toBeLessThan(20);
  });

  it('keeps a fixed definition: the first images of the seed-0 test sets', () => {
    const ds = generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 20 });
    const img = new ImageGenerator(mnistTest, 'cluttered-mnist', 'test', 0).image(0);
    expect(img.label).toBe(3);
    expect(img.digits[0]).toMatchObject({ source: 4885, y: 20, x: 15, box: [25, 21, 44, 36] });
    expect(img.pieces[0]).toEqual({ source: 5862, cropY: 7, cropX: 16, y: 7, x: 26 });
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([3, 1, 2, 4, 2]);
    expect(createHash('sha256').update(ds.pixels).digest('hex').slice(0, 16)).toBe('2bd9b204004c17db');
    const two = generateDataset(mnistTest, 'two-digit', 'test', { count: 20 });
    expect(Array.from(two.labels.subarray(0, 5))).toEqual([1, 0, 9, 2, 3]);
    expect(createHash('sha256').update(two.pixels).digest('hex').slice(0, 16)).toBe('b98fa518b788a495');
  });
});

describe('two-digit', () => {
  it('matches a replay of the documented draws: two digits of different classes on a diagonal, no clutter', () => {
    const gen = new ImageGenerator(mnistTest, 'two-digit', 'test', 99);
    const diagonals = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const img = gen.image(i);
      const want = replay(mnistTest, 'two-digit', 'test', 99, i);
      if (!sameBytes(img.pixels, want.pixels)) expect.fail(`image ${i}: pixels differ from the replay`);
      expect(img.digits).toEqual(want.digits);
      expect(img.pieces).toEqual([]);
      const [a, b] = img.digits;
      expect(a.class).not.toBe(b.class);
      expect(img.label).toBe(a.class);
      expect(a.y).toBe(0);
      expect(b.y).toBe(20);
      expect(a.x + b.x).toBe(20);
      diagonals.add(a.x);
      expect(a.box).toEqual(boxOf(mnistTest, a.source, a.y, a.x));
      expect(b.box).toEqual(boxOf(mnistTest, b.source, b.y, b.x));
    }
    expect([...diagonals].sort()).toEqual([0, 20]);
  });

  it('records both boxes with their classes in the data set', async () => {
    const ds = await loadDataset('two-digit', 'test', { count: 50, seed: 5 });
    expect(ds.boxesPerImage).toBe(2);
    const gen = new ImageGenerator(mnistTest, 'two-digit', 'test', 5);
    for (let k = 0; k < 50; k++) {
      const img = gen.image(k);
      expect(boxesOf(ds, k)).toEqual(img.digits.map((d) => ({ class: d.class, box: d.box })));
      expect(ds.labels[k]).toBe(img.digits[0].class);
    }
  });

  it('is test-only', async () => {
    await expect(loadDataset('two-digit', 'train')).rejects.toThrow(/test-only/);
    expect(() => new ImageGenerator(mnistTrain, 'two-digit', 'train')).toThrow(UsageError);
  });
});

describe('refusals', () => {
  const toy = (count: number, labels: number[], side = 28): Dataset => ({
    name: 'toy', count, channels: 1, height: side, width: side, pixels: new Uint8Array(count * side * side), labels: Uint8Array.from(labels), classes: ['a', 'b'],
  });
  it('refuses sources it cannot draw from', () => {
    expect(() => new ImageGenerator(toy(2, [0, 1], 14), 'cluttered-mnist', 'test')).toThrow(InputError);
    expect(() => new ImageGenerator(toy(1, [0]), 'cluttered-mnist', 'test')).toThrow(/at least 2 source images/);
    expect(() => new ImageGenerator(toy(3, [1, 1, 1]), 'two-digit', 'test')).toThrow(/at least 2 classes/);
  });
  it('gives a blank digit no box', () => {
    const img = new ImageGenerator(toy(2, [0, 1]), 'two-digit', 'test').image(0);
    expect(img.digits.map((d) => d.box)).toEqual([null, null]);
  });
  it('refuses bad seeds, indices, counts and names', async () => {
    expect(() => new ImageGenerator(mnistTest, 'cluttered-mnist', 'test', -1)).toThrow(UsageError);
    expect(() => new ImageGenerator(mnistTest, 'cluttered-mnist', 'test', 2 ** 32)).toThrow(UsageError);
    expect(() => new ImageGenerator(mnistTest, 'mnist' as GeneratedName, 'test')).toThrow(UsageError);
    expect(() => new ImageGenerator(mnistTest, 'cluttered-mnist', 'test').image(1.5)).toThrow(UsageError);
    expect(() => generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 0 })).toThrow(UsageError);
    expect(() => generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 2, start: 2 ** 32 - 1 })).toThrow(/past the last index/);
    // over the in-memory limit of docs/limits.md (256 MiB of pixels): refused before anything is allocated
    expect(() => generateDataset(mnistTest, 'cluttered-mnist', 'test', { count: 200_000 })).toThrow(/more than the 256 MiB/);
    await expect(loadDataset('mnist', 'test', { count: 5 })).rejects.toThrow(/apply to the generated/);
  });
  it('describes every set it makes', () => {
    for (const name of GENERATED_NAMES) expect(describeGenerator(name, 'test')).toMatch(/xoshiro128\*\*/);
    expect(describeGenerator('cluttered-mnist', 'train')).toMatch(/seed \+ 1 \+ 4 \* 0x9E3779B9 \* i/);
    expect(CANVAS_SIDE).toBe(48);
  });
});
