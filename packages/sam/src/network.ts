import {
  CTL_BYTES, DENSE_ROWS, EVENT_ROWS, LINEAR_COLS, RowsHelper, createCore, createThreadsCore, type Core, type CoreSource, type HelperInit,
  type HelperThread,
} from '@spikelens/core-wasm';
import { Arena, ArenaFullError } from './arena.js';
import { InputError, UsageError } from './errors.js';
import type { Layer, Model, NeuronParam } from './model.js';
import { isSpiking, sizeOf, spikeComparison } from './model.js';
import { preprocess } from './preprocess.js';
import { convFanout } from './work.js';
import { convGeometry, dims, expandParam, poolGeometry } from './geometry.js';

/** What a run is driven by: raw pixel values (preprocessed and encoded), or a spike train that bypasses the encoder. */
export type NetworkInput =
  | { readonly kind: 'pixels'; readonly data: Float32Array } // [B, ...input.shape], values 0..255 (or as given)
  | { readonly kind: 'train'; readonly data: Uint8Array | Int8Array | Float32Array; readonly timesteps: number }; // [T, B, ...]

export interface NetworkOptions {
  readonly batch?: number;
  /** The core module or its bytes; the embedded module by default. */
  readonly core?: CoreSource;
  /** PRNG seed of the encoder (docs/semantics.md §6). */
  readonly seed?: number;
  /** Index of the first sample in the input, for its PRNG stream key. */
  readonly keyOffset?: number;
  /**
   * A conv/linear layer takes the event-driven path at a step when the fraction of its nonzero inputs is below this
   * (default 0.6); a layer with fewer than 64 inputs per output (an image's first conv) below a third of it, as
   * its lists are too short to pay for building them. Both paths give identical results; 0 forces dense, anything
   * above 3 forces event-driven (where allowed).
   */
  readonly eventThreshold?: number;
  /** Count synaptic operations (docs/semantics.md §10) at every step; costs one pass over each conv/linear input. */
  readonly countSops?: boolean;
  /**
   * 1 (default) or 2: with 2, a helper thread with its own core instance on a shared memory computes half the output
   * rows of every convolution (same bits as one thread). Needs shared WebAssembly memory; in Node the helper is a
   * worker thread, elsewhere give `spawnThread`. Call `close()` when done (the helper never keeps Node alive).
   */
  readonly threads?: number;
  /**
   * Time steps a linear layer fed directly by the input (after any flatten) computes at once: its input for the next
   * steps is known (the encoder's draws, or the given train), so the layer runs on those frames as one batch and
   * reads its weights once per block instead of once per step. At most this many, and never more than 32 steps or
   * than fit in 32 MiB of block buffers (the default); 1 = step by step. Results, spikes and observers are the same
   * for every value.
   */
  readonly blockSteps?: number;
  /** Starts the helper thread for `threads: 2` outside Node (it must run core-wasm's `serveRows`). */
  readonly spawnThread?: (init: HelperInit) => Promise<HelperThread>;
}

/** The Node spawner, imported only when used (its module needs node:worker_threads). */
async function nodeSpawner(): Promise<(init: HelperInit) => Promise<HelperThread>> {
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) throw new UsageError('threads: 2 needs Node (worker_threads) or a spawnThread option');
  const specifier = '@spikelens/core-wasm/node';
  const m = (await import(/* @vite-ignore */ specifier)) as { spawnNodeRows: (init: HelperInit) => Promise<HelperThread> };
  return m.spawnNodeRows;
}

/** Called after every step, once each layer's output for that step is in place. */
export interface StepObserver {
  onReset?(net: Network): void;
  onStep(net: Network, t: number): void;
}

interface Plan {
  readonly layer: Layer;
  /** Output buffer (f32, batch * outSize); for flatten the input's. */
  readonly out: number;
  readonly inPtr: number;
  exec(t: number): void;
  resetState(): void;
  /** Linear layers: the layer over F frames of B samples from x to y (lists in idx/cnt), and one step's SOP count. */
  readonly frames?: (x: number, y: number, F: number, idx: number, cnt: number) => boolean;
  readonly countStep?: () => void;
}

