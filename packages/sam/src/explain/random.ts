import { layerOf } from './gradients.js';
import { inference } from './inference.js';
import { uniformStream } from './noise.js';
import type { Explainer } from './types.js';

/**
 * The floor every metric is read against (docs/explain.md): seeded uniform noise in [0, 1) at the layer's size
 * (at the input's size without a layer), one map (T = 1); sample b's noise depends only on the seed and its key.
 */
export const random: Explainer = {
  name: 'random',
  needsLayer: false,
  about: 'seeded uniform noise at the layer\'s (or the input\'s) size: the floor every metric is read against',
  check(model, _input, o) {
    if (o.layer !== undefined) layerOf(model, o.layer, 'random', model.layers.map((l) => l.op), 'a conv-shaped layer');
  },
  async explain(model, input, B, o) {
    const shape = o.layer === undefined ? model.input.shape : layerOf(model, o.layer, 'random', model.layers.map((l) => l.op), 'a conv-shaped layer').outShape;
    const [H, W] = shape.length === 3 ? [shape[1], shape[2]] : [1, shape[0]];
    const maps = new Float32Array(B * H * W);
    for (let b = 0; b < B; b++) {
      const u = uniformStream(o.seed ?? 0, o.keys ? o.keys[b] : (o.keyOffset ?? 0) + b);
      for (let p = 0; p < H * W; p++) maps[b * H * W + p] = u();
    }
    const { scores, predictions } = await inference(model, input, B, o);
    return { method: 'random', layer: o.layer ?? 'input', T: 1, B, H, W, maps, targets: predictions, scores, predictions };
  },
};
