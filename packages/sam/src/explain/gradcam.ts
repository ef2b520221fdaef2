import type { Layer, Model } from '../model.js';
import type { NetworkInput } from '../network.js';
import { classGradients, inGradientSlices, layerOf } from './gradients.js';
import type { Explainer, ExplainOptions, Explanation } from './types.js';

/**
 * SNN-crafted Grad-CAM (the SAM paper's Eq. 1-2; docs/explain.md): for a spiking layer with spikes A[t,k,i,j],
 * alpha[k] = (1/(H*W)) * sum over t,i,j of dy_c/dA[t,k,i,j]; G[t] = max(0, sum_k alpha[k] A[t,k]). With alpha
 * 'per-step', alpha_t[k] sums over i,j only. On a ReLU network (T = 1) it is Selvaraju et al.'s Grad-CAM of the
 * ReLU layer. All sums in float32, in index order.
 */
export const gradcam: Explainer = {
  name: 'gradcam',
  needsLayer: true,
  about: 'SNN Grad-CAM: channels weighted by their mean gradient, over all steps (summed) or per step',
  check(model, _input, o) {
    layerOf(model, o.layer, 'gradcam', ['lif', 'if', 'cubalif', 'relu'], 'a conv-shaped spiking (lif, if, cubalif) or relu layer');
  },
  async explain(model, input, B, o) {
    const layer = layerOf(model, o.layer, 'gradcam', ['lif', 'if', 'cubalif', 'relu'], 'a conv-shaped spiking (lif, if, cubalif) or relu layer');
    return inGradientSlices(model, input, B, o, { gradLayers: [layer.name] }, (x, b, so) => gradcamOf(model, layer, x, b, so));
  },
};

/** Grad-CAM of B samples that fit one gradient network. */
async function gradcamOf(model: Model, layer: Layer, input: NetworkInput, B: number, o: ExplainOptions): Promise<Explanation> {
  const [C, H, W] = layer.outShape;
  const HW = H * W;
  const g = await classGradients(model, input, B, o, { gradLayers: [layer.name] });
  const { net, T } = g;
  const perStep = o.alpha === 'per-step';
  const alpha = new Float32Array(B * C);
  const maps = new Float32Array(T * B * HW);
  const sum = (t: number): void => sumInto(net.layerGradient(layer.name, t), alpha, B, C, HW);
  const weighStep = (t: number): void => weigh(net.layerOutput(layer.name, t), alpha, maps, t, B, C, HW);
  if (perStep) {
    for (let t = 0; t < T; t++) {
      alpha.fill(0);
      sum(t);
      weighStep(t);
    }
  } else {
    for (let t = 0; t < T; t++) sum(t);
    for (let t = 0; t < T; t++) weighStep(t);
  }
  return { method: 'gradcam', layer: layer.name, T, B, H, W, maps, targets: g.targets, scores: g.scores, predictions: g.predictions };
}

/** alpha[b, k] += the sum over pixels of grad[b, k] (float32, in index order). Module-level, not a closure: V8 kept
 * re-optimising the closure on every call (5-16 ms a map where this takes 0.5 ms). */
function sumInto(grad: Float32Array, alpha: Float32Array, B: number, C: number, HW: number): void {
  for (let b = 0; b < B; b++)
    for (let k = 0; k < C; k++) {
      let s = alpha[b * C + k];
      const o0 = (b * C + k) * HW;
      for (let p = 0; p < HW; p++) s = Math.fround(s + grad[o0 + p]);
      alpha[b * C + k] = s;
    }
}

/** maps[t, b] = max(0, sum over k of (alpha[b, k] / HW) * a[b, k]) (float32, k in order). */
function weigh(a: Float32Array, alpha: Float32Array, maps: Float32Array, t: number, B: number, C: number, HW: number): void {
  for (let b = 0; b < B; b++) {
    const out = (t * B + b) * HW;
    for (let k = 0; k < C; k++) {
      const w = Math.fround(alpha[b * C + k] / HW);
      const o0 = (b * C + k) * HW;
      for (let p = 0; p < HW; p++) maps[out + p] = Math.fround(maps[out + p] + Math.fround(w * a[o0 + p]));
    }
    for (let p = 0; p < HW; p++) if (!(maps[out + p] > 0)) maps[out + p] = 0;
  }
}
