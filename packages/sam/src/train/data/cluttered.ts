/**
 * The generated data sets for measuring explanations against known boxes (docs/datasets.md is the normative text):
 *
 * - `cluttered-mnist`: a 48 x 48 canvas of zeros, one MNIST digit copied in at a random offset (0..20 each way), then
 *   6 clutter pieces (8 x 8 crops of other MNIST images of the same split) pasted with max(canvas, piece). The label
 *   is the digit's class; its box is the bounding box of its nonzero pixels, before clutter.
 * - `two-digit` (test only): two test digits of different classes on one diagonal of the canvas, at (0, 0) and
 *   (20, 20) or at (0, 20) and (20, 0), no clutter. The label is the class of the first digit, the one in the top
 *   row; both boxes are recorded, each with its class.
 *
 * Image i of a set has a random stream of its own, the generator of docs/semantics.md §6 (splitmix32-seeded
 * xoshiro128**, the twin in @spikelens/core-wasm/twin) with key i and seed (seed + SEED_OFFSETS[set][split]) mod
 * 2^32, so any slice of a set is generated alone with the same bytes. Isomorphic: no Node imports.
 */
import { rngNext, rngSeed } from '@spikelens/core-wasm/twin';
import { InputError, UsageError } from '../../errors.js';
import { LIMITS, formatBytes } from '../../limits.js';
import type { Dataset } from './dataset.js';

export type GeneratedName = 'cluttered-mnist' | 'two-digit';
export type GeneratedSplit = 'train' | 'test';

export const GENERATED_NAMES: readonly GeneratedName[] = ['cluttered-mnist', 'two-digit'];

/** Side of the square canvas, in pixels. */
export const CANVAS_SIDE = 48;
export const CANVAS_PIXELS = CANVAS_SIDE * CANVAS_SIDE;
/** Side of a source (MNIST) digit. */
export const DIGIT_SIDE = 28;
/** Largest digit offset: a digit lies fully on the canvas at offsets 0..MAX_OFFSET. */
export const MAX_OFFSET = CANVAS_SIDE - DIGIT_SIDE;
export const CLUTTER_PIECES = 6;
export const PIECE_SIDE = 8;

/**
 * Added to the seed (mod 2^32) to make each set's and split's stream seed. The three are distinct mod 4, and none is
 * 0 mod 4: since the stream of key i starts at x0 = seed + 4 * 0x9E3779B9 * i, two streams whose seeds differ by a
 * non-multiple of 4 never coincide, so the three sets never share a stream, and none shares one with the Poisson
 * encoder run with the same seed (docs/datasets.md).
 */
export const SEED_OFFSETS: { readonly [K in GeneratedName]: Readonly<Partial<Record<GeneratedSplit, number>>> } = {
  'cluttered-mnist': { train: 1, test: 2 },
  'two-digit': { test: 3 },
};

/** Inclusive [y0, x0, y1, x1] in canvas pixels (row, column; 0-based, origin top left). */
export type Box = readonly [number, number, number, number];

/** A digit placed on the canvas: where from, its class, its top-left offset and its box (null if it has no ink). */
export interface PlacedDigit {
  /** Index of the digit in the source split. */
  readonly source: number;
  readonly class: number;
  readonly y: number;
  readonly x: number;
  readonly box: Box | null;
}

/** A clutter piece: the 8 x 8 crop of source image `source` at (cropY, cropX), pasted with its top left at (y, x). */
export interface ClutterPiece {
  readonly source: number;
  readonly cropY: number;
  readonly cropX: number;
  readonly y: number;
  readonly x: number;
}

export interface GeneratedImage {
  /** The image's index in its set (its stream key). */
  readonly index: number;
  readonly label: number;
  /** 48 x 48 bytes, row-major. */
  readonly pixels: Uint8Array;
  /** The target digit (cluttered-mnist), or the first and the second digit (two-digit). */
  readonly digits: readonly PlacedDigit[];
  /** The clutter, in paste order (none for two-digit). */
  readonly pieces: readonly ClutterPiece[];
}

