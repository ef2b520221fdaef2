import { memoryInput, simulate } from '../run.js';
import { layerOf } from './gradients.js';
import type { Explainer } from './types.js';

const SPIKING = ['lif', 'if', 'cubalif'];
const WHAT = 'a conv-shaped spiking layer (lif, if, cubalif)';

/**
 * Spike Activation Maps (Kim & Panda 2021; docs/semantics.md §8): from the forward pass alone, no gradient and no
 * class; the inference network with a SamObserver, so the maps are those `spikelens run --sam` writes, bit for bit.
 * The target is reported as the prediction.
 */
export const sam: Explainer = {
  name: 'sam',
  needsLayer: true,
  about: 'Spike Activation Maps: neurons firing in quick bursts, from the forward pass alone (no gradient, no class)',
  check(model, _input, o) {
    layerOf(model, o.layer, 'sam', SPIKING, WHAT);
  },
  async explain(model, input, B, o) {
    const layer = layerOf(model, o.layer, 'sam', SPIKING, WHAT);
    const [, H, W] = layer.outShape;
    const r = await simulate({
      model,
      source: memoryInput(input, B),
      seed: o.seed,
      keyOffset: o.keyOffset,
      keys: o.keys,
      timesteps: o.timesteps,
      sam: [layer.name],
      gamma: o.gamma,
      ncs: o.ncs,
      threads: o.threads,
    });
    const maps = r.sams[0].maps.data().slice();
    return { method: 'sam', layer: layer.name, T: r.timesteps, B, H, W, maps, targets: r.predictions, scores: r.scores, predictions: r.predictions };
  },
};
