import {
  RowsHelper, createCore, threadsSupported, createThreadsCore, type Core, type CoreSource, type HelperInit,
  type HelperThread,
} from '@spikelens/core-wasm';
import { Arena, ArenaFullError } from './arena.js';
import { InputError, UsageError } from './errors.js';
import type { Layer, Model } from './model.js';
import { isSpiking, sizeOf } from './model.js';
import { preprocess } from './preprocess.js';
import { LIMITS, formatBytes } from './limits.js';
import {
  DEFAULT_EVENT_THRESHOLD, PLAN_ERROR, compilePlan, layerEventThreshold, layoutThreads, planBytes, planFrames, type LayerSlot,
  type Plan,
} from './plan.js';

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
   * 1 (default) or 2: with 2, a helper thread with its own core instance on a shared memory takes tiles of every
   * layer (samples, steps, channel groups, output rows) from a shared counter beside this thread; each neuron is
   * computed by one thread with the same code, so the bits are those of one thread. Needs shared WebAssembly memory;
   * in Node the helper is a worker thread, elsewhere give `spawnThread`. Call `close()` when done (the helper never
   * keeps Node alive).
   */
  readonly threads?: number;
  /**
   * The most time steps run() computes in one call of the core (a block): each layer computes all steps of the block
   * before the next one starts, so weights are read once per block and the two threads meet once per layer and
   * block. Every layer's output keeps that many frames; by default as many as fit in 48 MiB, at most 32. 1 = step by
   * step. Results, spikes and what observers see are the same for every value (docs/plan.md).
   */
  readonly blockSteps?: number;
  /**
   * With `threads: 2`, the least work a layer must have over a block for the helper to take part (about the
   * elements it touches; a conv's multiply-accumulates / 16). A hand-off costs microseconds, so tiny layers run on
   * the calling thread alone. Default 65536; 0 shares every layer.
   */
  readonly sharedWork?: number;
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
  /**
   * Whether the observer reads neuron state (membranePtr) at each step. Layer outputs of every step of a block are
   * kept in windows and handed over after the block; membranes are not, so a network with such an observer runs one
   * step at a time.
   */
  readonly readsState?: boolean;
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

export { DEFAULT_EVENT_THRESHOLD, layerEventThreshold };

/** See NetworkOptions.sharedWork. */
const DEFAULT_SHARED_WORK = 65536;

const NCS_MODE = { inclusive: 0, strict: 1, official: 2 } as const;
export type NcsMode = keyof typeof NCS_MODE;

