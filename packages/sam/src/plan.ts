import type { Core } from '@spikelens/core-wasm';
import type { Arena } from './arena.js';
import type { Layer, Model, NeuronParam } from './model.js';
import { sizeOf, spikeComparison } from './model.js';
import { convFanout } from './work.js';
import { convGeometry, dims, expandParam, poolGeometry } from './geometry.js';

/**
 * The compiled form of a model (docs/plan.md): records for the core's plan runner, laid out in the arena beside the
 * packed weights and every buffer. One `plan_run` call computes a block of steps of the whole network, layer by
 * layer; each layer's output is a window of frames `[F, B, ...]` that observers read step by step afterwards.
 *
 * Each op's plan emission lives here, in one function per op; the kernels it names are the core's.
 */

/** Record opcodes (core-wasm assembly/plan.ts). */
export const OP = {
  end: 0, encode: 1, direct: 2, conv: 3, linear: 4, pool: 5, affine: 6, relu: 7, lif: 8, cubalif: 9, li: 10, count: 11,
  readout: 12, sam: 13,
} as const;

/** Errors of plan_run. */
export const PLAN_ERROR = { badOp: 1, affineRows: 2, samSteps: 3, helper: 4 } as const;

const RESET = { subtract: 0, zero: 1, none: 2 } as const;

/** f32 and f64 arguments go into records as their bits. */
const f32Word = (x: number): number => new Int32Array(new Float32Array([x]).buffer)[0];
const f64Words = (x: number): [number, number] => {
  const w = new Int32Array(new Float64Array([x]).buffer);
  return [w[0], w[1]];
};

/** What the network keeps of each layer to run, reset and observe it. */
export interface LayerSlot {
  readonly layer: Layer;
  /** Window of the layer's output: `frames` frames of `frameBytes` (for flatten, its input's window). */
  readonly out: number;
  readonly frameBytes: number;
  /** Membrane state (lif/if/cubalif: v; li: its v, copied into each frame of `out`). */
  readonly membrane?: number;
  /** Spikes per frame, f64 (spiking layers). */
  readonly counts?: number;
  /** Conv/linear: 1 per frame computed by the event path (i32), and synaptic operations per frame (f64, or 0). */
  readonly flags?: number;
  readonly sops?: number;
  /** Clears the layer's state (a run starts). */
  reset(): void;
}

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

/** Bytes one frame of every window takes (for choosing the block length), without the lists. */
export function frameBytes(model: Model, batch: number): number {
  let bytes = batch * sizeOf(model.input.shape) * 4;
  let lists = 0;
  for (const l of model.layers) {
    if (l.op !== 'flatten') bytes += batch * sizeOf(l.outShape) * 4;
    if (l.op === 'conv2d' || l.op === 'linear') {
      const g = convGeometry(l);
      lists = Math.max(lists, batch * g.H * g.W * (g.C + 1) * 4);
    }
  }
  return bytes + lists + 64;
}

/** Element chunks of neuron and elementwise tiles: about `parts` tiles a sample-frame. */
const chunk = (C: number, parts: number): number => Math.max(1, Math.ceil(C / parts));

