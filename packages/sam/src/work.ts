import { opSpec } from './ops/index.js';
import type { Layer, Model } from './model.js';

/** Counting work (docs/semantics.md §10): synaptic operations and dense multiply-accumulates. */

/** For each input pixel, how many (output channel, output position) pairs it reaches (docs/semantics.md §10), borders included. */
export function convFanout(
  H: number, W: number, Ho: number, Wo: number, kH: number, kW: number,
  s: readonly [number, number], p: readonly [number, number], d: readonly [number, number], coutPerGroup: number,
): Float64Array {
  const fan = new Float64Array(H * W);
  for (let oy = 0; oy < Ho; oy++)
    for (let ox = 0; ox < Wo; ox++)
      for (let ky = 0; ky < kH; ky++) {
        const iy = oy * s[0] - p[0] + ky * d[0];
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < kW; kx++) {
          const ix = ox * s[1] - p[1] + kx * d[1];
          if (ix >= 0 && ix < W) fan[iy * W + ix] += coutPerGroup;
        }
      }
  return fan;
}

/** Dense MACs of one layer for one sample and one step, as if every input were active (0 for non-synaptic ops). */
export function denseMacs(layer: Layer): number {
  return opSpec(layer.op).macs(layer);
}

/** Parameters of one layer: weights, biases, affine rows and neuron parameters. */
export function layerParams(layer: Layer): number {
  return opSpec(layer.op).params(layer);
}

/** Dense MACs of the whole model for one sample and one step. */
export function denseMacsPerStep(model: Model): number {
  return model.layers.reduce((sum, l) => sum + denseMacs(l), 0);
}
