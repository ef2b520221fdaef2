import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import type { NetworkInput } from '../network.js';
import { classGradients, inGradientSlices } from './gradients.js';
import type { Explainer, ExplainOptions, Explanation } from './types.js';

function check(model: Model, input: NetworkInput): void {
  if (input.kind === 'train')
    throw new UsageError('saliency needs pixel input: a spike train has no differentiable path back to pixel values');
  if (model.input.shape.length !== 3) throw new UsageError(`saliency needs an image input [C,H,W]; this model takes [${model.input.shape.join(',')}]`);
}

/**
 * Saliency (Simonyan et al. 2014; docs/explain.md): max over channels of |dy_c/dx| for every pixel, the gradient in
 * pixel units through the encoding (direct, or Poisson straight through). One map (T = 1) at the input's size.
 */
export const saliency: Explainer = {
  name: 'saliency',
  needsLayer: false,
  about: 'the largest |gradient| of the target score over a pixel\'s channels, at the input\'s size',
  check: (model, input) => check(model, input),
  async explain(model, input, B, o) {
    check(model, input);
    return inGradientSlices(model, input, B, o, { inputGrad: true }, (x, b, so) => saliencyOf(model, x, b, so));
  },
};

/** Saliency of B samples that fit one gradient network. */
async function saliencyOf(model: Model, input: NetworkInput, B: number, o: ExplainOptions): Promise<Explanation> {
  const [C, H, W] = model.input.shape;
  const g = await classGradients(model, input, B, o, { inputGrad: true });
  const d = g.net.pixelGradient();
  const HW = H * W;
  const maps = new Float32Array(B * HW);
  for (let b = 0; b < B; b++)
    for (let p = 0; p < HW; p++) {
      let m = 0;
      for (let c = 0; c < C; c++) m = Math.max(m, Math.abs(d[(b * C + c) * HW + p]));
      maps[b * HW + p] = m;
    }
  return { method: 'saliency', layer: 'input', T: 1, B, H, W, maps, targets: g.targets, scores: g.scores, predictions: g.predictions };
}
