import { CTL_BYTES, type Core } from '@spikelens/core-wasm';
import type { Allocator } from './arena.js';
import type { Layer, Model, NeuronParam } from './model.js';
import { sizeOf } from './model.js';
import { opSpec } from './ops/index.js';
import { OP, f32Word } from './ops/records.js';
import type { LayerSlot, PlanContext } from './ops/types.js';

export { OP, PLAN_ERROR, DEFAULT_EVENT_THRESHOLD, layerEventThreshold } from './ops/records.js';
export type { LayerSlot } from './ops/types.js';

/**
 * The compiled form of a model (docs/plan.md): records for the core's plan runner, laid out in the arena beside the
 * packed weights and every buffer. One `plan_run` call computes a block of steps of the whole network, layer by
 * layer; each layer's output is a window of frames `[F, B, ...]` that observers read step by step afterwards.
 *
 * Each op's records come from its spec (ops/): this file lays out what every plan has (input, shared lists,
 * readout) and strings the layers together.
 */

export interface PlanOptions {
  readonly batch: number;
  /** Frames every window holds: the longest block. */
  readonly frames: number;
  readonly eventThreshold: number;
  readonly countSops: boolean;
  /** With two threads, conv rows are split in chunks so one sample-frame gives both threads work. */
  readonly threads: 1 | 2;
}

export interface Plan {
  /** The program: from the input record, and from the first layer (a spike train written by the host). */
  readonly program: number;
  readonly layersProgram: number;
  /** Words of the whole program. */
  readonly programWords: number;
  /** Record index of the program -> the layer it runs ('input' for the encoder); layersProgram's first index. */
  readonly recordLayer: readonly string[];
  readonly layersRecord: number;
  readonly slots: readonly LayerSlot[];
  /** The input window (frames of B x input), the preprocessed input and the encoder states. */
  readonly input: number;
  readonly pre: number;
  readonly rng: number;
  /** The readout: running sums (B x K) and their value after each frame; 0 for a `final` readout. */
  readonly acc: number;
  readonly accFrames: number;
}

/**
 * The nonzero values a layer's output can take, from its input's (null: unknown or many): spikes are 1; pooling 0/1
 * spikes over k inputs gives the sums 1..k (sum) or those over k (average: exact in float32 for k a power of two,
 * and each value is the kernel's own result for that many spikes); flatten keeps them.
 */
function outputValues(layer: Layer, input: readonly number[] | null): readonly number[] | null {
  if (layer.op === 'lif' || layer.op === 'if' || layer.op === 'cubalif') return [1];
  if (layer.op === 'flatten') return input;
  if ((layer.op === 'avgpool2d' || layer.op === 'sumpool2d' || layer.op === 'maxpool2d') && input?.length === 1 && input[0] === 1) {
    if (layer.op === 'maxpool2d') return [1];
    if (layer.padding[0] !== 0 || layer.padding[1] !== 0) return null;
    const k = layer.kernel[0] * layer.kernel[1];
    if (k > 4) return null;
    return Array.from({ length: k }, (_, i) => (layer.op === 'sumpool2d' ? i + 1 : Math.fround((i + 1) / k)));
  }
  return null;
}

/**
 * An upper bound of the bytes a plan takes in the arena, computed before any of it is laid out: every window of F
 * frames, three buffers of state per neuron, the weights five times over (packed, and a value table of four copies),
 * and the input, encoder and readout buffers.
 */
export function planBytes(model: Model, batch: number, frames: number): number {
  let bytes = frames * frameBytes(model, batch) + 3 * batch * sizeOf(model.input.shape) * 4 + 2 ** 20;
  for (const l of model.layers) {
    bytes += 3 * batch * sizeOf(l.outShape) * 4 + frames * 64 + 256;
    if (l.op === 'conv2d' || l.op === 'linear') bytes += 5 * (l.weight.data.length + 16 * l.weight.data.length / Math.max(1, l.outShape[0])) * 4 + sizeOf(l.inShape) * 8;
    if (l.op === 'affine') bytes += (l.scale.data.length + l.shift.data.length) * 4;
    if ('beta' in l) bytes += 6 * sizeOf(l.outShape) * 4;
  }
  return bytes;
}

/** Bytes of windows a default block may take, and its most steps (measured on B1: see docs/plan.md). */
const BLOCK_BYTES = 48 * 2 ** 20;
const BLOCK_MAX = 32;

/**
 * The frames every window holds (a network's `blockSteps`): `asked`, or by default no more than the model's run
 * has steps and at most 32; never more windows than 48 MiB, whatever is asked (at least one step).
 */
export function planFrames(model: Model, batch: number, asked?: number): number {
  const fit = Math.max(1, Math.floor(BLOCK_BYTES / frameBytes(model, batch)));
  // by default no more frames than the model's run has steps (a longer run simply takes more blocks)
  return Math.min(asked ?? Math.min(BLOCK_MAX, model.timesteps ?? BLOCK_MAX), fit);
}

/**
 * The blocks of the threads build, laid out before the plan: the event convolution's list scratch of this instance
 * and of the helper (the threads build keeps none of its own: `scratchBytes` is the core's `scratch_bytes()`), and
 * the threads' control block.
 */
