import { DiffNetwork, type DiffNetworkOptions, type Surrogate } from '../diff/network.js';
import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import { argmaxRows, type NetworkInput } from '../network.js';
import { checkRequest, memoryInput, resolveTimesteps } from '../run.js';
import { LIMITS } from '../limits.js';
import { resolveTargets } from './target.js';
import type { ExplainOptions, Explanation } from './types.js';

/** A forward and backward pass of a batch for the gradient of each sample's target score (docs/explain.md). */
export interface ClassGradients {
  readonly net: DiffNetwork;
  readonly T: number;
  readonly scores: Float32Array;
  readonly predictions: number[];
  readonly targets: number[];
}

/**
 * The steps a gradient is taken through on this input (as simulate() takes them), within LIMITS.gradientSteps:
 * backpropagation through time keeps every step's activity.
 */
export function gradientSteps(model: Model, input: Pick<NetworkInput, 'kind'> & { timesteps?: number }, timesteps?: number): number {
  const T = resolveTimesteps(model, { kind: input.kind, timesteps: input.kind === 'train' ? input.timesteps : undefined, file: model.file }, timesteps);
  checkRequest({ model }, T);
  if (T > LIMITS.gradientSteps)
    throw new UsageError(`gradients keep every step: ${T} steps are more than the ${LIMITS.gradientSteps} they go through; give fewer --timesteps`);
  return T;
}

/**
 * Runs `input` (B samples) forward through a DiffNetwork and back from dy_c/dy = one-hot at each sample's target c:
 * the gradients of the score (not its softmax) with the surrogate's spike derivative and the reset detached.
 * `gradLayers` keeps those layers' output gradients at every step; `inputGrad` the input's.
 */
export async function classGradients(
  model: Model,
  input: NetworkInput,
  B: number,
  o: ExplainOptions,
  keep: { gradLayers?: readonly string[]; inputGrad?: boolean },
): Promise<ClassGradients> {
  const T = gradientSteps(model, input, o.timesteps);
  const net = await DiffNetwork.create(model, {
    batch: B,
    timesteps: T,
    maxBytes: LIMITS.gradientBytes,
    surrogate: o.surrogate ?? 'atan',
    keepReset: o.keepReset,
    paramGrads: false,
    gradLayers: keep.gradLayers,
    inputGrad: keep.inputGrad,
    spikeInput: input.kind === 'train',
  });
  const keys = Array.from({ length: B }, (_, b) => (o.keys ? o.keys[b] : (o.keyOffset ?? 0) + b));
  const scores = input.kind === 'pixels' ? net.forward(input.data, keys, o.seed ?? 0) : net.forwardTrain(input.data);
  const K = scores.length / B;
  const predictions = argmaxRows(scores, K);
  const targets = resolveTargets(o.target ?? 'pred', predictions, K, o.labels);
  const d = new Float32Array(B * K);
  for (let b = 0; b < B; b++) d[b * K + targets[b]] = 1;
  net.backward(d);
  return { net, T, scores, predictions, targets };
}

type Kept = Pick<DiffNetworkOptions, 'gradLayers' | 'inputGrad' | 'spikeInput'>;
const fits = new WeakMap<Model, Map<string, number>>();

/**
 * How many samples one gradient network of `model` over T steps holds within LIMITS.gradientBytes, measured by
 * laying it out at batch 1 and 2 (cached per model and options). One sample that does not fit is an InputError
 * naming the model, raised before its memory is taken.
 */
