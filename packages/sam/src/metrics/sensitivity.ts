import { explain } from '../explain/index.js';
import { uniformStream } from '../explain/noise.js';
import type { ExplainOptions } from '../explain/types.js';
import type { Aggregate } from '../explain/aggregate.js';
import type { Model } from '../model.js';
import { imageMaps, relativeChange } from './maps.js';

export interface SensitivityOptions extends ExplainOptions {
  /** Noise draws (default 10) and their half-width on the [0, 1] scale (default 0.2). */
  readonly draws?: number;
  readonly radius?: number;
  readonly aggregate?: Aggregate;
  /** The class each image's maps explain (default: what the clean maps explained): the same for every draw. */
  readonly classes?: ArrayLike<number>;
}

/**
 * Max-sensitivity (Yeh et al. 2019; docs/metrics.md): `draws` copies of each image with uniform noise
 * U(-radius, radius) (on the [0, 1] scale, times 255, clipped to [0, 255]; draw j from noise stream 1 + j of the
 * image's key), explained for the same class as the clean image; max over draws of ||A(x) - A(x + d)||_F / ||A(x)||_F
 * on max-normalised image-level maps. `clean` are the clean image-level maps `[B, H, W]`. Null for an image whose
 * clean map is all zero.
 */
export async function maxSensitivity(
  method: string,
  model: Model,
  images: Float32Array,
  B: number,
  clean: Float32Array,
  o: SensitivityOptions,
): Promise<Array<number | null>> {
  const [C, H, W] = model.input.shape;
  const n = C * H * W;
  const draws = o.draws ?? 10;
  const half = Math.fround(255 * (o.radius ?? 0.2));
  const noisy = new Float32Array(B * draws * n);
  const keys: number[] = [];
  const labels: number[] = [];
  for (let b = 0; b < B; b++) {
    const key = o.keys ? o.keys[b] : (o.keyOffset ?? 0) + b;
    for (let j = 0; j < draws; j++) {
      const u = uniformStream(o.seed ?? 0, key, 1 + j);
      const at = (b * draws + j) * n;
      for (let i = 0; i < n; i++) {
        const v = Math.fround(images[b * n + i] + Math.fround(half * Math.fround(2 * u() - 1)));
        noisy[at + i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      keys.push(key);
      if (o.classes) labels.push(o.classes[b]);
    }
  }
  const e = await explain(method, model, { kind: 'pixels', data: noisy }, B * draws, {
    ...o,
    keys,
    keyOffset: undefined,
    ...(o.classes ? { target: 'label' as const, labels } : {}),
  });
  const maps = imageMaps(e, H, W, o.aggregate);
  const out: Array<number | null> = [];
  for (let b = 0; b < B; b++) {
    const a = clean.subarray(b * H * W, (b + 1) * H * W);
    let worst: number | null = null;
    for (let j = 0; j < draws; j++) {
      const r = relativeChange(a, maps.subarray((b * draws + j) * H * W, (b * draws + j + 1) * H * W));
      if (r === null) break;
      worst = worst === null ? r : Math.max(worst, r);
    }
    out.push(worst);
  }
  return out;
}
