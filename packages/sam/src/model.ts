/**
 * The one in-memory model description (docs/model-format.md). Every format adapter (safetensors graph, later NIR) produces this,
 * fully validated: shapes inferred, tensors resolved to float32 data, parameters expanded to their resolution.
 * Shapes are per sample (no batch axis): conv-shaped [C, H, W] or flat [N].
 */

export type Shape = readonly number[];

export interface Tensor {
  readonly name: string;
  readonly shape: Shape;
  readonly data: Float32Array;
}

/** A neuron parameter: one value for all, one per channel ([C]), or one per neuron (the layer's whole shape). */
export interface NeuronParam {
  readonly per: 'scalar' | 'channel' | 'neuron';
  /** length 1, C or C*H*W (flat layers: C = N, H = W = 1). */
  readonly data: Float32Array;
}

export type ResetRule = 'subtract' | 'zero' | 'none';
export type EncodingKind = 'poisson' | 'signed-poisson' | 'direct';
export type Readout = 'final' | 'mean' | 'count';

interface LayerBase {
  readonly name: string;
  /** Shape of one sample's input to this layer. */
  readonly inShape: Shape;
  /** Shape of one sample's output of this layer. */
  readonly outShape: Shape;
}

export interface Conv2dLayer extends LayerBase {
  readonly op: 'conv2d';
  readonly weight: Tensor; // OIHW
  readonly bias: Tensor | null;
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

export interface LinearLayer extends LayerBase {
  readonly op: 'linear';
  readonly weight: Tensor; // [out, in]
  readonly bias: Tensor | null;
}

export interface PoolLayer extends LayerBase {
  readonly op: 'avgpool2d' | 'sumpool2d' | 'maxpool2d';
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

export interface FlattenLayer extends LayerBase {
  readonly op: 'flatten';
}

export interface AffineLayer extends LayerBase {
  readonly op: 'affine';
  /** [C] or [T, C] (row t used at step t). */
  readonly scale: Tensor;
  readonly shift: Tensor;
}

export interface SpikingLayer extends LayerBase {
  /** `cubalif`: a current-based LIF (NIR CubaLIF, snnTorch Synaptic), with a synaptic current decaying by `alpha`. */
  readonly op: 'lif' | 'if' | 'cubalif';
  readonly beta: NeuronParam; // 'if': scalar 1
  /** `cubalif` only: the synaptic current's decay per step, `i = fl(fl(alpha*i) + I)`. */
  readonly alpha?: NeuronParam;
  readonly threshold: NeuronParam;
  readonly vReset: NeuronParam;
  readonly reset: ResetRule;
  readonly resetDelay: boolean;
  /**
   * Spike when v >= threshold (Sinabs, SpikingJelly) instead of v > threshold; a subtract reset still takes the
   * threshold itself (docs/semantics.md §3). The parser's default is false.
   */
  readonly fireAtThreshold: boolean;
}

export interface LiLayer extends LayerBase {
  readonly op: 'li';
  readonly beta: NeuronParam;
}

export interface ReluLayer extends LayerBase {
  readonly op: 'relu';
}

export type Layer =
  | Conv2dLayer
  | LinearLayer
  | PoolLayer
  | FlattenLayer
  | AffineLayer
  | SpikingLayer
  | LiLayer
  | ReluLayer;

export type Op = Layer['op'];

export interface InputSpec {
  /** [C, H, W] or [N]. */
  readonly shape: Shape;
  readonly preprocess: { readonly scale: number; readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly encoding: { readonly kind: EncodingKind; readonly gain: number };
  readonly labels: readonly string[] | null;
}

export interface Model {
  /** Where it came from, for messages ('' when built in memory). */
  readonly file: string;
  readonly name: string;
  readonly input: InputSpec;
  /** null when the model leaves it to the input (a spike train's length). */
  readonly timesteps: number | null;
  readonly readout: Readout;
  readonly layers: readonly Layer[];
  /** Free-form model card, passed through. */
  readonly meta?: unknown;
}

export function isSpiking(layer: Layer): layer is SpikingLayer {
  return layer.op === 'lif' || layer.op === 'if' || layer.op === 'cubalif';
}

/** The largest float32 below `x` (a finite float32; 0 and -0 give -2^-149): `v >= x` is `v > below(x)` for every float32 v. */
export function below(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if (f[0] === 0) u[0] = 0x80000001; // the negative number nearest zero
  else u[0] += f[0] > 0 ? -1 : 1;
  return f[0];
}

/**
 * What a spiking layer's membrane must exceed to spike (docs/semantics.md §3), the kernels' `cmp`: the threshold
 * itself, or with `fireAtThreshold` the float32 below each threshold, which makes `v > cmp` exactly `v >= threshold`.
 */
export function spikeComparison(layer: SpikingLayer): NeuronParam {
  if (!layer.fireAtThreshold) return layer.threshold;
  return { per: layer.threshold.per, data: layer.threshold.data.map(below) };
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