export async function gradientBatch(model: Model, T: number, kept: Kept): Promise<number> {
  const key = JSON.stringify([T, kept, LIMITS.gradientBytes]);
  const known = fits.get(model)?.get(key);
  if (known !== undefined) return known;
  const size = async (batch: number): Promise<number> =>
    (await DiffNetwork.create(model, { batch, timesteps: T, paramGrads: false, maxBytes: LIMITS.gradientBytes, ...kept })).arena.size;
  const one = await size(1);
  let n = 1;
  if (2 * one <= LIMITS.gradientBytes) {
    const perSample = Math.max(1, (await size(2)) - one);
    // one sample less than the arithmetic allows: alignment may add a little at a larger batch
    n = Math.max(1, Math.floor((LIMITS.gradientBytes - (one - perSample)) / perSample) - 1);
  }
  if (!fits.has(model)) fits.set(model, new Map());
  fits.get(model)!.set(key, n);
  return n;
}

/** Samples b0 .. b0 + count - 1 of a batch of B: their input, keys and labels (each keeps its own random streams). */
function sliceSamples(input: NetworkInput, B: number, o: ExplainOptions, b0: number, count: number): { input: NetworkInput; options: ExplainOptions } {
  const keys = Array.from({ length: count }, (_, i) => (o.keys ? o.keys[b0 + i] : (o.keyOffset ?? 0) + b0 + i));
  const labels = o.labels ? Array.from({ length: count }, (_, i) => o.labels![b0 + i]) : undefined;
  return { input: memoryInput(input, B).read(b0, count), options: { ...o, keys, labels, keyOffset: undefined } };
}

/** The explanations of consecutive slices of a batch as one: maps `[T, B, H, W]`, targets, scores, predictions. */
function joinExplanations(parts: readonly Explanation[]): Explanation {
  const first = parts[0];
  const B = parts.reduce((s, p) => s + p.B, 0);
  const HW = first.H * first.W;
  const maps = new Float32Array(first.T * B * HW);
  const K = first.scores.length / first.B;
  const scores = new Float32Array(B * K);
  let b0 = 0;
  for (const p of parts) {
    for (let t = 0; t < first.T; t++) maps.set(p.maps.subarray(t * p.B * HW, (t + 1) * p.B * HW), (t * B + b0) * HW);
    scores.set(p.scores, b0 * K);
    b0 += p.B;
  }
  return { ...first, B, maps, scores, targets: parts.flatMap((p) => p.targets), predictions: parts.flatMap((p) => p.predictions) };
}

/**
 * `explainSlice` over the batch in slices that fit one gradient network (LIMITS.gradientBytes): the same maps as
 * one batch, since every sample keeps its own keys and label.
 */
export async function inGradientSlices(
  model: Model,
  input: NetworkInput,
  B: number,
  o: ExplainOptions,
  kept: Kept,
  explainSlice: (input: NetworkInput, B: number, o: ExplainOptions) => Promise<Explanation>,
): Promise<Explanation> {
  // one sample needs no measuring: its network is laid out within the limit or refused (InputError) as it is made
  if (B === 1) return explainSlice(input, B, o);
  const T = gradientSteps(model, input, o.timesteps);
  const per = await gradientBatch(model, T, { ...kept, spikeInput: input.kind === 'train' });
  if (B <= per) return explainSlice(input, B, o);
  const parts: Explanation[] = [];
  for (let b0 = 0; b0 < B; b0 += per) {
    const count = Math.min(per, B - b0);
    const s = sliceSamples(input, B, o, b0, count);
    parts.push(await explainSlice(s.input, count, s.options));
  }
  return joinExplanations(parts);
}

/** The layer a layer-wise method explains: named, in the model, and of one of `ops`. */
export function layerOf(model: Model, layer: string | undefined, method: string, ops: readonly string[], what: string) {
  if (!layer) throw new UsageError(`${method} needs --layer: ${what}`);
  const l = model.layers.find((x) => x.name === layer);
  if (!l) throw new UsageError(`--layer: the model has no layer "${layer.slice(0, 40)}"`);
  if (!ops.includes(l.op)) throw new UsageError(`${method} cannot use layer "${layer}" (${l.op}): it needs ${what}`);
  if (l.outShape.length !== 3) throw new UsageError(`${method} cannot use layer "${layer}": it is flat ([${l.outShape.join(',')}]) and has no map`);
  return l;
}
