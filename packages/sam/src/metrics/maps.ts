import { aggregateMaps, resizeMaps, type Aggregate } from '../explain/aggregate.js';
import type { Explanation } from '../explain/types.js';

/**
 * The image-level maps of an explanation (docs/explain.md): aggregated over time, then resized bilinearly to the
 * input's height x width, `[B, height, width]`.
 */
export function imageMaps(e: Explanation, height: number, width: number, how: Aggregate = 'sum'): Float32Array {
  return resizeMaps(aggregateMaps(e.maps, e.T, e.B, e.H, e.W, how), e.B, e.H, e.W, height, width);
}

/** A map divided by its maximum (float64); an all-zero map stays zero. */
export function maxNormalised(map: ArrayLike<number>): Float64Array {
  let max = 0;
  for (let i = 0; i < map.length; i++) if (map[i] > max) max = map[i];
  const out = new Float64Array(map.length);
  if (max > 0) for (let i = 0; i < map.length; i++) out[i] = map[i] / max;
  return out;
}

/** ||a - b||_F / ||a||_F of two max-normalised maps; null when `a` is all zero (the ratio is undefined). */
export function relativeChange(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  const na = maxNormalised(a);
  const nb = maxNormalised(b);
  let num = 0;
  let den = 0;
  for (let i = 0; i < na.length; i++) {
    num += (na[i] - nb[i]) ** 2;
    den += na[i] ** 2;
  }
  return den === 0 ? null : Math.sqrt(num) / Math.sqrt(den);
}
