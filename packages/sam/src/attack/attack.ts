/**
 * Adversarial inputs through the surrogate gradients (docs/explain.md): FGSM and PGD on the cross-entropy of
 * softmax(scores) against the label (the clean prediction when there is none), in pixel units 0..255, the result
 * rounded to 8-bit pixels so that a saved PNG reproduces every number reported for it.
 */
import { DiffNetwork, type Surrogate } from '../diff/network.js';
import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import { memoryInput, simulate } from '../run.js';
import { gradientBatch, gradientSteps } from '../explain/gradients.js';
import { LIMITS } from '../limits.js';
import { detLog } from '../train/loss.js';
import { softmaxRow } from '../softmax.js';
import { uniformStream } from '../explain/noise.js';

export type AttackMethod = 'fgsm' | 'pgd';
export const ATTACK_METHODS: readonly AttackMethod[] = ['fgsm', 'pgd'];

export interface AttackOptions {
  readonly method: AttackMethod;
  /** The largest change of a pixel, on the [0, 1] scale (pixels move by at most 255 * eps). */
  readonly eps: number;
  /** PGD: steps (default 10), step size on the [0, 1] scale (default eps / 4), random start (default true). */
  readonly steps?: number;
  readonly stepSize?: number;
  readonly randomStart?: boolean;
  /** The class each sample's loss is taken against (default: its clean prediction). */
  readonly labels?: ArrayLike<number>;
  /** Encoder seed, used by the attack and the evaluation alike; the random start's stream is seeded from it. */
  readonly seed?: number;
  /** Key of the first sample (its encoder and noise streams). */
  readonly keyOffset?: number;
  readonly timesteps?: number;
  readonly surrogate?: Surrogate;
}

export interface AttackResult {
  /** The adversarial images `[B, ...input]`, whole pixel values 0..255. */
  readonly adversarial: Float32Array;
  /** The labels the loss was taken against. */
  readonly labels: number[];
  readonly clean: { readonly scores: Float32Array; readonly predictions: number[]; readonly probabilities: number[] };
  readonly attacked: { readonly scores: Float32Array; readonly predictions: number[]; readonly probabilities: number[] };
  /** max |x' - x| of each sample, in pixel units (0..255). */
  readonly linf: number[];
}

/** Checks options before any work: a UsageError naming the option. */
export function checkAttack(o: AttackOptions): void {
  if (!ATTACK_METHODS.includes(o.method)) throw new UsageError(`unknown attack "${String(o.method).slice(0, 40)}" (fgsm or pgd)`);
  if (!(Number.isFinite(o.eps) && o.eps >= 0 && o.eps <= 1)) throw new UsageError(`eps must be a number from 0 to 1, not ${o.eps}`);
  if (o.steps !== undefined && !(Number.isSafeInteger(o.steps) && o.steps >= 1)) throw new UsageError(`steps must be an integer >= 1, not ${o.steps}`);
  if (o.stepSize !== undefined && !(Number.isFinite(o.stepSize) && o.stepSize > 0 && o.stepSize <= 1))
    throw new UsageError(`the step size must be a number in (0, 1], not ${o.stepSize}`);
}

/** x rounded to the nearest integer, ties to even (as torch.round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Softmax probabilities of each sample's label (float64), and dLoss/dScores = softmax - onehot per sample (not averaged). */
function softmaxGrad(scores: Float32Array, labels: readonly number[], K: number, grad?: Float32Array): number[] {
  const probs: number[] = [];
  for (let b = 0; b < labels.length; b++) {
    const p = softmaxRow(scores, K, b);
    if (grad) for (let j = 0; j < K; j++) grad[b * K + j] = p[j] - (j === labels[b] ? 1 : 0);
    probs.push(p[labels[b]]);
  }
  return probs;
}

/** The softmax probability of each sample's predicted class. */
function predictedProbability(scores: Float32Array, predictions: number[], K: number): number[] {
  return softmaxGrad(scores, predictions, K);
}

/** Cross-entropy loss of each sample, -log p_label (float64). */
export function crossEntropy(scores: Float32Array, labels: readonly number[]): number[] {
  return softmaxGrad(scores, labels, scores.length / labels.length).map((p) => -detLog(p));
}

/**
 * Attacks B images (pixel values `[B, ...input]`) of `model`: FGSM `x' = clip(x + 255 eps sign(g))`, or PGD from a
 * random start `clip(x + U(-255 eps, 255 eps))` taking `steps` steps `clip(proj(x + 255 alpha sign(g)))`, g the
 * gradient of the loss; then rounds to whole pixels and evaluates clean and adversarial images as `spikelens run`
 * would. Samples are independent: a batch gives each image the bits it gets alone.
 */
