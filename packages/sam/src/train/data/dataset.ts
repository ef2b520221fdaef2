/**
 * An in-memory image classification data set (gray images of bytes: 1 x 28 x 28 for MNIST and Fashion-MNIST, 1 x 48
 * x 48 for the generated sets of docs/datasets.md) and the pieces to walk it in epochs: a subset, a seeded shuffle that
 * gives the same order in every JS engine, and batching.
 */
import { InputError, UsageError } from '../../errors.js';
import type { IdxImages } from './idx.js';

export const IMAGE_HEIGHT = 28;
export const IMAGE_WIDTH = 28;
export const IMAGE_PIXELS = IMAGE_HEIGHT * IMAGE_WIDTH;

export interface Dataset {
  readonly name: string;
  readonly count: number;
  readonly channels: 1;
  /** 28 for MNIST and Fashion-MNIST, 48 for the generated sets (docs/datasets.md). */
  readonly height: number;
  readonly width: number;
  /** count * height * width bytes, 0..255, image after image, row-major. */
  readonly pixels: Uint8Array;
  /** count labels, each an index into `classes`. */
  readonly labels: Uint8Array;
  readonly classes: string[];
}

/** Puts images and labels together, checking they fit each other and the 28 x 28 shape. */
export function makeDataset(
  name: string,
  images: IdxImages,
  labels: Uint8Array,
  classes: readonly string[],
  file = '',
): Dataset {
  if (images.rows !== IMAGE_HEIGHT || images.cols !== IMAGE_WIDTH) {
    throw new InputError(file, `images are ${images.rows} x ${images.cols}, expected ${IMAGE_HEIGHT} x ${IMAGE_WIDTH}`);
  }
  if (images.pixels.length !== images.count * IMAGE_PIXELS) {
    throw new InputError(file, `${images.pixels.length} pixel bytes do not make ${images.count} images`);
  }
  if (labels.length !== images.count) {
    throw new InputError(file, `${images.count} images but ${labels.length} labels`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= classes.length) {
      throw new InputError(file, `label ${labels[i]} of item ${i} is not one of the ${classes.length} classes`);
    }
  }
  return {
    name,
    count: images.count,
    channels: 1,
    height: IMAGE_HEIGHT,
    width: IMAGE_WIDTH,
    pixels: images.pixels,
    labels,
    classes: [...classes],
  };
}

/** The items at `indices`, in that order (repeats allowed), copied into a new data set of the same name. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const n = ds.channels * ds.height * ds.width;
  const pixels = new Uint8Array(indices.length * n);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.count) {
      throw new UsageError(`subset index ${i} is outside the ${ds.count} items of ${ds.name}`);
    }
    pixels.set(ds.pixels.subarray(i * n, (i + 1) * n), k * n);
    labels[k] = ds.labels[i];
  }
  return { name: ds.name, count: indices.length, channels: ds.channels, height: ds.height, width: ds.width, pixels, labels, classes: [...ds.classes] };
}

/**
 * splitmix32 step (the 32-bit variant of Steele et al.'s SplitMix, as used to seed xoshiro): only integer ops
 * (Math.imul, shifts, xor), so every engine gives the same words. Returns [output, nextState].
 */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

/** xoshiro128** (Blackman & Vigna), 32-bit words; written out so the stream is fixed by the code, not the engine. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(s0: number, s1: number, s2: number, s3: number) {
    // The all-zero state is the one state xoshiro cannot leave.
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** The next uint32. */
  next(): number {
    const m = Math.imul(this.s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform in [0, n), n <= 2^32, by rejection so no value is favoured (a bare `% n` would be, slightly). */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }
}

function checkUint32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new UsageError(`${what} must be an integer from 0 to 4294967295, got ${v}`);
  }
}

/**
 * The order to visit `count` items in during `epoch` of a run seeded with `seed`: a Fisher-Yates shuffle driven by
 * xoshiro128**, so the order is the same in Node and every browser. Each state word mixes a splitmix32 word of the
 * seed with one of the epoch: xoshiro's first outputs depend on one state word only, so a word from the seed alone
 * would give every epoch the same last items. The first outputs are dropped too, for the same reason.
 */
export function shuffle(count: number, seed: number, epoch: number): Uint32Array {
  checkUint32('the item count', count);
  checkUint32('the seed', seed);
  checkUint32('the epoch', epoch);
  const words: number[] = [];
  let a = seed;
  // Salted and multiplied by an odd constant so that equal seed and epoch words do not cancel.
  let b = epoch ^ 0x6a09e667;
  for (let i = 0; i < 4; i++) {
    const [x, na] = splitmix32(a);
    const [y, nb] = splitmix32(b);
    words.push(x ^ Math.imul(y, 0x2c1b3c6d));
    a = na;
    b = nb;
  }
  const rng = new Xoshiro128(words[0], words[1], words[2], words[3]);
  for (let i = 0; i < 8; i++) rng.next();
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/**
 * Cuts `order` into consecutive batches of `batchSize` (views, not copies). The last one is shorter when the count
 * does not divide evenly, unless `dropLast`, which leaves it out so every batch has the same size.
 */
export function batches(order: Uint32Array, batchSize: number, dropLast = false): Uint32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`the batch size must be a whole number of at least 1, got ${batchSize}`);
  }
  const out: Uint32Array[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(start + batchSize, order.length);
    if (dropLast && end - start < batchSize) break;
    out.push(order.subarray(start, end));
  }
  return out;
}
