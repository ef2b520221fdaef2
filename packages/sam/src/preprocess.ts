import type { InputSpec } from './model.js';

/**
 * docs/semantics.md §6: `x = fl(fl(fl(pixel * scale) - mean[c]) / std[c])`, three float32 roundings; a mean/std of length 1
 * applies to every channel. `pixels` and `out` are [B, C, HW].
 */
export function preprocess(
  pixels: ArrayLike<number>,
  out: Float32Array,
  B: number,
  C: number,
  HW: number,
  pp: InputSpec['preprocess'],
): void {
  const f = Math.fround;
  const scale = f(pp.scale);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const mean = f(pp.mean.length === 1 ? pp.mean[0] : pp.mean[c]);
      const std = f(pp.std.length === 1 ? pp.std[0] : pp.std[c]);
      const base = (b * C + c) * HW;
      for (let i = 0; i < HW; i++) out[base + i] = f(f(f(pixels[base + i] * scale) - mean) / std);
    }
}