/**
 * A spiking network on one core instance: owns the instance, its arena and every piece of per-layer state
 * (membranes, previous spikes, SAM traces). The model is compiled into a plan (docs/plan.md) that the core runs a
 * block of steps at a time, layer by layer; recording and SAM are observers of each step, handed every step of a
 * block after it.
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
  readonly countSops: boolean;
  /** Steps a block may hold (every layer's output window holds this many frames). */
  readonly blockSteps: number;

  /** Steps taken since the last reset. */
  t = 0;
  /** The window frame of step t - 1 (what output() shows). */
  private frame = 0;
  private readonly plan: Plan;
  private readonly byName = new Map<string, LayerSlot>();
  private readonly observers: StepObserver[] = [];

  private readonly inputSize: number;
  private input: NetworkInput | null = null;
  /** Spikes per spiking layer, summed over steps and batch. */
  readonly spikeCounts = new Map<string, number>();
  /** Synaptic operations since reset, summed over the batch (when countSops). */
  sops = 0;
  private readonly sopsByLayer = new Map<string, number>();
  /** How many steps each conv/linear layer computed by the event-driven path since reset. */
  readonly eventSteps = new Map<string, number>();
  private readonly readoutAcc: Float32Array;
  /** The first step a per-step affine has no row for (Infinity: none). */
  private readonly affineSteps: number;

  /** The helper thread of `threads: 2`, or null. */
  private helper: RowsHelper | null = null;
  private readonly threadBlocks: { ctl: number; scratch: number } | null;

  static async create(model: Model, options: NetworkOptions = {}): Promise<Network> {
    const threads = options.threads ?? 1;
    if (threads !== 1 && threads !== 2) throw new UsageError(`threads must be 1 or 2, not ${threads}`);
    if (threads === 1) return Network.build(model, await createCore(options.core), options, 1);
    if (options.core !== undefined) throw new UsageError('threads: 2 runs the embedded threads build: do not give a core');
    if (!threadsSupported()) throw new UsageError('threads: 2 needs shared WebAssembly memory, which this runtime does not offer (in a browser: a cross-origin isolated page)');
    const spawn = options.spawnThread ?? (await nodeSpawner());
    const core = await createThreadsCore();
    const net = Network.build(model, core, options, 2);
    const { ctl, scratch } = net.threadBlocks!;
    const sharedWork = options.sharedWork ?? DEFAULT_SHARED_WORK;
    if (!Number.isSafeInteger(sharedWork) || sharedWork < 0 || sharedWork > 2 ** 31 - 1)
      throw new UsageError(`sharedWork must be an integer from 0 to 2^31 - 1, not ${sharedWork}`);
    net.helper = await RowsHelper.start(core, ctl, scratch, spawn);
    core.exports.plan_set_helper(ctl, sharedWork);
    return net;
  }

  /** The constructor, with a full arena said as a problem of the model at this batch, naming its file. */
  private static build(model: Model, core: Core, options: NetworkOptions, threads: 1 | 2): Network {
    try {
      return new Network(model, core, options, threads);
    } catch (err) {
      if (err instanceof ArenaFullError || (err instanceof RangeError && /reserve\(/.test(err.message)))
        throw new InputError(model.file, `at a batch of ${options.batch ?? 1}, the network ${err instanceof ArenaFullError ? err.message : 'does not fit in memory'}`);
      throw err;
    }
  }

  /** Ends the helper thread of `threads: 2` (a no-op otherwise); the network must not step afterwards. */
  close(): void {
    if (this.helper) this.core.exports.plan_set_helper(0, 0);
    this.helper?.close();
    this.helper = null;
  }

  private constructor(model: Model, core: Core, options: NetworkOptions, threads: 1 | 2) {
    const batch = options.batch ?? 1;
    if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, not ${batch}`);
    this.model = model;
    this.batch = batch;
    this.core = core;
    this.arena = new Arena(core);
    this.seed = (options.seed ?? 0) >>> 0;
    this.keyOffset = options.keyOffset ?? 0;
    const eventThreshold = options.eventThreshold ?? DEFAULT_EVENT_THRESHOLD;
    this.countSops = options.countSops ?? false;

    const shared = 'module' in core;
    if (shared) {
      // The threads build keeps no static scratch: one block for this instance, one for the helper's.
      const { own, ctl, scratch } = layoutThreads(this.arena, core.exports.scratch_bytes());
      core.exports.set_scratch(own);
      this.threadBlocks = { ctl, scratch };
    } else this.threadBlocks = null;

    const asked = options.blockSteps;
    if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 1)) throw new UsageError(`blockSteps must be a positive integer, not ${asked}`);
    this.blockSteps = planFrames(model, batch, asked);
    this.inputSize = sizeOf(model.input.shape);
    // refused before anything is laid out, so an enormous batch never grows the memory first
    const need = planBytes(model, batch, this.blockSteps);
    if (need > LIMITS.arenaBytes)
      throw new InputError(model.file, `at a batch of ${batch}, the network needs about ${formatBytes(need)}, more than the ${formatBytes(LIMITS.arenaBytes)} of memory a network may take`);
    this.arena.reserveAhead(this.arena.size + need);
    this.plan = compilePlan(model, core, this.arena, {
      batch, frames: this.blockSteps, eventThreshold, countSops: this.countSops, threads,
    });
    for (const slot of this.plan.slots) {
      this.byName.set(slot.layer.name, slot);
      if (isSpiking(slot.layer)) this.spikeCounts.set(slot.layer.name, 0);
      if (slot.flags) this.eventSteps.set(slot.layer.name, 0);
    }
    let affineSteps = Infinity;
    for (const l of model.layers) if (l.op === 'affine' && l.scale.shape.length === 2) affineSteps = Math.min(affineSteps, l.scale.shape[0]);
    this.affineSteps = affineSteps;
    const last = model.layers[model.layers.length - 1];
    this.readoutAcc = new Float32Array(batch * sizeOf(last.outShape));
    this.reset();
  }

  /** Number of classes of the readout. */
  get classes(): number {
    return sizeOf(this.model.layers[this.model.layers.length - 1].outShape);
  }

  private slot(name: string): LayerSlot {
    const slot = this.byName.get(name);
    if (!slot) throw new UsageError(`the model has no layer "${name}"`);
    return slot;
  }

  layer(name: string): Layer {
    return this.slot(name).layer;
  }

  /** The layer's output at the current step (f32 view, valid until the next step or memory growth). */
  output(name: string): Float32Array {
    if (name === 'input') return this.arena.f32(this.outputPtr(name), this.batch * this.inputSize);
    return this.arena.f32(this.outputPtr(name), this.batch * sizeOf(this.slot(name).layer.outShape));
  }

  /** Pointer of a layer's output at the current step, for observers that call kernels on it. */
  outputPtr(name: string): number {
    if (name === 'input') return this.plan.input + this.frame * this.batch * this.inputSize * 4;
    const slot = this.slot(name);
    return slot.out + this.frame * slot.frameBytes;
  }

  /** The first layer's input at the current step. */
  get inputPtr(): number {
    return this.outputPtr('input');
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
      preprocess(input.data, this.arena.f32(this.plan.pre, expected), this.batch, C, this.inputSize / C, pp);
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
    this.frame = 0;
    this.sops = 0;
    this.sopsByLayer.clear();
    for (const slot of this.plan.slots) slot.reset();
    for (const key of this.spikeCounts.keys()) this.spikeCounts.set(key, 0);
    for (const key of this.eventSteps.keys()) this.eventSteps.set(key, 0);
    this.readoutAcc.fill(0);
    if (this.plan.acc) this.arena.f32(this.plan.acc, this.readoutAcc.length).fill(0);
    if (this.keys) for (let b = 0; b < this.batch; b++) this.core.exports.rng_seed(this.plan.rng + b * 16, 1, this.seed, this.keys[b]);
    else this.core.exports.rng_seed(this.plan.rng, this.batch, this.seed, this.keyOffset);
    for (const o of this.observers) o.onReset?.(this);
  }

  /** Advances one time step. */
  step(): void {
    this.block(1);
  }

  /** Runs `steps` steps from the current state (the whole run after setInput by default), a block at a time. */
  run(steps?: number): void {
    const T = steps ?? this.timesteps;
    if (T === null) throw new UsageError('the model sets no timesteps: give --timesteps');
    const most = this.observers.some((o) => o.readsState) ? 1 : this.blockSteps;
    const end = this.t + T;
    while (this.t < end) this.block(Math.min(most, end - this.t));
  }

  /**
   * Steps t .. t + F - 1 in one call of the core, then each step handed to the counters and observers. With `times`,
   * the plan's records run one call each and each one's milliseconds are added to its layer's entry.
   */
  private block(F: number, times?: Map<string, number>): void {
    const input = this.input;
    if (!input) throw new Error('Network.step: no input set');
    const t0 = this.t;
    const n = this.batch * this.inputSize;
    if (input.kind === 'train') {
      if (t0 + F > input.timesteps) {
        if (t0 >= input.timesteps) throw new RangeError(`the spike train has only ${input.timesteps} steps`);
        F = input.timesteps - t0;
      }
      this.arena.f32(this.plan.input, F * n).set(input.data.subarray(t0 * n, (t0 + F) * n));
    }
    // a block ends before a per-step affine runs out of rows, so the steps it has rows for complete first
    if (t0 < this.affineSteps) F = Math.min(F, this.affineSteps - t0);
    const ex = this.core.exports;
    const train = input.kind === 'train';
    const first = train ? this.plan.layersRecord : 0;
    if (times) {
      const words = this.arena.i32(this.plan.program, this.plan.programWords);
      let r = train ? this.plan.layersProgram : this.plan.program;
      for (let k = first; words[(r - this.plan.program) >> 2] !== 0; k++) {
        const started = performance.now();
        const err = ex.plan_record(r, t0, F);
        const name = this.plan.recordLayer[k];
        times.set(name, (times.get(name) ?? 0) + performance.now() - started);
        if (err !== 0) this.planError(err, k);
        r += words[((r - this.plan.program) >> 2) + 1] * 4;
      }
    } else {
      const err = ex.plan_run(train ? this.plan.layersProgram : this.plan.program, t0, F);
      if (err !== 0) this.planError(err, ex.plan_error_at() + first);
    }
    this.handOver(t0, F);
  }

  /**
   * Runs `steps` steps as run() does, timing every record of the plan alone (a profile: the records run one call
   * each, which costs a few microseconds a block); milliseconds per layer ('input': the encoder, 'readout').
   */
  profileRun(steps: number): Map<string, number> {
    const times = new Map<string, number>();
    const end = this.t + steps;
    while (this.t < end) this.block(Math.min(this.blockSteps, end - this.t), times);
    return times;
  }

  /** Synaptic operations of each conv/linear layer since reset (when countSops), summed over the batch. */
  layerSops(): [string, number][] {
    return [...this.sopsByLayer.entries()];
  }

  private planError(err: number, record: number): never {
    const name = this.plan.recordLayer[record] ?? '?';
    if (err === PLAN_ERROR.affineRows) {
      const layer = this.model.layers.find((l) => l.name === name);
      const rows = layer?.op === 'affine' ? layer.scale.shape[0] : 0;
      throw new InputError(this.model.file, `layer "${name}" field "scale": ${rows} per-step rows, but the run has more than ${rows} steps`);
    }
    if (err === PLAN_ERROR.helper) throw new Error('@spikelens/core-wasm: a kernel failed in the helper thread');
    throw new Error(`spikelens: the core refused record ${record} (layer "${name}") of the plan with error ${err}`);
  }

  /** Counters, readout and observers for each step of the block just run. */
  private handOver(t0: number, F: number): void {
    const buffer = this.core.memory.buffer;
    const perLayer: { name: string; counts: Float64Array | null; flags: Int32Array | null; sops: Float64Array | null }[] = [];
    for (const slot of this.plan.slots) {
      if (!slot.counts && !slot.flags && !slot.sops) continue;
      perLayer.push({
        name: slot.layer.name,
        counts: slot.counts ? new Float64Array(buffer, slot.counts, F) : null,
        flags: slot.flags ? new Int32Array(buffer, slot.flags, F) : null,
        sops: slot.sops ? new Float64Array(buffer, slot.sops, F) : null,
      });
    }
    const K = this.readoutAcc.length;
    const acc = this.plan.accFrames ? this.arena.f32(this.plan.accFrames, F * K) : null;
    for (let f = 0; f < F; f++) {
      for (const l of perLayer) {
        if (l.counts) this.spikeCounts.set(l.name, this.spikeCounts.get(l.name)! + l.counts[f]);
        if (l.flags) this.eventSteps.set(l.name, this.eventSteps.get(l.name)! + l.flags[f]);
        if (l.sops) {
          this.sops += l.sops[f];
          this.sopsByLayer.set(l.name, (this.sopsByLayer.get(l.name) ?? 0) + l.sops[f]);
        }
      }
      if (acc) this.readoutAcc.set(acc.subarray(f * K, (f + 1) * K));
      this.frame = f;
      this.t = t0 + f + 1;
      for (const o of this.observers) o.onStep(this, t0 + f);
    }
  }

  /** Class scores [B, K] after the steps taken so far (the readout, docs/semantics.md §5). */
  scores(): Float32Array {
    const K = this.classes;
    const out = new Float32Array(this.batch * K);
    const T = this.t;
    switch (this.model.readout) {
      case 'count':
        out.set(this.readoutAcc);
        break;
      case 'final': {
        const v = this.output(this.model.layers[this.model.layers.length - 1].name);
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
    for (const slot of this.plan.slots) {
      if (!isSpiking(slot.layer)) continue;
      const neurons = this.batch * sizeOf(slot.layer.outShape);
      rates[slot.layer.name] = this.t === 0 ? 0 : this.spikeCounts.get(slot.layer.name)! / (neurons * this.t);
    }
    return rates;
  }

  /**
   * Pointer to a layer's membrane after the last step: `lif`/`if`/`cubalif` keep it apart from their spikes, `li`'s
   * output is its membrane. Observers that read it each step must say so (StepObserver.readsState).
   */
  membranePtr(name: string): number {
    const slot = this.slot(name);
    if (slot.membrane === undefined) throw new UsageError(`layer "${name}" (${slot.layer.op}) has no membrane`);
    return slot.membrane;
  }
}

export { NCS_MODE };
