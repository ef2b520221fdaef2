/**
 * Softmax cross-entropy and accuracy over a batch of class scores [B, K] (row-major, float32).
 *
 * The gradient feeds the optimizer, so it must come out bit-identical in every JS engine. Math.exp and Math.log are
 * only "implementation-approximated" by the spec (engines may round differently), so this file carries its own exp
 * and log built from + - * / and exactly-specified bit manipulation, which IEEE 754 fixes to the last bit.
 */
import { UsageError } from '../errors.js';

// exp after fdlibm's e_exp.c (Sun Microsystems, 1993): x = k ln2 + r, |r| <= ln2/2, a Remez polynomial for r.
const LN2_HI = 6.93147180369123816490e-1; // ln2 with its low bits zero, so k * LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.4426950408889634074;
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.65339022054652515390e-6;
const P5 = 4.13813679705723846039e-8;
const EXP_OVERFLOW = 709.782712893383973096;
const EXP_UNDERFLOW = -745.13321910194110842;

const bits = new DataView(new ArrayBuffer(8));

/** 2^k for an integer -1022 <= k <= 1023, exactly, from its bit pattern (Math.pow is not exactly specified). */
function pow2(k: number): number {
  bits.setUint32(0, (k + 1023) << 20, false);
  bits.setUint32(4, 0, false);
  return bits.getFloat64(0, false);
}

/** e^x to within about 1 ulp, the same bits in every engine. */
export function detExp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > EXP_OVERFLOW) return Infinity;
  if (x < EXP_UNDERFLOW) return 0;
  if (Math.abs(x) < 3.725290298461914e-9) return 1 + x; // |x| < 2^-28
  const k = Math.round(x * INV_LN2); // Math.round is exactly specified
  const hi = x - k * LN2_HI;
  const lo = k * LN2_LO;
  const r = hi - lo;
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const y = 1 - (lo - (r * c) / (2 - c) - hi);
  if (k >= -1021) return k > 1023 ? y * 2 * pow2(k - 1) : y * pow2(k);
  // Subnormal result: one exact scaling into the normal range, then a single rounding.
  return y * pow2(k + 54) * pow2(-54);
}

// log(m) for m in [sqrt(1/2), sqrt(2)) as 2 atanh(f), f = (m - 1) / (m + 1), |f| <= 0.1716: ten terms of the odd
// series reach below 2^-53.
const LOG_TERMS = Array.from({ length: 10 }, (_, n) => 1 / (2 * n + 3)); // 1/3, 1/5, ... 1/21

/** ln x to within a few ulp, the same bits in every engine. */
export function detLog(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  // Literals, not 2 ** n: exponentiation is as loosely specified as Math.pow.
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // subnormal: times 2^54 into the normal range (exact)
    e = -54;
  }
  bits.setFloat64(0, x, false);
  const hi = bits.getUint32(0, false);
  e += ((hi >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (hi & 0x000fffff) | 0x3ff00000, false);
  let m = bits.getFloat64(0, false); // x = m 2^e, m in [1, 2)
  if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  const f = (m - 1) / (m + 1);
  const s = f * f;
  let poly = 0;
  for (let n = LOG_TERMS.length - 1; n >= 0; n--) poly = s * (LOG_TERMS[n] + poly);
  const logM = 2 * f + 2 * f * poly;
  return e * LN2_HI + (logM + e * LN2_LO);
}

function classesOf(scores: Float32Array, batch: number): number {
  const k = batch === 0 ? 0 : scores.length / batch;
  if (batch === 0 || !Number.isInteger(k) || k < 1) {
    throw new UsageError(`${scores.length} scores do not make ${batch} rows of class scores`);
  }
  return k;
}

/**
 * Mean softmax cross-entropy of `scores` [B, K] against `labels` (B class indices), computed in float64, stable by
 * subtracting each row's maximum. When `grad` ([B, K], float32) is given it receives dLoss/dScores of that mean,
 * (softmax - onehot) / B. NaN or infinite scores give a NaN loss and gradient rather than an exception, so the caller
 * can report a diverged run.
 */
export function softmaxCrossEntropy(scores: Float32Array, labels: ArrayLike<number>, grad?: Float32Array): number {
  const batch = labels.length;
  const k = classesOf(scores, batch);
  if (grad && grad.length !== scores.length) {
    throw new UsageError(`the gradient has ${grad.length} values for ${scores.length} scores`);
  }
  const e = new Float64Array(k);
  let total = 0;
  for (let b = 0; b < batch; b++) {
    const y = labels[b];
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new UsageError(`label ${y} of row ${b} is not one of ${k} classes`);
    const row = b * k;
    let max = scores[row];
    for (let j = 1; j < k; j++) if (scores[row + j] > max) max = scores[row + j];
    let sum = 0;
    for (let j = 0; j < k; j++) {
      e[j] = detExp(scores[row + j] - max);
      sum += e[j];
    }
    total += detLog(sum) - (scores[row + y] - max);
    if (grad) {
      for (let j = 0; j < k; j++) grad[row + j] = (e[j] / sum - (j === y ? 1 : 0)) / batch;
    }
  }
  return total / batch;
}

/** Count of rows whose highest score (the lowest such index on ties) is the label. */
export function countCorrect(scores: Float32Array, labels: ArrayLike<number>): number {
  const batch = labels.length;
  const k = classesOf(scores, batch);
  let correct = 0;
  for (let b = 0; b < batch; b++) {
    const row = b * k;
    let best = 0;
    for (let j = 1; j < k; j++) if (scores[row + j] > scores[row + best]) best = j;
    if (best === labels[b]) correct++;
  }
  return correct;
}

/** Fraction of rows classified right (argmax, lowest index on ties), 0..1. */
export function accuracy(scores: Float32Array, labels: ArrayLike<number>): number {
  return countCorrect(scores, labels) / labels.length;
}
