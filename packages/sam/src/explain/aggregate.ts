import { UsageError } from '../errors.js';
import { resizeBilinear } from '../render/resize.js';

/** How maps over steps become one map per image (docs/explain.md): their sum, or the last step's. */
export type Aggregate = 'sum' | 'last';
export const AGGREGATES: readonly Aggregate[] = ['sum', 'last'];

/** Maps `[T, B, H, W]` aggregated over time into `[B, H, W]`, summed in step order in float32. */
export function aggregateMaps(maps: Float32Array, T: number, B: number, H: number, W: number, how: Aggregate = 'sum'): Float32Array {
  const n = B * H * W;
  if (maps.length !== T * n) throw new RangeError(`aggregateMaps: ${maps.length} values are not ${T} steps of [${B},${H},${W}]`);
  if (how === 'last') return maps.slice((T - 1) * n, T * n);
  if (how !== 'sum') throw new UsageError(`unknown aggregation "${how}" (sum or last)`);
  const out = new Float32Array(n);
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) out[i] = Math.fround(out[i] + maps[t * n + i]);
  return out;
}

/** `[B, H, W]` maps resized bilinearly to `[B, height, width]` (the input's size; docs/semantics.md §9's resize). */
export function resizeMaps(maps: Float32Array, B: number, H: number, W: number, height: number, width: number): Float32Array {
  if (H === height && W === width) return maps.slice();
  const out = new Float32Array(B * height * width);
  for (let b = 0; b < B; b++) out.set(resizeBilinear(maps.subarray(b * H * W, (b + 1) * H * W), H, W, height, width), b * height * width);
  return out;
}
