import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import type { NetworkInput } from '../network.js';
import { inference } from './inference.js';
import type { Explainer } from './types.js';

function check(model: Model, input: NetworkInput): void {
  if (input.kind === 'train') throw new UsageError('the input map needs pixel input, not a spike train');
  if (model.input.shape.length !== 3) throw new UsageError(`the input map needs an image input [C,H,W]; this model takes [${model.input.shape.join(',')}]`);
}

/**
 * The trivial "where is the ink" map (docs/explain.md): the input itself, max over channels of the pixel values,
 * one map (T = 1). On MNIST it scores almost as well as any method on deletion and insertion, so every such number
 * is read against it.
 */
export const input: Explainer = {
  name: 'input',
  needsLayer: false,
  about: 'the input itself (max over channels): the "where is the ink" baseline',
  check: (model, x) => check(model, x),
  async explain(model, x, B, o) {
    check(model, x);
    const [C, H, W] = model.input.shape;
    const px = (x as Extract<NetworkInput, { kind: 'pixels' }>).data;
    const HW = H * W;
    const maps = new Float32Array(B * HW);
    for (let b = 0; b < B; b++)
      for (let p = 0; p < HW; p++) {
        let m = px[b * C * HW + p];
        for (let c = 1; c < C; c++) m = Math.max(m, px[(b * C + c) * HW + p]);
        maps[b * HW + p] = m;
      }
    const { scores, predictions } = await inference(model, x, B, o);
    return { method: 'input', layer: 'input', T: 1, B, H, W, maps, targets: predictions, scores, predictions };
  },
};