/** A generated set in memory: a Dataset of 48 x 48 images, with every image's boxes. */
export interface BoxedDataset extends Dataset {
  readonly name: GeneratedName;
  readonly split: GeneratedSplit;
  readonly seed: number;
  /** Index in the set of the first image held (pixels of image k are the set's image start + k). */
  readonly start: number;
  /** Boxes per image: 1 (cluttered-mnist) or 2 (two-digit). */
  readonly boxesPerImage: 1 | 2;
  /** count * boxesPerImage boxes of 4 numbers, inclusive [y0, x0, y1, x1]; all four -1 for a digit with no ink. */
  readonly boxes: Int16Array;
  /** The class of each boxed digit (count * boxesPerImage). */
  readonly boxClasses: Uint8Array;
  /** The source-split index of each boxed digit (count * boxesPerImage). */
  readonly sources: Uint32Array;
}

function checkUint32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new UsageError(`${what} must be an integer from 0 to 4294967295, got ${v}`);
}

/** The seed image streams of `name`'s `split` start from: (seed + offset) mod 2^32. */
export function streamSeed(name: GeneratedName, split: GeneratedSplit, seed: number): number {
  const offset = SEED_OFFSETS[name]?.[split];
  if (offset === undefined) throw new UsageError(`${name} has no ${split} split (it is test-only)`);
  return (seed + offset) >>> 0;
}

/** One line saying exactly how a set's images are drawn (written into boxes.json as `generator`). */
export function describeGenerator(name: GeneratedName, split: GeneratedSplit): string {
  const offset = SEED_OFFSETS[name]?.[split];
  if (offset === undefined) throw new UsageError(`${name} has no ${split} split (it is test-only)`);
  const stream =
    `image i: xoshiro128** seeded by 4 splitmix32 outputs from x0 = (seed + ${offset} + 4 * 0x9E3779B9 * i) mod 2^32 ` +
    `(docs/semantics.md section 6), u = (next >>> 8) * 2^-24, draw(n) = floor(u * n); N = images in the MNIST ${split} set; `;
  const box = 'box = inclusive [y0, x0, y1, x1] in canvas pixels of the digit\'s nonzero pixels (docs/datasets.md)';
  if (name === 'cluttered-mnist') {
    return (
      stream +
      'draws in order: target = draw(N), oy = draw(21), ox = draw(21), then 6 times: piece = draw(N) redrawn while it equals target, ' +
      'cropY = draw(21), cropX = draw(21), y = draw(41), x = draw(41); canvas 48x48 zeros, the target copied in at (oy, ox), ' +
      'each 8x8 crop of its piece at (cropY, cropX) pasted at (y, x) with max(canvas, piece); label = the target\'s class; ' +
      box + ', before clutter'
    );
  }
  return (
    stream +
    'draws in order: first = draw(N), second = draw(N) redrawn while its class equals the first\'s, diagonal = draw(2); ' +
    'diagonal 0 puts first at (0, 0) and second at (20, 20), diagonal 1 first at (0, 20) and second at (20, 0); canvas 48x48 zeros, ' +
    'first copied in, second pasted with max; label = the first digit\'s class (the digit in the top row); ' +
    box + ', one per digit with its class'
  );
}

/**
 * Draws the images of one generated set from a source split (MNIST 28 x 28: the training set for `train`, the test
 * set for `test`). `image(i)` is a pure function of (source, name, split, seed, i).
 */
export class ImageGenerator {
  readonly seed: number;
  private readonly stream: number;
  private readonly state = new Uint32Array(4);

