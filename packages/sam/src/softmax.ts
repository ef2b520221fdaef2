import { detExp } from './train/loss.js';

/**
 * softmax of row `b` of scores `[B, K]`, in float64, stable (the row's maximum subtracted) and the same bits in every
 * engine (the deterministic exp of train/loss.ts).
 */
export function softmaxRow(scores: ArrayLike<number>, K: number, b: number): Float64Array {
  const row = b * K;
  let max = scores[row];
  for (let j = 1; j < K; j++) if (scores[row + j] > max) max = scores[row + j];
  const e = new Float64Array(K);
  let sum = 0;
  for (let j = 0; j < K; j++) sum += e[j] = detExp(scores[row + j] - max);
  for (let j = 0; j < K; j++) e[j] /= sum;
  return e;
}