export function layoutThreads(arena: Allocator, scratchBytes: number): { own: number; ctl: number; scratch: number } {
  arena.label('(threads)');
  const own = arena.alloc(scratchBytes, 16, 'scratch:core list scratch');
  const ctl = arena.alloc(CTL_BYTES, 16, 'scratch:thread control');
  const scratch = arena.alloc(scratchBytes, 16, 'scratch:helper list scratch');
  return { own, ctl, scratch };
}

/** Bytes one frame of every window takes (for choosing the block length), without the lists. */
export function frameBytes(model: Model, batch: number): number {
  let bytes = batch * sizeOf(model.input.shape) * 4;
  let lists = 0;
  for (const l of model.layers) {
    if (l.op !== 'flatten') bytes += batch * sizeOf(l.outShape) * 4;
    const [n, counts] = opSpec(l.op).lists?.(l) ?? [0, 0];
    lists = Math.max(lists, batch * (n + counts) * 4);
  }
  return bytes + lists + 64;
}


/**
 * Compiles `model` into the arena: every block laid out, the weights packed, the records written. With a Tally for
 * `arena` and no core, the same layout is only counted (footprint.ts): the blocks and their sizes are those a
 * Network's arena gets, and nothing is written.
 */
export function compilePlan(model: Model, core: Core | null, arena: Allocator, options: PlanOptions): Plan {
  const { batch: B, frames: F } = options;
  if (arena.live !== (core !== null)) throw new Error('compilePlan: a live arena needs its core, a tally none');
  const words: number[] = [];
  const recordLayer: string[] = [];
  const record = (op: number, args: readonly number[], layer: string): void => {
    words.push(op, args.length + 2, ...args.map((a) => a | 0));
    recordLayer.push(layer);
  };
  const inputSize = sizeOf(model.input.shape);
  arena.label('input');
  const input = arena.allocF32(F * B * inputSize, 'io:input window');
  const pre = arena.allocF32(B * inputSize, 'io:preprocessed input');
  const rng = arena.alloc(B * 16, 16, 'io:encoder streams');

  // One list buffer for every conv/linear layer's spike lists (a layer's lists live within its record).
  let listInts = 0;
  let countInts = 0;
  for (const l of model.layers) {
    const [lists, counts] = opSpec(l.op).lists?.(l) ?? [0, 0];
    listInts = Math.max(listInts, F * B * lists);
    countInts = Math.max(countInts, F * B * counts);
  }
  arena.label('(shared)');
  const idx = listInts ? arena.alloc(listInts * 4, 16, 'scratch:spike lists') : 0;
  const cnt = countInts ? arena.alloc(countInts * 4, 16, 'scratch:list counts') : 0;

  const enc = model.input.encoding;
  if (enc.kind === 'direct') record(OP.direct, [pre, input, B * inputSize, F], 'input');
  else record(OP.encode, [pre, input, rng, B, inputSize, f32Word(enc.gain), enc.kind === 'poisson' ? 0 : 1], 'input');
  const layersStart = words.length;
  const firstLayerRecord = recordLayer.length;

  const param = (p: NeuronParam, C: number): { ptr: number; perNeuron: number } => {
    if (p.per === 'neuron') return { ptr: arena.putF32(p.data, 'weights:neuron parameters'), perNeuron: 1 };
    if (p.per === 'channel') return { ptr: arena.putF32(p.data, 'weights:neuron parameters'), perNeuron: 0 };
    return { ptr: arena.putF32(new Float32Array(C).fill(p.data[0]), 'weights:neuron parameters'), perNeuron: 0 };
  };
  const window = (layer: Layer): number => arena.allocF32(F * B * sizeOf(layer.outShape), 'windows:output');
  const counter = (layer: Layer, s: number): number => {
    const counts = arena.alloc(F * 8, 16, 'scratch:spike counts');
    record(OP.count, [s, B * sizeOf(layer.outShape), counts], layer.name);
    return counts;
  };

  const slots: LayerSlot[] = [];
  let x = input;
  let values: readonly number[] | null = enc.kind === 'poisson' ? [1] : enc.kind === 'signed-poisson' ? [-1, 1] : null;
  for (const layer of model.layers) {
    arena.label(layer.name);
    const ctx: PlanContext = {
      B, F, core, arena, idx, cnt, record, param, window, counter, inputValues: values,
      eventThreshold: options.eventThreshold, countSops: options.countSops, threads: options.threads,
    };
    const slot = opSpec(layer.op).plan(ctx, layer, x);
    slots.push(slot);
    x = slot.out;
    values = outputValues(layer, values);
  }

  // The readout's running sums (count and mean readouts).
  const last = slots[slots.length - 1];
  const K = B * sizeOf(last.layer.outShape);
  let acc = 0;
  let accFrames = 0;
  arena.label('readout');
  if (model.readout !== 'final') {
    acc = arena.allocF32(K, 'io:readout sums');
    accFrames = arena.allocF32(F * K, 'io:readout frames');
    record(OP.readout, [last.out, acc, accFrames, K], 'readout');
  }
  words.push(OP.end, 2);
  arena.label('(plan)');
  const program = arena.alloc(words.length * 4, 16, 'program:records');
  if (arena.live) arena.i32(program, words.length).set(words);
  return {
    program,
    layersProgram: program + layersStart * 4,
    programWords: words.length,
    recordLayer,
    slots,
    input,
    pre,
    rng,
    acc,
    accFrames,
    layersRecord: firstLayerRecord,
  };
}

