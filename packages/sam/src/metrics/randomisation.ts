import { explain } from '../explain/index.js';
import type { Aggregate } from '../explain/aggregate.js';
import type { ExplainOptions } from '../explain/types.js';
import type { Layer, Model, Tensor } from '../model.js';
import { xorshift32 } from '../random.js';
import { imageMaps } from './maps.js';
import { spearman } from './rank.js';

/** The seed of the randomised weights (docs/metrics.md). */
export const RANDOMISATION_SEED = 42;

/**
 * Layer `index`'s weights re-initialised as training initialises them (docs/training.md): uniform in
 * +-sqrt(6 / fan_in), from xorshift32 seeded with (RANDOMISATION_SEED ^ 0x5bd1e995 ^ index), its bias zero. The same
 * values at every step of the cascade.
 */
export function randomisedLayer(layer: Layer & { op: 'conv2d' | 'linear' }, index: number): Layer {
  const w = layer.weight;
  const fanIn = w.data.length / w.shape[0];
  const bound = Math.sqrt(6 / fanIn);
  const rand = xorshift32((RANDOMISATION_SEED ^ 0x5bd1e995 ^ index) >>> 0);
  const weight: Tensor = { name: w.name, shape: w.shape, data: Float32Array.from(w.data, () => (rand() * 2 - 1) * bound) };
  const bias = layer.bias ? { ...layer.bias, data: new Float32Array(layer.bias.data.length) } : null;
  return { ...layer, weight, bias };
}

export interface RandomisationResult {
  /** The layers randomised, from the output down: after step s, layers[0..s] are. */
  readonly layers: string[];
  /** Per step, the Spearman correlation of each image's original and randomised maps (null when one is constant). */
  readonly correlations: Array<Array<number | null>>;
}

/**
 * Parameter randomisation (Adebayo et al. 2018; docs/metrics.md), cascading from the output layer down: one more
 * weighted layer (conv2d, linear) re-initialised at each step; the Spearman correlation between each image's original
 * and randomised image-level maps after each. `clean` are the original maps `[B, H, W]`; the explained class stays
 * the one the original maps explained (`classes`).
 */
export async function parameterRandomisation(
  method: string,
  model: Model,
  images: Float32Array,
  B: number,
  clean: Float32Array,
  classes: ArrayLike<number>,
  o: ExplainOptions & { readonly aggregate?: Aggregate },
): Promise<RandomisationResult> {
  const [, H, W] = model.input.shape;
  const weighted = model.layers.map((l, i) => ({ l, i })).filter(({ l }) => l.op === 'conv2d' || l.op === 'linear').reverse();
  let layers = [...model.layers];
  const names: string[] = [];
  const correlations: Array<Array<number | null>> = [];
  for (const { l, i } of weighted) {
    layers = layers.map((x, k) => (k === i ? randomisedLayer(l as Layer & { op: 'conv2d' | 'linear' }, i) : x));
    names.push(l.name);
    const randomised: Model = { ...model, layers };
    const e = await explain(method, randomised, { kind: 'pixels', data: images }, B, { ...o, target: 'label', labels: classes });
    const maps = imageMaps(e, H, W, o.aggregate);
    correlations.push(Array.from({ length: B }, (_, b) => spearman(clean.subarray(b * H * W, (b + 1) * H * W), maps.subarray(b * H * W, (b + 1) * H * W))));
  }
  return { layers: names, correlations };
}
