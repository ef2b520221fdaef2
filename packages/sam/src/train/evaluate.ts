import type { CoreSource } from '@spikelens/core-wasm';
import type { Model } from '../model.js';
import { InputError, UsageError } from '../errors.js';
import { Network } from '../network.js';
import type { Dataset } from './data/dataset.js';

export interface Evaluation {
  readonly images: number;
  readonly accuracy: number;
  /** Accuracy on the first 1,000 images (the subset CI re-measures), or null when fewer were evaluated. */
  readonly accuracyFirst1000: number | null;
  readonly perClass: { readonly label: string; readonly images: number; readonly accuracy: number }[];
  readonly firingRates: Record<string, number>;
  readonly sopsPerImage: number;
  readonly seconds: number;
}

/**
 * Test accuracy of a model on the first `limit` images of a data set, run exactly as `spikelens run` would (the
 * inference Network, the model's own encoding and time steps; sample keys = image indices, so every image gets the
 * spikes it would get alone).
 */
export async function evaluate(
  model: Model,
  ds: Dataset,
  o: {
    limit?: number;
    batch?: number;
    seed?: number;
    /** Steps per image (default the model's; needed when the model sets none, as a NIR graph). */
    timesteps?: number;
    core?: CoreSource;
    onBatch?: (done: number, total: number) => void;
  } = {},
): Promise<Evaluation> {
  const T = o.timesteps ?? model.timesteps;
  if (T === null) throw new UsageError(`${model.file || 'the model'} sets no timesteps: give them (--timesteps)`);
  const shape = [ds.channels, ds.height, ds.width];
  if (model.input.shape.join(',') !== shape.join(','))
    throw new InputError(model.file, `takes inputs of [${model.input.shape.join(',')}], but ${ds.name} images are [${shape.join(',')}]`);
  const total = Math.min(o.limit && o.limit > 0 ? o.limit : ds.count, ds.count);
  // batches must end at image 1,000 for its accuracy to be read off; results do not depend on the batch size
  const B = Math.min(o.batch ?? 100, total);
  const n = ds.height * ds.width * ds.channels;
  const K = ds.classes.length;
  const hits = new Float64Array(K);
  const seen = new Float64Array(K);
  const spikes = new Map<string, number>();
  const neuronSteps = new Map<string, number>();
  let sops = 0;
  let seconds = 0;
  let first1000: number | null = null;
  let net: Network | null = null;
  for (let start = 0; start < total; start += B) {
    const size = Math.min(B, total - start);
    if (!net || net.batch !== size) net = await Network.create(model, { batch: size, seed: o.seed ?? 0, countSops: true, core: o.core });
    const pixels = new Float32Array(size * n);
    for (let i = 0; i < size * n; i++) pixels[i] = ds.pixels[start * n + i];
    const began = performance.now();
    net.setInput({ kind: 'pixels', data: pixels }, start);
    net.run(T);
    seconds += (performance.now() - began) / 1000;
    const preds = net.predictions();
    for (let b = 0; b < size; b++) {
      const y = ds.labels[start + b];
      seen[y]++;
      if (preds[b] === y) hits[y]++;
    }
    for (const [k, v] of net.spikeCounts) spikes.set(k, (spikes.get(k) ?? 0) + v);
    for (const l of model.layers)
      if (net.spikeCounts.has(l.name))
        neuronSteps.set(l.name, (neuronSteps.get(l.name) ?? 0) + size * net.t * l.outShape.reduce((a, c) => a * c, 1));
    sops += net.sops;
    if (start + size === 1000) first1000 = hits.reduce((a, b) => a + b, 0) / 1000;
    o.onBatch?.(start + size, total);
  }
  const correct = hits.reduce((a, b) => a + b, 0);
  return {
    images: total,
    accuracy: correct / total,
    accuracyFirst1000: first1000,
    perClass: ds.classes.map((label, k) => ({ label, images: seen[k], accuracy: seen[k] ? hits[k] / seen[k] : 0 })),
    firingRates: Object.fromEntries([...spikes].map(([k, v]) => [k, v / neuronSteps.get(k)!])),
    sopsPerImage: sops / total,
    seconds,
  };
}
