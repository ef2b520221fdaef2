import type { Core } from '@spikelens/core-wasm';
import type { Allocator, Arena } from '../arena.js';
import type { Fields } from '../formats/json.js';
import type { SafetensorsTensor } from '../formats/safetensors.js';
import type { Layer, NeuronParam, Op, Shape } from '../model.js';

/**
 * One op (or a family of ops sharing their code) in one place: its graph fields, its shape rule and validation, its
 * size figures, how it is compiled into the plan the core runs (plan.ts) and how it runs forward and backward in a
 * DiffNetwork. Adding an op means its kernel (core-wasm), its twin, and one file here, registered in ops/index.ts.
 */
export interface OpSpec<L extends Layer = Layer> {
  readonly ops: readonly Op[];
  /** Graph JSON fields besides name and op (docs/model-format.md). */
  readonly fields: (op: Op) => readonly string[];
  /** The layer from its JSON fields and the file's tensors: defaults applied, checked, output shape inferred. */
  parse(f: Fields, base: LayerBase, op: Op, tensors: TensorTable): L;
  /** Parameters (weights, biases, neuron parameters) of the layer. */
  params(layer: L): number;
  /** Dense multiply-accumulates of one sample and one step, as if every input were active (0 for non-synaptic ops). */
  macs(layer: L): number;
  /** i32 entries of the shared spike-list buffers one sample-frame needs: [lists, counts]. */
  lists?(layer: L): readonly [number, number];
  /** Emits the layer's records and buffers; returns what the network keeps of it. */
  plan(ctx: PlanContext, layer: L, x: number): LayerSlot;
  /** Lays the layer out in a DiffNetwork. */
  diff(ctx: DiffContext, layer: L, prev: DiffInput): DiffPlan;
}

export interface LayerBase {
  readonly name: string;
  readonly inShape: Shape;
}

export type TensorTable = ReadonlyMap<string, SafetensorsTensor>;

/** What the network keeps of each layer to run, reset and observe it. */
export interface LayerSlot {
  readonly layer: Layer;
  /** Window of the layer's output: one frame of `frameBytes` per step of a block (for flatten, its input's window). */
  readonly out: number;
  readonly frameBytes: number;
  /** Membrane state (lif/if/cubalif: v; li: its v, copied into each frame of `out`). */
  readonly membrane?: number;
  /** Spikes per frame, f64 (spiking layers). */
  readonly counts?: number;
  /** Conv/linear: 1 per frame computed by the event path (i32), and synaptic operations per frame (f64). */
  readonly flags?: number;
  readonly sops?: number;
  /** Clears the layer's state (a run starts). */
  reset(): void;
}

/** What an op's plan emission is given (plan.ts compilePlan). */
export interface PlanContext {
  /** Batch, and frames every window holds (the longest block). */
  readonly B: number;
  readonly F: number;
  /** The core whose memory `arena` is; null when the layout is only counted (a Tally: `arena.live` is false). */
  readonly core: Core | null;
  readonly arena: Allocator;
  readonly eventThreshold: number;
  readonly countSops: boolean;
  readonly threads: 1 | 2;
  /** The spike-list buffers every conv/linear record shares. */
  readonly idx: number;
  readonly cnt: number;
  /**
   * The nonzero values the layer's input can take when they are few and known (spikes: [1]; 2x2 average pooling of
   * spikes: [0.25, 0.5, 0.75, 1]), else null: a hint for value tables (the core checks each input before it uses one).
   */
  readonly inputValues: readonly number[] | null;
  /** Appends a record [op, words, args...] run for `layer`. */
  record(op: number, args: readonly number[], layer: string): void;
  /** A neuron parameter in the arena: C values (scalar expanded) or per neuron. */
  param(p: NeuronParam, C: number): { ptr: number; perNeuron: number };
  /** A window of F frames of the layer's output. */
  window(layer: Layer): number;
  /** A count record over the spikes at `s`; returns its per-frame counts (f64). */
  counter(layer: Layer, s: number): number;
}


/** The layer below, as a DiffNetwork layer sees it: its output at each step and the gradient buffer of that output. */
export interface DiffInput {
  readonly outs: readonly number[];
  readonly grad: number;
}

/** One layer of a DiffNetwork: outputs of every step, the gradient of the output, forward and backward of a step. */
export interface DiffPlan {
  readonly layer: Layer;
  readonly outs: readonly number[];
  readonly grad: number;
  /** The gradient of the layer's input (the layer below's `grad`). */
  readonly inGrad: number;
  fwd(t: number): void;
  bwd(t: number): void;
  /** Clears gradient state carried between steps (before a backward pass). */
  clearState?(): void;
}

/** What an op's DiffNetwork layout is given (diff/network.ts). */
export interface DiffContext {
  readonly B: number;
  readonly T: number;
  readonly core: Core;
  readonly arena: Arena;
  /** Whether the gradient of the layer's input is needed (always, except for the first layer without inputGrad). */
  readonly needInGrad: boolean;
  readonly paramGrads: boolean;
  readonly trainBeta: boolean;
  readonly surrogate: number;
  readonly keepReset: number;
  /** A trainable tensor: its values and gradient in the arena. */
  addParam(name: string, shape: readonly number[], init: Float32Array, decay: boolean, clamp?: readonly [number, number]): { ptr: number; grad: number };
  /** Re-derives packed weights after the parameters change. */
  onSync(f: () => void): void;
  /** One output buffer per step. */
  stepOuts(layer: Layer): number[];
  /** Spikes per spiking layer of the last forward pass. */
  readonly spikeCounts: Map<string, number>;
}
