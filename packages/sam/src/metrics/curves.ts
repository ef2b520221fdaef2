import type { Model } from '../model.js';
import { argmaxRows } from '../network.js';
import { memoryInput, simulate } from '../run.js';
import { softmaxRow } from '../softmax.js';
import { gaussianBlur } from './blur.js';
import { rankPixels } from './rank.js';

export type CurveKind = 'deletion' | 'insertion';

export interface CurveOptions {
  /** Pixels changed per step (default the input's width). */
  readonly step?: number;
  /** What removed pixels become (deletion, default zero) or what insertion starts from (default blur). */
  readonly substrate?: 'zero' | 'blur';
  /** The class whose probability is followed, per image (default: the clean prediction). */
  readonly classes?: ArrayLike<number>;
  readonly seed?: number;
  /** Each image's encoder key (default keyOffset + b): every perturbed copy keeps its image's stream. */
  readonly keys?: ArrayLike<number>;
  readonly keyOffset?: number;
  readonly timesteps?: number;
  readonly threads?: number;
}

export interface Curves {
  /** s_k = p_c after k steps, k = 0..n, per image. */
  readonly curves: number[][];
  /** (sum_k s_k - (s_0 + s_n)/2) / n per image. */
  readonly auc: number[];
  readonly classes: number[];
  /** n, the number of steps. */
  readonly steps: number;
}

/**
 * Deletion and insertion (RISE, Petsiuk et al. 2018; docs/metrics.md): pixels ranked by each image's map (`maps`
 * `[B, H, W]` at the input's size, highest first, ties by lower index), `step` of them a step; deletion sets the
 * first min(k*step, H*W) ranked pixels (all channels) of x to the substrate, insertion puts them from x into the
 * substrate image. Every curve's n + 1 images run as one batch, each with its image's key.
 */
export async function perturbationCurves(
  kind: CurveKind,
  model: Model,
  images: Float32Array,
  B: number,
  maps: ArrayLike<number>,
  o: CurveOptions = {},
): Promise<Curves> {
  const [C, H, W] = model.input.shape;
  const HW = H * W;
  const step = o.step ?? W;
  const n = Math.ceil(HW / step);
  const substrate = o.substrate ?? (kind === 'deletion' ? 'zero' : 'blur');
  const base = substrate === 'blur' ? gaussianBlur(images, B, C, H, W) : new Float32Array(images.length);
  const copies = new Float32Array(B * (n + 1) * C * HW);
  const keys: number[] = [];
  for (let b = 0; b < B; b++) {
    const x = images.subarray(b * C * HW, (b + 1) * C * HW);
    const s = base.subarray(b * C * HW, (b + 1) * C * HW);
    const order = rankPixels(Array.prototype.slice.call(maps, b * HW, (b + 1) * HW));
    const key = o.keys ? o.keys[b] : (o.keyOffset ?? 0) + b;
    for (let k = 0; k <= n; k++) {
      const copy = copies.subarray((b * (n + 1) + k) * C * HW, (b * (n + 1) + k + 1) * C * HW);
      copy.set(kind === 'deletion' ? x : s);
      const moved = Math.min(k * step, HW);
      for (let r = 0; r < moved; r++) {
        const p = order[r];
        for (let c = 0; c < C; c++) copy[c * HW + p] = kind === 'deletion' ? s[c * HW + p] : x[c * HW + p];
      }
      keys.push(key);
    }
  }
  const r = await simulate({
    model, source: memoryInput({ kind: 'pixels', data: copies }, B * (n + 1)), seed: o.seed, keys, timesteps: o.timesteps, threads: o.threads,
  });
  const K = r.classes;
  const preds = argmaxRows(r.scores, K);
  const classes: number[] = [];
  const curves: number[][] = [];
  const auc: number[] = [];
  for (let b = 0; b < B; b++) {
    const clean = b * (n + 1) + (kind === 'deletion' ? 0 : n);
    const c = o.classes ? o.classes[b] : preds[clean];
    classes.push(c);
    const curve = Array.from({ length: n + 1 }, (_, k) => softmaxRow(r.scores, K, b * (n + 1) + k)[c]);
    curves.push(curve);
    auc.push((curve.reduce((a, v) => a + v, 0) - (curve[0] + curve[n]) / 2) / n);
  }
  return { curves, auc, classes, steps: n };
}