/** Compiles `model` into the arena. */
export function compilePlan(model: Model, core: Core, arena: Arena, options: PlanOptions): Plan {
  const { batch: B, frames: F } = options;
  const ex = core.exports;
  const words: number[] = [];
  const recordLayer: string[] = [];
  const record = (op: number, args: readonly number[], layer: string): void => {
    words.push(op, args.length + 2, ...args.map((a) => a | 0));
    recordLayer.push(layer);
  };
  const inputSize = sizeOf(model.input.shape);
  const input = arena.allocF32(F * B * inputSize);
  const pre = arena.allocF32(B * inputSize);
  const rng = arena.alloc(B * 16);

  // One list buffer for every conv/linear layer's spike lists (a layer's lists live within its record).
  let listInts = 0;
  let countInts = 0;
  for (const l of model.layers)
    if (l.op === 'conv2d' || l.op === 'linear') {
      const g = convGeometry(l);
      listInts = Math.max(listInts, F * B * g.H * g.W * g.C);
      countInts = Math.max(countInts, F * B * g.H * g.W);
    }
  const idx = listInts ? arena.alloc(listInts * 4) : 0;
  const cnt = countInts ? arena.alloc(countInts * 4) : 0;

  const enc = model.input.encoding;
  if (enc.kind === 'direct') record(OP.direct, [pre, input, B * inputSize, F], 'input');
  else record(OP.encode, [pre, input, rng, B, inputSize, f32Word(enc.gain), enc.kind === 'poisson' ? 0 : 1], 'input');
  const layersStart = words.length;
  const firstLayerRecord = recordLayer.length;

  const param = (p: NeuronParam, C: number): { ptr: number; perNeuron: number } => {
    if (p.per === 'neuron') return { ptr: arena.putF32(p.data), perNeuron: 1 };
    if (p.per === 'channel') return { ptr: arena.putF32(p.data), perNeuron: 0 };
    return { ptr: arena.putF32(new Float32Array(C).fill(p.data[0])), perNeuron: 0 };
  };
  const window = (layer: Layer): number => arena.allocF32(F * B * sizeOf(layer.outShape));
  const counter = (layer: Layer, s: number): number => {
    const counts = arena.alloc(F * 8);
    record(OP.count, [s, B * sizeOf(layer.outShape), counts], layer.name);
    return counts;
  };
  const noState = (): void => {};

  const slots: LayerSlot[] = [];
  let x = input;
  for (const layer of model.layers) {
    const outSize = sizeOf(layer.outShape);
    const frameBytes = B * outSize * 4;
    let slot: LayerSlot;
    switch (layer.op) {
      case 'flatten':
        slot = { layer, out: x, frameBytes, reset: noState };
        break;
      case 'conv2d':
      case 'linear': {
        const g = convGeometry(layer);
        const { C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups } = g;
        const cinG = C / groups;
        // on a cache line: each row of a 16-channel panel is one line (core-wasm conv.ts)
        const wp = arena.alloc(ex.conv2d_packed_len(Cout, cinG, kH, kW, groups) * 4, 64);
        const bias = layer.bias ? arena.putF32(layer.bias.data) : 0;
        const y = window(layer);
        const mark = arena.mark();
        ex.conv2d_pack(arena.putF32(layer.weight.data), wp, Cout, cinG, kH, kW, groups);
        arena.release(mark);
        const event = groups === 1 && options.eventThreshold > 0 ? 1 : 0;
        const limit = layerEventThreshold(options.eventThreshold, cinG, kH, kW) * B * C * H * W;
        const flags = arena.alloc(F * 4);
        const fan = options.countSops ? convFanout(H, W, Ho, Wo, kH, kW, [sH, sW], [pH, pW], [dH, dW], Cout / groups) : null;
        const fanout = fan ? arena.alloc(fan.length * 8, 16) : 0;
        if (fan) new Float64Array(core.memory.buffer, fanout, fan.length).set(fan);
        const sops = arena.alloc(F * 8);
        if (isFlat(g)) {
          const binary = arena.alloc(F * B);
          record(OP.linear, [x, idx, cnt, wp, bias, y, B, C, Cout, event, ...f64Words(limit), flags, fanout, sops, binary], layer.name);
        } else {
          // two threads: each sample-frame's rows in two chunks unless the batch alone gives both work
          const rows = options.threads === 2 && B < 8 && Ho >= 2 ? 2 : 1;
          record(OP.conv, [x, idx, cnt, wp, bias, y, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, event,
            ...f64Words(limit), flags, fanout, sops, rows, arena.alloc(F * B)], layer.name);
        }
        slot = { layer, out: y, frameBytes, flags: event ? flags : undefined, sops: fan ? sops : undefined, reset: noState };
        break;
      }
      case 'avgpool2d':
      case 'sumpool2d':
      case 'maxpool2d': {
        const { kind, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW } = poolGeometry(layer);
        const y = window(layer);
        record(OP.pool, [kind, x, y, B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW, chunk(C, 4)], layer.name);
        slot = { layer, out: y, frameBytes, reset: noState };
        break;
      }
      case 'affine': {
        const { C, HW } = dims(layer.inShape);
        const y = window(layer);
        const rows = layer.scale.shape.length === 2 ? layer.scale.shape[0] : 0;
        record(OP.affine, [x, y, arena.putF32(layer.scale.data), arena.putF32(layer.shift.data), B, C, HW, rows, chunk(C, 4)], layer.name);
        slot = { layer, out: y, frameBytes, reset: noState };
        break;
      }
      case 'relu': {
        const y = window(layer);
        record(OP.relu, [x, y, B * outSize], layer.name);
        slot = { layer, out: y, frameBytes, reset: noState };
        break;
      }
      case 'lif':
      case 'if':
      case 'cubalif': {
        const { C, HW } = dims(layer.outShape);
        const s = window(layer);
        const v = arena.allocF32(B * outSize);
        const beta = param(layer.beta, C);
        const thr = param(layer.threshold, C);
        // what v must exceed to spike: the threshold, or the float32 below it with fireAtThreshold (docs/semantics.md §3)
        const cmpParam = spikeComparison(layer);
        const cmp = layer.fireAtThreshold ? param(cmpParam, C) : thr;
        const vr = param(layer.vReset, C);
        const alpha = layer.alpha ? param(layer.alpha, C) : null;
        // the kernel reads one flag for all of them: expand any per-channel parameter when another is per neuron
        const perNeuron = beta.perNeuron | thr.perNeuron | vr.perNeuron | (alpha?.perNeuron ?? 0);
        const expand = (q: { ptr: number; perNeuron: number }, p: NeuronParam): number =>
          perNeuron && !q.perNeuron ? arena.putF32(expandParam(p, C, HW, true)) : q.ptr;
        const betaPtr = expand(beta, layer.beta);
        const thrPtr = expand(thr, layer.threshold);
        const cmpPtr = layer.fireAtThreshold ? expand(cmp, cmpParam) : thrPtr;
        const vrPtr = expand(vr, layer.vReset);
        const delay = layer.resetDelay ? 1 : 0;
        const last = delay ? arena.allocF32(B * outSize) : 0;
        const syn = alpha ? arena.allocF32(B * outSize) : 0;
        const tail = [B, C, HW, perNeuron, RESET[layer.reset], delay, last, chunk(C, 8)];
        if (alpha) record(OP.cubalif, [x, syn, s, v, expand(alpha, layer.alpha!), betaPtr, thrPtr, cmpPtr, vrPtr, ...tail], layer.name);
        else record(OP.lif, [x, s, v, betaPtr, thrPtr, cmpPtr, vrPtr, ...tail], layer.name);
        const counts = counter(layer, s);
        const vInit = expandParam(layer.vReset, C, HW, true);
        const reset = (): void => {
          const n = B * outSize;
          if (syn) arena.f32(syn, n).fill(0);
          if (last) arena.f32(last, n).fill(0);
          arena.f32(s, n).fill(0);
          const vv = arena.f32(v, n);
          for (let b = 0; b < B; b++) vv.set(vInit, b * outSize);
        };
        slot = { layer, out: s, frameBytes, membrane: v, counts, reset };
        break;
      }
      case 'li': {
        const { C, HW } = dims(layer.outShape);
        const y = window(layer);
        const v = arena.allocF32(B * outSize);
        const beta = param(layer.beta, C);
        record(OP.li, [x, v, y, beta.ptr, B, C, HW, beta.perNeuron, chunk(C, 8)], layer.name);
        const reset = (): void => {
          arena.f32(v, B * outSize).fill(0);
          arena.f32(y, B * outSize).fill(0);
        };
        slot = { layer, out: y, frameBytes, membrane: v, reset };
        break;
      }
    }
    slots.push(slot);
    x = slot.out;
  }

  // The readout's running sums (count and mean readouts).
  const last = slots[slots.length - 1];
  const K = B * sizeOf(last.layer.outShape);
  let acc = 0;
  let accFrames = 0;
  if (model.readout !== 'final') {
    acc = arena.allocF32(K);
    accFrames = arena.allocF32(F * K);
    record(OP.readout, [last.out, acc, accFrames, K], 'readout');
  }
  words.push(OP.end, 2);
  const program = arena.alloc(words.length * 4);
  arena.i32(program, words.length).set(words);
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

/** See NetworkOptions.eventThreshold. */
export const DEFAULT_EVENT_THRESHOLD = 0.6;

/**
 * The nonzero fraction below which a conv/linear layer takes the event path, from the network's threshold and the
 * layer's inputs per output. Measured on B1 and B2 (same bits either way): the event path wins up to about 60 %
 * nonzero inputs, except where a layer has few inputs per output (3-channel first convs: B1's at 50 % and B2's at
 * 25 % nonzero run 15 % and 40 % faster dense).
 */
export function layerEventThreshold(threshold: number, cinG: number, kH: number, kW: number): number {
  return threshold * (cinG * kH * kW < 64 ? 1 / 3 : 1);
}

/** Whether a conv/linear layer is a linear one for the kernels: 1x1 kernel on a 1x1 input, no padding, groups 1. */
function isFlat(g: ReturnType<typeof convGeometry>): boolean {
  return g.H === 1 && g.W === 1 && g.kH === 1 && g.kW === 1 && g.pH === 0 && g.pW === 0 && g.groups === 1;
}