/** The steps the head linear layer computed ahead (see NetworkOptions.blockSteps). */
interface Block {
  /** Index of the linear layer in the plans; the plans before it are flattens. */
  readonly head: number;
  readonly steps: number;
  /** Frames [steps, B, input] of the input and [steps, B, out] of the layer; the layer's spike lists. */
  readonly input: number;
  readonly output: number;
  readonly idx: number;
  readonly cnt: number;
  /** Step of frame 0, the number of frames filled, and whether the layer took the event path on them. */
  start: number;
  filled: number;
  event: boolean;
}

/** The argmax of each row of `scores` `[B, K]`, lowest index on ties: the prediction of each sample. */
export function argmaxRows(scores: Float32Array, K: number): number[] {
  const preds: number[] = [];
  for (let b = 0; b * K < scores.length; b++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (scores[b * K + k] > scores[b * K + best]) best = k;
    preds.push(best);
  }
  return preds;
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

/** Buffers the block of a head linear layer may take (its input and output frames and spike lists). */
const BLOCK_BYTES = 32 * 2 ** 20;
const BLOCK_MAX = 32;

/** Whether a conv/linear layer is a linear one for the kernels: 1x1 kernel on a 1x1 input, no padding, groups 1. */
function isFlat(g: ReturnType<typeof convGeometry>): boolean {
  return g.H === 1 && g.W === 1 && g.kH === 1 && g.kW === 1 && g.pH === 0 && g.pW === 0 && g.groups === 1;
}

const NCS_MODE = { inclusive: 0, strict: 1, official: 2 } as const;
export type NcsMode = keyof typeof NCS_MODE;
const RESET = { subtract: 0, zero: 1, none: 2 } as const;


/**
 * A spiking network on one core instance: owns the instance, its arena and every piece of per-layer state
 * (membranes, previous spikes, SAM traces). Recording and SAM are observers of a step.
 */
export class Network {
  readonly model: Model;
  readonly batch: number;
  readonly core: Core;
  readonly arena: Arena;
  readonly seed: number;
  private keyOffset: number;
  /** One PRNG key per sample, when given to setInput instead of a first key. */
  private keys: number[] | null = null;
  private readonly eventThreshold: number;
  readonly countSops: boolean;

  /** Steps taken since the last reset. */
  t = 0;
  private readonly plans: Plan[] = [];
  private readonly byName = new Map<string, Plan>();
  private readonly observers: StepObserver[] = [];

  private readonly inputSize: number;
  /** The first layer's input for the current step (f32, batch * inputSize). */
  readonly inputPtr: number;
  private readonly pre: number; // preprocessed analog input
  private readonly rng: number; // encoder state, 4 u32 per sample
  private input: NetworkInput | null = null;
  /** Spikes per spiking layer, summed over steps and batch. */
  readonly spikeCounts = new Map<string, number>();
  /** Synaptic operations since reset, summed over the batch (when countSops). */
  sops = 0;
  /** How often each conv/linear layer took the event-driven path since reset. */
  readonly eventSteps = new Map<string, number>();
  private readonly readoutAcc: Float32Array;

  /** The helper thread of `threads: 2`, or null. */
  private helper: RowsHelper | null = null;
  private readonly threadBlocks: { ctl: number; scratch: number } | null;
  private readonly block: Block | null;
  /** The step run() stops at while it runs (how far ahead a block may compute), else null. */
  private runEnd: number | null = null;

  static async create(model: Model, options: NetworkOptions = {}): Promise<Network> {
    const threads = options.threads ?? 1;
    if (threads !== 1 && threads !== 2) throw new UsageError(`threads must be 1 or 2, not ${threads}`);
    if (threads === 1) return Network.build(model, await createCore(options.core), options);
    if (options.core !== undefined) throw new UsageError('threads: 2 runs the embedded threads build: do not give a core');
    const spawn = options.spawnThread ?? (await nodeSpawner());
    const core = await createThreadsCore();
    const net = Network.build(model, core, options);
    const { ctl, scratch } = net.threadBlocks!;
    net.helper = await RowsHelper.start(core, ctl, scratch, spawn);
    return net;
  }

  /** The constructor, with a full arena said as a problem of the model at this batch, naming its file. */
  private static build(model: Model, core: Core, options: NetworkOptions): Network {
    try {
      return new Network(model, core, options);
    } catch (err) {
      if (err instanceof ArenaFullError || (err instanceof RangeError && /reserve\(/.test(err.message)))
        throw new InputError(model.file, `at a batch of ${options.batch ?? 1}, the network ${err instanceof ArenaFullError ? err.message : 'does not fit in memory'}`);
      throw err;
    }
  }

  /** Ends the helper thread of `threads: 2` (a no-op otherwise); the network must not step afterwards. */
  close(): void {
    this.helper?.close();
    this.helper = null;
  }

  private constructor(model: Model, core: Core, options: NetworkOptions) {
    const batch = options.batch ?? 1;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, not ${batch}`);
    this.model = model;
    this.batch = batch;
    this.core = core;
    this.arena = new Arena(core);
    this.seed = (options.seed ?? 0) >>> 0;
    this.keyOffset = options.keyOffset ?? 0;
    this.eventThreshold = options.eventThreshold ?? DEFAULT_EVENT_THRESHOLD;
    this.countSops = options.countSops ?? false;

    const shared = 'module' in core;
    if (shared) {
      // The threads build keeps no static scratch: one block for this instance, one for the helper's.
      const bytes = core.exports.scratch_bytes();
      core.exports.set_scratch(this.arena.alloc(bytes));
      this.threadBlocks = { ctl: this.arena.alloc(CTL_BYTES), scratch: this.arena.alloc(bytes) };
    } else this.threadBlocks = null;

    this.inputSize = sizeOf(model.input.shape);
    this.inputPtr = this.arena.allocF32(batch * this.inputSize);
    this.pre = this.arena.allocF32(batch * this.inputSize);
    this.rng = this.arena.alloc(batch * 16);

    // A linear layer fed by the input (through flattens only) may compute several steps at once.
    const asked = options.blockSteps;
    if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 1)) throw new UsageError(`blockSteps must be a positive integer, not ${asked}`);
    const head = model.layers.findIndex((l) => l.op !== 'flatten');
    const headLayer = model.layers[head];
    let steps = 1;
    if (headLayer && (headLayer.op === 'linear' || headLayer.op === 'conv2d') && isFlat(convGeometry(headLayer))) {
      const frameBytes = batch * (8 * this.inputSize + 4 * sizeOf(headLayer.outShape) + 4);
      const most = Math.max(1, Math.min(BLOCK_MAX, Math.floor(BLOCK_BYTES / frameBytes)));
      steps = Math.min(asked ?? most, most);
    }
    this.block =
      steps > 1
        ? {
            head,
            steps,
            input: this.arena.allocF32(steps * batch * this.inputSize),
            output: this.arena.allocF32(steps * batch * sizeOf(headLayer.outShape)),
            idx: this.arena.alloc(steps * batch * this.inputSize * 4),
            cnt: this.arena.alloc(steps * batch * 4),
            start: 0,
            filled: 0,
            event: false,
          }
        : null;

    let inPtr = this.inputPtr;
    for (const layer of model.layers) {
      const plan = this.plan(layer, inPtr);
      this.plans.push(plan);
      this.byName.set(layer.name, plan);
      if (isSpiking(layer)) this.spikeCounts.set(layer.name, 0);
      inPtr = plan.out;
    }
    const last = model.layers[model.layers.length - 1];
    this.readoutAcc = new Float32Array(batch * sizeOf(last.outShape));
    this.reset();
  }

  /** Number of classes of the readout. */
  get classes(): number {
    return sizeOf(this.model.layers[this.model.layers.length - 1].outShape);
  }

  layer(name: string): Layer {
    const plan = this.byName.get(name);
    if (!plan) throw new UsageError(`the model has no layer "${name}"`);
    return plan.layer;
  }

  /** The layer's output at the current step (f32 view, valid until the next step or memory growth). */
  output(name: string): Float32Array {
    if (name === 'input') return this.arena.f32(this.inputPtr, this.batch * this.inputSize);
    const plan = this.byName.get(name);
    if (!plan) throw new UsageError(`the model has no layer "${name}"`);
    return this.arena.f32(plan.out, this.batch * sizeOf(plan.layer.outShape));
  }

  /** Pointer of a layer's output buffer, for observers that call kernels on it. */
  outputPtr(name: string): number {
    if (name === 'input') return this.inputPtr;
    const plan = this.byName.get(name);
    if (!plan) throw new UsageError(`the model has no layer "${name}"`);
    return plan.out;
  }

  /** Whether the network's input is spikes (given as a train, or encoded by poisson / signed-poisson). */
  get inputIsSpikes(): boolean {
    if (this.input?.kind === 'train') return true;
    return this.model.input.encoding.kind !== 'direct';
  }

  /** Whether the input is a float32 train (frames of event counts or currents), recorded as float32. */
  get inputIsFloatTrain(): boolean {
    return this.input?.kind === 'train' && this.input.data instanceof Float32Array;
  }

  /** Whether the input spikes are signed (-1/0/1): signed-poisson, or an int8 train. */
  get inputIsSigned(): boolean {
    if (this.input?.kind === 'train') return this.input.data instanceof Int8Array;
    return this.model.input.encoding.kind === 'signed-poisson';
  }

  /** Adds an observer; it starts from a reset state. */
  observe(observer: StepObserver): void {
    this.observers.push(observer);
    observer.onReset?.(this);
  }

  unobserve(observer: StepObserver): void {
    const i = this.observers.indexOf(observer);
    if (i >= 0) this.observers.splice(i, 1);
  }

  /**
   * Sets the input for the next run and resets all state. `keyOffset` (default: as created) is the index of the
   * first sample in a larger input, so each sample keeps its own PRNG stream when a data set is run batch by batch;
   * or one key per sample (copies of one image perturbed for a metric keep that image's stream).
   */
  setInput(input: NetworkInput, keyOffset: number | ArrayLike<number> = this.keyOffset): void {
    if (typeof keyOffset === 'number') {
      this.keyOffset = keyOffset;
      this.keys = null;
    } else {
      if (keyOffset.length !== this.batch) throw new RangeError(`${keyOffset.length} keys for a batch of ${this.batch}`);
      this.keys = Array.from(keyOffset, (k) => k >>> 0);
    }
    const expected = this.batch * this.inputSize;
    if (input.kind === 'pixels') {
      if (input.data.length !== expected)
        throw new RangeError(`pixel input has ${input.data.length} values, the network takes ${expected}`);
      const { preprocess: pp } = this.model.input;
      const C = this.model.input.shape.length === 3 ? this.model.input.shape[0] : this.inputSize;
      preprocess(input.data, this.arena.f32(this.pre, expected), this.batch, C, this.inputSize / C, pp);
    } else {
      if (input.data.length !== input.timesteps * expected)
        throw new RangeError(`spike train has ${input.data.length} values, expected ${input.timesteps} x ${expected}`);
    }
    this.input = input;
    this.reset();
  }

  /** Length of the run: the spike train's, or the model's `timesteps`. */
  get timesteps(): number | null {
    if (this.input?.kind === 'train') return this.input.timesteps;
    return this.model.timesteps;
  }

  reset(): void {
    this.t = 0;
    if (this.block) this.block.start = this.block.filled = 0;
    this.sops = 0;
    for (const plan of this.plans) plan.resetState();
    for (const key of this.spikeCounts.keys()) this.spikeCounts.set(key, 0);
    for (const key of this.eventSteps.keys()) this.eventSteps.set(key, 0);
    this.readoutAcc.fill(0);
    if (this.keys) for (let b = 0; b < this.batch; b++) this.core.exports.rng_seed(this.rng + b * 16, 1, this.seed, this.keys[b]);
    else this.core.exports.rng_seed(this.rng, this.batch, this.seed, this.keyOffset);
    for (const o of this.observers) o.onReset?.(this);
  }

  /** Advances one time step. */
  step(): void {
    const input = this.input;
    if (!input) throw new Error('Network.step: no input set');
    const t = this.t;
    const n = this.batch * this.inputSize;
    const ex = this.core.exports;
    if (input.kind === 'train' && t >= input.timesteps) throw new RangeError(`the spike train has only ${input.timesteps} steps`);
    const block = this.block;
    let first = 0;
    if (block) {
      if (t - block.start >= block.filled) this.fillBlock(input, t, block);
      // This step's frame of the input and of the head layer, where the plans (and observers) read them.
      const f = t - block.start;
      const arena = this.arena;
      const head = this.plans[block.head];
      const out = this.batch * sizeOf(head.layer.outShape);
      arena.f32(this.inputPtr, n).set(arena.f32(block.input + f * n * 4, n));
      head.countStep!();
      if (block.event) this.eventSteps.set(head.layer.name, this.eventSteps.get(head.layer.name)! + 1);
      arena.f32(head.out, out).set(arena.f32(block.output + f * out * 4, out));
      first = block.head + 1;
    } else this.encodeStep(input, t, this.inputPtr);
    for (let i = first; i < this.plans.length; i++) {
      const plan = this.plans[i];
      plan.exec(t);
      if (isSpiking(plan.layer)) {
        const count = ex.count_nonzero(plan.out, this.batch * sizeOf(plan.layer.outShape));
        this.spikeCounts.set(plan.layer.name, this.spikeCounts.get(plan.layer.name)! + count);
      }
    }
    this.accumulateReadout();
    this.t = t + 1;
    for (const o of this.observers) o.onStep(this, t);
  }

  /** The input of step t (from the train, or one encoder step) into the frame at `dst`. */
  private encodeStep(input: NetworkInput, t: number, dst: number): void {
    const n = this.batch * this.inputSize;
    if (input.kind === 'train') {
      this.arena.f32(dst, n).set(input.data.subarray(t * n, (t + 1) * n));
      return;
    }
    const enc = this.model.input.encoding;
    if (enc.kind === 'direct') {
      // The constant input: written once when stepping one by one (the buffer keeps it), into every block frame.
      if (t === 0 || dst !== this.inputPtr) this.arena.f32(dst, n).set(this.arena.f32(this.pre, n));
    } else {
      this.core.exports.encode(this.pre, dst, this.rng, this.batch, this.inputSize, enc.gain, enc.kind === 'poisson' ? 0 : 1);
    }
  }

  /**
   * Steps t, t+1, ... of the input and the head linear layer, as many as the block holds and the run needs (the end
   * of the train, of run(), else of the model's timesteps; at least one). The encoder draws in step order either way.
   */
  private fillBlock(input: NetworkInput, t: number, block: Block): void {
    const end = input.kind === 'train' ? input.timesteps : this.runEnd ?? this.model.timesteps ?? t + block.steps;
    const F = Math.max(1, Math.min(block.steps, end - t));
    const frame = this.batch * this.inputSize * 4;
    for (let f = 0; f < F; f++) this.encodeStep(input, t + f, block.input + f * frame);
    block.event = this.plans[block.head].frames!(block.input, block.output, F, block.idx, block.cnt);
    block.start = t;
    block.filled = F;
  }

  /** Runs `steps` steps from the current state (the whole run after setInput by default). */
  run(steps?: number): void {
    const T = steps ?? this.timesteps;
    if (T === null) throw new UsageError('the model sets no timesteps: give --timesteps');
    this.runEnd = this.t + T;
    try {
      for (let i = 0; i < T; i++) this.step();
    } finally {
      this.runEnd = null;
    }
  }

  /** Class scores [B, K] after the steps taken so far (the readout, docs/semantics.md §5). */
  scores(): Float32Array {
    const K = this.classes;
    const out = new Float32Array(this.batch * K);
    const T = this.t;
    const last = this.plans[this.plans.length - 1];
    switch (this.model.readout) {
      case 'count':
        out.set(this.readoutAcc);
        break;
      case 'final': {
        const v = this.arena.f32(last.out, out.length);
        for (let i = 0; i < out.length; i++) out[i] = Math.fround(v[i] / T);
        break;
      }
      case 'mean':
        for (let i = 0; i < out.length; i++) out[i] = Math.fround(this.readoutAcc[i] / T);
        break;
    }
    return out;
  }

  /** Argmax of each sample's scores, lowest index on ties. */
  predictions(scores: Float32Array = this.scores()): number[] {
    return argmaxRows(scores, this.classes);
  }

  /** Spikes per neuron per step of each spiking layer since reset, over the whole batch. */
  firingRates(): Record<string, number> {
    const rates: Record<string, number> = {};
    for (const plan of this.plans) {
      if (!isSpiking(plan.layer)) continue;
      const neurons = this.batch * sizeOf(plan.layer.outShape);
      rates[plan.layer.name] = this.t === 0 ? 0 : this.spikeCounts.get(plan.layer.name)! / (neurons * this.t);
    }
    return rates;
  }

  private accumulateReadout(): void {
    if (this.model.readout === 'final') return;
    const acc = this.readoutAcc;
    const last = this.plans[this.plans.length - 1];
    const v = this.arena.f32(last.out, acc.length);
    for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i] + v[i]);
  }

  private param(p: NeuronParam, C: number): { ptr: number; perNeuron: number } {
    if (p.per === 'neuron') return { ptr: this.arena.putF32(p.data), perNeuron: 1 };
    if (p.per === 'channel') return { ptr: this.arena.putF32(p.data), perNeuron: 0 };
    return { ptr: this.arena.putF32(new Float32Array(C).fill(p.data[0])), perNeuron: 0 };
  }

  private plan(layer: Layer, inPtr: number): Plan {
    const B = this.batch;
    const arena = this.arena;
    const ex = this.core.exports;
    const outSize = sizeOf(layer.outShape);
    const noState = (): void => {};
    switch (layer.op) {
      case 'flatten':
        return { layer, inPtr, out: inPtr, exec: noState, resetState: noState };
      case 'conv2d':
      case 'linear': {
        const geometry = convGeometry(layer);
        const { C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups } = geometry;
        const HW = H * W;
        const cinG = C / groups;
        const packedLen = ex.conv2d_packed_len(Cout, cinG, kH, kW, groups);
        // on a cache line: each row of a 16-channel panel is one line (core-wasm conv.ts)
        const wp = arena.alloc(packedLen * 4, 64);
        const bias = layer.bias ? arena.putF32(layer.bias.data) : 0;
        const out = arena.allocF32(B * outSize);
        const mark = arena.mark();
        const src = arena.putF32(layer.weight.data);
        ex.conv2d_pack(src, wp, Cout, cinG, kH, kW, groups);
        arena.release(mark);
        const eventAllowed = groups === 1 && this.eventThreshold > 0;
        const threshold = layerEventThreshold(this.eventThreshold, cinG, kH, kW);
        const fanout = this.countSops ? convFanout(H, W, Ho, Wo, kH, kW, [sH, sW], [pH, pW], [dH, dW], Cout / groups) : null;
        const inN = B * C * HW;
        const name = layer.name;
        if (eventAllowed) this.eventSteps.set(name, 0);
        const countStep = (): void => {
          if (fanout) this.sops += countSops(arena.f32(inPtr, inN), B, C, HW, fanout);
        };
        if (isFlat(geometry)) {
          // Linear: over F frames of B samples at once (F > 1 for the head's block), split by output vectors (event)
          // or by samples (dense) with a helper thread. The step's lists live in the block's buffers for a block.
          const idx = eventAllowed ? arena.alloc(B * C * 4) : 0;
          const cnt = eventAllowed ? arena.alloc(B * 4) : 0;
          const nvec = (Cout + 3) >> 2;
          // the helper's vectors: half, in whole 4-vector tiles
          const vmid = (nvec >> 3) << 2;
          const frames = (x: number, y: number, F: number, fidx: number, fcnt: number): boolean => {
            const S = F * B;
            const n = S * C;
            const helper = this.helper;
            if (eventAllowed && ex.count_nonzero(x, n) < threshold * n) {
              ex.spike_index(x, S, C, 1, fidx, fcnt);
              if (helper && vmid) {
                helper.post(LINEAR_COLS, [x, fidx, fcnt, wp, bias, y, S, C, Cout, 0, vmid]);
                ex.linear_event(x, fidx, fcnt, wp, bias, y, S, C, Cout, vmid, nvec);
                helper.wait();
              } else ex.linear_event(x, fidx, fcnt, wp, bias, y, S, C, Cout, 0, nvec);
              return true;
            }
            const h = helper ? S >> 1 : 0;
            if (h) helper!.post(DENSE_ROWS, [x, wp, bias, y, h, C, 1, 1, Cout, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1]);
            ex.conv2d_dense(x + h * C * 4, wp, bias, y + h * Cout * 4, S - h, C, 1, 1, Cout, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1);
            if (h) helper!.wait();
            return false;
          };
          const exec = (): void => {
            countStep();
            if (frames(inPtr, out, 1, idx, cnt)) this.eventSteps.set(name, this.eventSteps.get(name)! + 1);
          };
          return { layer, inPtr, out, exec, resetState: noState, frames, countStep };
        }
        const idx = eventAllowed ? arena.alloc(B * HW * C * 4) : 0;
        const cnt = eventAllowed ? arena.alloc(B * HW * 4) : 0;
        // With a helper thread, it takes output rows [0, mid) and this thread [mid, Ho) (a 1-row output stays here).
        const mid = this.threadBlocks && Ho >= 2 ? Ho >> 1 : 0;
        const evArgs = [inPtr, idx, cnt, wp, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, 0, mid];
        const dnArgs = [inPtr, wp, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, 0, mid];
        const exec = (): void => {
          countStep();
          const helper = mid ? this.helper : null;
          if (eventAllowed) {
            const active = ex.count_nonzero(inPtr, inN);
            if (active < threshold * inN) {
              ex.spike_index(inPtr, B, C, HW, idx, cnt);
              if (helper) {
                helper.post(EVENT_ROWS, evArgs);
                ex.conv2d_event_rows(inPtr, idx, cnt, wp, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, mid, Ho);
                helper.wait();
              } else ex.conv2d_event(inPtr, idx, cnt, wp, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW);
              this.eventSteps.set(name, this.eventSteps.get(name)! + 1);
              return;
            }
          }
          if (helper) {
            helper.post(DENSE_ROWS, dnArgs);
            ex.conv2d_dense_rows(inPtr, wp, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, mid, Ho);
            helper.wait();
          } else ex.conv2d_dense(inPtr, wp, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups);
        };
        return { layer, inPtr, out, exec, resetState: noState };
      }
      case 'avgpool2d':
      case 'sumpool2d':
      case 'maxpool2d': {
        const { kind, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW } = poolGeometry(layer);
        const out = arena.allocF32(B * outSize);
        const exec = (): void => ex.pool2d(kind, inPtr, out, B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
        return { layer, inPtr, out, exec, resetState: noState };
      }
      case 'affine': {
        const { C, HW } = dims(layer.inShape);
        const out = arena.allocF32(B * outSize);
        const perStep = layer.scale.shape.length === 2;
        const rows = perStep ? layer.scale.shape[0] : 1;
        const scale = arena.putF32(layer.scale.data);
        const shift = arena.putF32(layer.shift.data);
        const exec = (t: number): void => {
          if (perStep && t >= rows)
            throw new InputError(
              this.model.file,
              `layer "${layer.name}" field "scale": ${rows} per-step rows, but the run has more than ${rows} steps`,
            );
          const row = perStep ? t * C * 4 : 0;
          ex.affine(inPtr, out, scale + row, shift + row, B, C, HW);
        };
        return { layer, inPtr, out, exec, resetState: noState };
      }
      case 'relu': {
        const out = arena.allocF32(B * outSize);
        return { layer, inPtr, out, exec: () => ex.relu(inPtr, out, B * outSize), resetState: noState };
      }
      case 'lif':
      case 'if':
      case 'cubalif': {
        const { C, HW } = dims(layer.outShape);
        const out = arena.allocF32(B * outSize);
        const v = arena.allocF32(B * outSize);
        const beta = this.param(layer.beta, C);
        const thr = this.param(layer.threshold, C);
        // what v must exceed to spike: the threshold, or the float32 below it with fireAtThreshold (docs/semantics.md §3)
        const cmpParam = spikeComparison(layer);
        const cmp = layer.fireAtThreshold ? this.param(cmpParam, C) : thr;
        const vr = this.param(layer.vReset, C);
        // the kernel reads one flag for all of them: expand any per-channel parameter when another is per neuron
        const alpha = layer.alpha ? this.param(layer.alpha, C) : null;
        const perNeuron = beta.perNeuron | thr.perNeuron | vr.perNeuron | (alpha?.perNeuron ?? 0);
        const expand = (q: { ptr: number; perNeuron: number }, p: NeuronParam): number =>
          perNeuron && !q.perNeuron ? this.arena.putF32(expandParam(p, C, HW, true)) : q.ptr;
        const betaPtr = expand(beta, layer.beta);
        const thrPtr = expand(thr, layer.threshold);
        const cmpPtr = layer.fireAtThreshold ? expand(cmp, cmpParam) : thrPtr;
        const vrPtr = expand(vr, layer.vReset);
        const reset = RESET[layer.reset];
        const delay = layer.resetDelay ? 1 : 0;
        const vInit = expandParam(layer.vReset, C, HW, true);
        const alphaPtr = alpha ? expand(alpha, layer.alpha!) : 0;
        const syn = alpha ? arena.allocF32(B * outSize) : 0;
        const exec = alpha
          ? (): void => ex.cubalif(inPtr, syn, out, v, alphaPtr, betaPtr, thrPtr, cmpPtr, vrPtr, B, C, HW, perNeuron, reset, delay)
          : (): void => ex.lif(inPtr, out, v, betaPtr, thrPtr, cmpPtr, vrPtr, B, C, HW, perNeuron, reset, delay);
        const resetState = (): void => {
          if (syn) arena.f32(syn, B * outSize).fill(0);
          arena.f32(out, B * outSize).fill(0);
          const vv = arena.f32(v, B * outSize);
          for (let b = 0; b < B; b++) vv.set(vInit, b * outSize);
        };
        return Object.assign({ layer, inPtr, out, exec, resetState }, { membrane: v });
      }
      case 'li': {
        const { C, HW } = dims(layer.outShape);
        const out = arena.allocF32(B * outSize);
        const beta = this.param(layer.beta, C);
        const exec = (): void => ex.li(inPtr, out, beta.ptr, B, C, HW, beta.perNeuron);
        return { layer, inPtr, out, exec, resetState: () => arena.f32(out, B * outSize).fill(0) };
      }
    }
  }

  /** Pointer to a layer's membrane: `lif`/`if` keep it apart from their spikes; `li`'s output is its membrane. */
  membranePtr(name: string): number {
    const plan = this.byName.get(name);
    if (!plan) throw new UsageError(`the model has no layer "${name}"`);
    if (plan.layer.op === 'li') return plan.out;
    const m = (plan as Plan & { membrane?: number }).membrane;
    if (m === undefined) throw new UsageError(`layer "${name}" (${plan.layer.op}) has no membrane`);
    return m;
  }
}


function countSops(x: Float32Array, B: number, C: number, HW: number, fanout: Float64Array): number {
  let total = 0;
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * HW;
      for (let q = 0; q < HW; q++) if (x[base + q] !== 0) total += fanout[q];
    }
  return total;
}

export { NCS_MODE };