  constructor(
    readonly source: Dataset,
    readonly name: GeneratedName,
    readonly split: GeneratedSplit,
    seed = 0,
  ) {
    if (!GENERATED_NAMES.includes(name)) throw new UsageError(`unknown generated data set '${String(name)}' (expected ${GENERATED_NAMES.join(' or ')})`);
    if (split !== 'train' && split !== 'test') throw new UsageError(`unknown split '${String(split)}' (expected train or test)`);
    checkUint32('the seed', seed);
    this.seed = seed;
    this.stream = streamSeed(name, split, seed);
    const s = source;
    if (s.channels !== 1 || s.height !== DIGIT_SIDE || s.width !== DIGIT_SIDE)
      throw new InputError('', `${name} is drawn from 1 x 28 x 28 images; ${s.name} has ${s.channels} x ${s.height} x ${s.width}`);
    if (s.pixels.length !== s.count * DIGIT_SIDE * DIGIT_SIDE || s.labels.length !== s.count)
      throw new InputError('', `${s.name}: ${s.pixels.length} pixel bytes and ${s.labels.length} labels do not make ${s.count} images`);
    // The redraws below end only if there is something else to draw.
    if (s.count < 2) throw new InputError('', `${name} needs at least 2 source images, ${s.name} has ${s.count}`);
    if (name === 'two-digit' && s.labels.every((l) => l === s.labels[0]))
      throw new InputError('', `two-digit needs source images of at least 2 classes; every image of ${s.name} is of class ${s.labels[0]}`);
  }

  private draw(n: number): number {
    // u has 24 bits and n < 2^29, so u * n is exact and floor(u * n) the same in every engine.
    return Math.floor((rngNext(this.state, 0) >>> 8) * 2 ** -24 * n);
  }

  /** Image `index` of the set, written into `out` (48 x 48 bytes; a new array by default). */
  image(index: number, out: Uint8Array = new Uint8Array(CANVAS_PIXELS)): GeneratedImage {
    checkUint32('the image index', index);
    if (out.length !== CANVAS_PIXELS) throw new RangeError(`ImageGenerator: the output must be ${CANVAS_PIXELS} bytes, got ${out.length}`);
    rngSeed(this.state, 1, this.stream, index);
    const N = this.source.count;
    const labels = this.source.labels;
    out.fill(0);
    if (this.name === 'cluttered-mnist') {
      const target = this.draw(N);
      const oy = this.draw(MAX_OFFSET + 1);
      const ox = this.draw(MAX_OFFSET + 1);
      const digit = this.placeDigit(out, target, oy, ox);
      const pieces: ClutterPiece[] = [];
      for (let p = 0; p < CLUTTER_PIECES; p++) {
        let source = this.draw(N);
        while (source === target) source = this.draw(N);
        const cropY = this.draw(DIGIT_SIDE - PIECE_SIDE + 1);
        const cropX = this.draw(DIGIT_SIDE - PIECE_SIDE + 1);
        const y = this.draw(CANVAS_SIDE - PIECE_SIDE + 1);
        const x = this.draw(CANVAS_SIDE - PIECE_SIDE + 1);
        const piece = { source, cropY, cropX, y, x };
        this.pastePiece(out, piece);
        pieces.push(piece);
      }
      return { index, label: labels[target], pixels: out, digits: [digit], pieces };
    }
    const first = this.draw(N);
    let second = this.draw(N);
    while (labels[second] === labels[first]) second = this.draw(N);
    const diagonal = this.draw(2);
    const a = this.placeDigit(out, first, 0, diagonal === 0 ? 0 : MAX_OFFSET);
    const b = this.placeDigit(out, second, MAX_OFFSET, diagonal === 0 ? MAX_OFFSET : 0);
    return { index, label: labels[first], pixels: out, digits: [a, b], pieces: [] };
  }

  /** Pastes source digit `k` at (oy, ox) with max (a plain copy on the zero canvas) and finds its box. */
  private placeDigit(out: Uint8Array, k: number, oy: number, ox: number): PlacedDigit {
    const src = this.source.pixels;
    const base = k * DIGIT_SIDE * DIGIT_SIDE;
    let y0 = DIGIT_SIDE;
    let x0 = DIGIT_SIDE;
    let y1 = -1;
    let x1 = -1;
    for (let r = 0; r < DIGIT_SIDE; r++) {
      for (let c = 0; c < DIGIT_SIDE; c++) {
        const v = src[base + r * DIGIT_SIDE + c];
        if (v === 0) continue;
        const o = (oy + r) * CANVAS_SIDE + ox + c;
        if (v > out[o]) out[o] = v;
        if (r < y0) y0 = r;
        if (r > y1) y1 = r;
        if (c < x0) x0 = c;
        if (c > x1) x1 = c;
      }
    }
    const box: Box | null = y1 < 0 ? null : [oy + y0, ox + x0, oy + y1, ox + x1];
    return { source: k, class: this.source.labels[k], y: oy, x: ox, box };
  }