export async function attack(model: Model, pixels: Float32Array, B: number, o: AttackOptions): Promise<AttackResult> {
  checkAttack(o);
  const T = gradientSteps(model, { kind: 'pixels' }, o.timesteps);
  const n = pixels.length / B;
  const seed = o.seed ?? 0;
  const keyOffset = o.keyOffset ?? 0;
  if (o.labels && o.labels.length !== B) throw new UsageError(`${o.labels.length} labels for ${B} images`);
  const per = B === 1 ? 1 : await gradientBatch(model, T, { inputGrad: true });
  if (B > per) {
    // In slices that fit one gradient network: every sample keeps its keys and label, so the bits are the same.
    const parts: AttackResult[] = [];
    for (let b0 = 0; b0 < B; b0 += per) {
      const count = Math.min(per, B - b0);
      const labels = o.labels ? Array.from({ length: count }, (_, i) => o.labels![b0 + i]) : undefined;
      parts.push(await attack(model, pixels.subarray(b0 * n, (b0 + count) * n), count, { ...o, labels, keyOffset: keyOffset + b0 }));
    }
    const cat = (xs: Float32Array[]): Float32Array => {
      const out = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
      let at = 0;
      for (const x of xs) (out.set(x, at), (at += x.length));
      return out;
    };
    const side = (k: 'clean' | 'attacked') => ({
      scores: cat(parts.map((p) => p[k].scores)),
      predictions: parts.flatMap((p) => p[k].predictions),
      probabilities: parts.flatMap((p) => p[k].probabilities),
    });
    return { adversarial: cat(parts.map((p) => p.adversarial)), labels: parts.flatMap((p) => p.labels), clean: side('clean'), attacked: side('attacked'), linf: parts.flatMap((p) => p.linf) };
  }
  const keys = Array.from({ length: B }, (_, b) => keyOffset + b);
  const evaluate = async (x: Float32Array) => {
    const r = await simulate({ model, source: memoryInput({ kind: 'pixels', data: x }, B), seed, keyOffset, timesteps: T });
    return { scores: r.scores, predictions: r.predictions, probabilities: predictedProbability(r.scores, r.predictions, r.classes) };
  };
  // the gradient network first: one that cannot be laid out is refused before the clean run's work
  const net = await DiffNetwork.create(model, { batch: B, timesteps: T, surrogate: o.surrogate ?? 'atan', inputGrad: true, paramGrads: false, maxBytes: LIMITS.gradientBytes });
  const clean = await evaluate(pixels);
  const K = clean.scores.length / B;
  const labels = o.labels ? Array.from(o.labels) : clean.predictions;
  for (const y of labels) if (!Number.isInteger(y) || y < 0 || y >= K) throw new UsageError(`label ${y} is not a class from 0 to ${K - 1}`);

  const dScores = new Float32Array(B * K);
  const gradient = (x: Float32Array): Float32Array => {
    const scores = net.forward(x, keys, seed);
    softmaxGrad(scores, labels, K, dScores);
    net.backward(dScores);
    return net.pixelGradient();
  };
  const f = Math.fround;
  const radius = f(255 * o.eps);
  const clip = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);
  const x = Float32Array.from(pixels);
  if (o.eps === 0) {
    // nothing may move: the image itself, rounded below like any other
  } else if (o.method === 'fgsm') {
    const g = gradient(x);
    for (let i = 0; i < x.length; i++) x[i] = clip(f(pixels[i] + f(radius * Math.sign(g[i]))));
  } else {
    const step = f(255 * (o.stepSize ?? o.eps / 4));
    if (o.randomStart ?? true)
      for (let b = 0; b < B; b++) {
        const u = uniformStream(seed, keys[b]);
        for (let i = b * n; i < (b + 1) * n; i++) x[i] = clip(f(pixels[i] + f(radius * f(2 * u() - 1))));
      }
    for (let k = 0; k < (o.steps ?? 10); k++) {
      const g = gradient(x);
      for (let i = 0; i < x.length; i++) {
        const lo = f(pixels[i] - radius);
        const hi = f(pixels[i] + radius);
        const moved = f(x[i] + f(step * Math.sign(g[i])));
        x[i] = clip(moved < lo ? lo : moved > hi ? hi : moved);
      }
    }
  }
  const linf: number[] = [];
  for (let b = 0; b < B; b++) {
    let m = 0;
    for (let i = b * n; i < (b + 1) * n; i++) {
      x[i] = roundHalfEven(x[i]);
      m = Math.max(m, Math.abs(x[i] - pixels[i]));
    }
    linf.push(m);
  }
  const attacked = await evaluate(x);
  return { adversarial: x, labels, clean, attacked, linf };
}

