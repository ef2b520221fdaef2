// Writes samples/<dataset>/: the first test image of each class of MNIST and Fashion-MNIST (the test splits the
// library uses; see docs/training.md), as 28x28 grayscale PNGs named <class>-<test index>.png.
// Usage: node scripts/make-samples.mjs   (after pnpm build)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng, loadDataset } from '../packages/sam/dist/node/index.js';

for (const [name, folder] of [['mnist', 'mnist'], ['fashion-mnist', 'fashion-mnist']]) {
  const ds = await loadDataset(name, 'test');
  const out = join('samples', folder);
  mkdirSync(out, { recursive: true });
  const done = new Set();
  for (let i = 0; i < ds.count && done.size < ds.classes.length; i++) {
    const label = ds.labels[i];
    if (done.has(label)) continue;
    done.add(label);
    const rgba = new Uint8Array(28 * 28 * 4);
    for (let p = 0; p < 784; p++) {
      const v = ds.pixels[i * 784 + p];
      rgba.set([v, v, v, 255], p * 4);
    }
    const slug = name === 'mnist' ? `digit-${ds.classes[label]}` : ds.classes[label].toLowerCase().replace(/[^a-z0-9]+/g, '-');
    writeFileSync(join(out, `${slug}-${i}.png`), encodePng(28, 28, rgba));
  }
  console.log(`wrote ${done.size} images to ${out}`);
}