  private pastePiece(out: Uint8Array, p: ClutterPiece): void {
    const src = this.source.pixels;
    const base = p.source * DIGIT_SIDE * DIGIT_SIDE;
    for (let r = 0; r < PIECE_SIDE; r++) {
      for (let c = 0; c < PIECE_SIDE; c++) {
        const v = src[base + (p.cropY + r) * DIGIT_SIDE + p.cropX + c];
        const o = (p.y + r) * CANVAS_SIDE + p.x + c;
        if (v > out[o]) out[o] = v;
      }
    }
  }
}

export interface GenerateOptions {
  /** Images (default: as many as the source split has). */
  readonly count?: number;
  /** Index of the first image (default 0): images start .. start + count - 1 of the set. */
  readonly start?: number;
  readonly seed?: number;
  /** Where the pixels go (count * 2304 bytes), e.g. a view of a SharedArrayBuffer; a new array by default. */
  readonly into?: Uint8Array;
}

/**
 * Images start .. start + count - 1 of a generated set, in memory with their boxes. At most LIMITS.tensorBytes of
 * pixels (116,508 images): the `spikelens dataset` command streams larger sets to files instead.
 */
export function generateDataset(source: Dataset, name: GeneratedName, split: GeneratedSplit, o: GenerateOptions = {}): BoxedDataset {
  const gen = new ImageGenerator(source, name, split, o.seed ?? 0);
  const start = o.start ?? 0;
  const count = o.count ?? source.count;
  checkUint32('the first image index', start);
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`the image count must be a whole number of at least 1, got ${count}`);
  if (start + count > 2 ** 32) throw new UsageError(`images ${start} to ${start + count - 1} go past the last index, 4294967295`);
  if (count * CANVAS_PIXELS > LIMITS.tensorBytes)
    throw new UsageError(
      `${count} images of 48 x 48 take ${formatBytes(count * CANVAS_PIXELS)}, more than the ${formatBytes(LIMITS.tensorBytes)} a data set may take in memory (docs/limits.md)`,
    );
  const pixels = o.into ?? new Uint8Array(count * CANVAS_PIXELS);
  if (pixels.length !== count * CANVAS_PIXELS) throw new RangeError(`generateDataset: 'into' must be ${count * CANVAS_PIXELS} bytes, got ${pixels.length}`);
  const per = name === 'two-digit' ? 2 : 1;
  const labels = new Uint8Array(count);
  const boxes = new Int16Array(count * per * 4);
  const boxClasses = new Uint8Array(count * per);
  const sources = new Uint32Array(count * per);
  for (let k = 0; k < count; k++) {
    const img = gen.image(start + k, pixels.subarray(k * CANVAS_PIXELS, (k + 1) * CANVAS_PIXELS));
    labels[k] = img.label;
    img.digits.forEach((d, j) => {
      boxes.set(d.box ?? [-1, -1, -1, -1], (k * per + j) * 4);
      boxClasses[k * per + j] = d.class;
      sources[k * per + j] = d.source;
    });
  }
  return {
    name,
    split,
    seed: gen.seed,
    start,
    count,
    channels: 1,
    height: CANVAS_SIDE,
    width: CANVAS_SIDE,
    pixels,
    labels,
    classes: [...source.classes],
    boxesPerImage: per,
    boxes,
    boxClasses,
    sources,
  };
}

/** The boxes of image k of a generated set held in memory, each with its digit's class. */
export function boxesOf(ds: BoxedDataset, k: number): { class: number; box: Box | null }[] {
  if (!Number.isInteger(k) || k < 0 || k >= ds.count) throw new UsageError(`image ${k} is outside the ${ds.count} images held`);
  const out: { class: number; box: Box | null }[] = [];
  for (let j = 0; j < ds.boxesPerImage; j++) {
    const i = k * ds.boxesPerImage + j;
    const b = ds.boxes.subarray(i * 4, i * 4 + 4);
    out.push({ class: ds.boxClasses[i], box: b[0] < 0 ? null : [b[0], b[1], b[2], b[3]] });
  }
  return out;
}
