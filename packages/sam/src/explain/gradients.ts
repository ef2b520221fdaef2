import { DiffNetwork, type Surrogate } from '../diff/network.js';
import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import { argmaxRows, type NetworkInput } from '../network.js';
import { checkRequest, resolveTimesteps } from '../run.js';
import { LIMITS } from '../limits.js';
import { resolveTargets } from './target.js';
import type { ExplainOptions } from './types.js';

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

/** The layer a layer-wise method explains: named, in the model, and of one of `ops`. */
export function layerOf(model: Model, layer: string | undefined, method: string, ops: readonly string[], what: string) {
  if (!layer) throw new UsageError(`${method} needs --layer: ${what}`);
  const l = model.layers.find((x) => x.name === layer);
  if (!l) throw new UsageError(`--layer: the model has no layer "${layer.slice(0, 40)}"`);
  if (!ops.includes(l.op)) throw new UsageError(`${method} cannot use layer "${layer}" (${l.op}): it needs ${what}`);
  if (l.outShape.length !== 3) throw new UsageError(`${method} cannot use layer "${layer}": it is flat ([${l.outShape.join(',')}]) and has no map`);
  return l;
}
