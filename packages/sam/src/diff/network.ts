import { createCore, type Core, type CoreSource } from '@spikelens/core-wasm';
import { Arena, ArenaFullError } from '../arena.js';
import { InputError, UsageError } from '../errors.js';
import type { Layer, Model } from '../model.js';
import { sizeOf } from '../model.js';
import { preprocess } from '../preprocess.js';
import { opSpec } from '../ops/index.js';
import type { DiffContext, DiffPlan } from '../ops/types.js';

export const SURROGATES = ['triangle', 'atan', 'fast-sigmoid'] as const;
export type Surrogate = (typeof SURROGATES)[number] | 'smooth';
const SURROGATE_ID: Record<Surrogate, number> = { triangle: 0, atan: 1, 'fast-sigmoid': 2, smooth: 3 };

export interface DiffNetworkOptions {
  /** Samples per forward/backward pass. */
  readonly batch: number;
  /** Steps per sample (1 for the analog ReLU network of conversion). */
  readonly timesteps: number;
  readonly surrogate?: Surrogate;
  /** Let the gradient flow through the reset as well (snnTorch and SpikingJelly detach it; so does the default). */
  readonly keepReset?: boolean;
  /** Learn one beta per channel of every lif and cubalif layer (not with per-neuron parameters). */
  readonly trainBeta?: boolean;
  /** Record dL/d(input) at every step (for gradient maps and adversarial inputs). */
  readonly inputGrad?: boolean;
  /**
   * Accumulate the parameters' gradients (default true). Explanations and attacks need only the gradients of
   * activity and input: without these the backward pass skips the weight-gradient kernels.
   */
  readonly paramGrads?: boolean;
  /** Layers whose output gradient dL/d(output) is kept for every step (SNN Grad-CAM). */
  readonly gradLayers?: readonly string[];
  /** The input is given as a spike train (`forwardTrain`) rather than as pixels. */
  readonly spikeInput?: boolean;
  readonly core?: CoreSource;
  /** The most bytes of arena it may take (default LIMITS.arenaBytes); past it, creation is refused naming the model. */
  readonly maxBytes?: number;
}

/** One trainable tensor: its values and its gradient, both views into the core's memory (made afresh on each read). */
export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
  readonly grad: Float32Array;
  /** Weight decay applies (weights, not biases, affine or beta). */
  readonly decay: boolean;
  /** Values are clamped to this range after every update (beta stays in [0, 1]). */
  readonly clamp?: readonly [number, number];
}

type Plan = DiffPlan;


/**
 * A model laid out for backpropagation through time: every step's activity is kept (layer outputs, pre-reset
 * membranes, membranes), then the steps are walked backwards with the core's backward kernels, accumulating
 * parameter gradients. Forward results are bit-identical to `Network` for the same input (same kernels, same order).
 */
export class DiffNetwork {
  readonly model: Model;
  readonly batch: number;
  readonly timesteps: number;
  readonly core: Core;
  readonly arena: Arena;
  readonly params: Param[] = [];
  private readonly plans: Plan[] = [];
  private readonly surrogate: number;
  private readonly keepReset: number;
  private readonly trainBeta: boolean;
  private readonly paramGrads: boolean;
  /** The lowest layer backward walks to (see the constructor). */
  private readonly lowest: number;
  private readonly inputSize: number;
  /** The network's input at each step (one buffer for every step under direct encoding). */
  private readonly inputs: number[];
  private readonly pre: number;
  private readonly rng: number;
  private readonly inputGradPtr: number;
  private readonly gradRecords = new Map<string, { plan: number; ptr: number; n: number }>();
  private readonly repack: Array<() => void> = [];
  /** Spikes per spiking layer in the last forward pass (summed over batch and steps). */
  readonly spikeCounts = new Map<string, number>();
  /** What the last forward pass ran on. */
  private lastInput: 'pixels' | 'train' | null = null;

  static async create(model: Model, options: DiffNetworkOptions): Promise<DiffNetwork> {
    const core = await createCore(options.core);
    try {
      return new DiffNetwork(model, core, options);
    } catch (err) {
      if (err instanceof ArenaFullError)
        throw new InputError(model.file, `at a batch of ${options.batch} over ${options.timesteps} steps, the gradient network ${err.message}`);
      throw err;
    }
  }

  private constructor(model: Model, core: Core, o: DiffNetworkOptions) {
    if (!Number.isSafeInteger(o.batch) || o.batch < 1) throw new UsageError(`batch must be a positive integer, not ${o.batch}`);
    if (!Number.isSafeInteger(o.timesteps) || o.timesteps < 1) throw new UsageError(`timesteps must be a positive integer, not ${o.timesteps}`);
    this.model = model;
    this.batch = o.batch;
    this.timesteps = o.timesteps;
    this.core = core;
    this.arena = new Arena(core, o.maxBytes);
    this.surrogate = SURROGATE_ID[o.surrogate ?? 'atan'];
    this.keepReset = o.keepReset ? 1 : 0;
    this.trainBeta = o.trainBeta ?? false;
    this.paramGrads = o.paramGrads ?? true;
    const B = this.batch;
    const T = this.timesteps;
    this.inputSize = sizeOf(model.input.shape);
    const n = B * this.inputSize;
    this.pre = this.arena.allocF32(n);
    this.rng = this.arena.alloc(B * 16);
    const constant = model.input.encoding.kind === 'direct' && !o.spikeInput;
    this.inputs = constant ? new Array(T).fill(this.pre) : Array.from({ length: T }, () => this.arena.allocF32(n));
    this.inputGradPtr = o.inputGrad ? this.arena.allocF32(T * n) : 0;

    let prev: { outs: readonly number[]; grad: number } = { outs: this.inputs, grad: this.arena.allocF32(n) };
    for (const layer of model.layers) {
      const plan = this.plan(layer, prev);
      this.plans.push(plan);
      prev = plan;
    }
    for (const name of o.gradLayers ?? []) {
      const i = this.plans.findIndex((p) => p.layer.name === name);
      if (i < 0) throw new UsageError(`gradLayers: the model has no layer "${name}"`);
      const size = B * sizeOf(this.plans[i].layer.outShape);
      this.gradRecords.set(name, { plan: i, ptr: this.arena.allocF32(T * size), n: size });
    }
    // Without parameter or input gradients, nothing below the lowest recorded layer is needed: the walk back stops
    // there (its own backward would only feed the layers below).
    this.lowest = this.paramGrads || this.inputGradPtr ? 0 : Math.min(...[...this.gradRecords.values()].map((r) => r.plan), this.plans.length - 1);
    for (const r of this.repack) r();
  }

  /** dL/d(input) of sample b at step t, after `backward` (when created with inputGrad). */
  inputGradient(t: number): Float32Array {
    if (!this.inputGradPtr) throw new Error('DiffNetwork was created without inputGrad');
    const n = this.batch * this.inputSize;
    return this.arena.f32(this.inputGradPtr + t * n * 4, n);
  }

  /**
   * dL/d(pixel) `[batch, ...input]` after a `backward` that followed `forward(pixels)` (needs inputGrad): the
   * gradient reaching each step's input, summed over steps in order, carried back to the pixel values through the
   * encoding (docs/explain.md): `direct` through the preprocessing, `scale / std`; `poisson` and `signed-poisson`
   * straight through, as if each drawn spike were its probability, `gain * scale / std` where that probability lies
   * strictly inside (0, 1), else 0 (times the sign of the preprocessed value for signed Poisson). A spike-train input
   * has no pixels: it is refused.
   */
  pixelGradient(): Float32Array {
    if (!this.inputGradPtr) throw new UsageError('the gradient of the pixels needs a DiffNetwork created with inputGrad');
    if (this.lastInput !== 'pixels')
      throw new UsageError('the input was a spike train, not pixels: no gradient reaches pixel values through it');
    const n = this.batch * this.inputSize;
    const sum = new Float32Array(n);
    for (let t = 0; t < this.timesteps; t++) {
      const g = this.inputGradient(t);
      for (let i = 0; i < n; i++) sum[i] = Math.fround(sum[i] + g[i]);
    }
    const { shape, preprocess: pp, encoding } = this.model.input;
    const C = shape.length === 3 ? shape[0] : this.inputSize;
    const plane = this.inputSize / C;
    const x = this.arena.f32(this.pre, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const c = Math.floor(i / plane) % C;
      const std = pp.std.length === 1 ? pp.std[0] : pp.std[c];
      const dx = Math.fround(pp.scale / std);
      let d = dx;
      if (encoding.kind !== 'direct') {
        const p = Math.fround(encoding.gain * (encoding.kind === 'poisson' ? x[i] : Math.abs(x[i])));
        d = p > 0 && p < 1 ? Math.fround(encoding.gain * dx) * (encoding.kind === 'signed-poisson' ? Math.sign(x[i]) : 1) : 0;
      }
      out[i] = d === 0 ? 0 : Math.fround(sum[i] * d);
    }
    return out;
  }

  /**
   * dL/d(output of `layer`) at step t after `backward`, for a layer named in `gradLayers`: the gradient that reaches
   * the layer's output from the layers above it at that step (for lif/if spikes that is all of it, the reset being
   * detached; for li it leaves out the part carried by its own membrane to later steps).
   */
  layerGradient(layer: string, t: number): Float32Array {
    const r = this.gradRecords.get(layer);
    if (!r) throw new UsageError(`layer "${layer}" was not named in gradLayers`);
    return this.arena.f32(r.ptr + t * r.n * 4, r.n);
  }

  /**
   * The output of `layer` at step t of the last forward pass, `[batch, ...outShape]` (spikes of a spiking layer, the
   * activation of a relu layer): a view into the core's memory, valid until the next forward pass.
   */
  layerOutput(layer: string, t: number): Float32Array {
    const plan = this.plans.find((p) => p.layer.name === layer);
    if (!plan) throw new UsageError(`the model has no layer "${layer}"`);
    if (!Number.isInteger(t) || t < 0 || t >= this.timesteps) throw new RangeError(`step ${t} is not in 0..${this.timesteps - 1}`);
    return this.arena.f32(plan.outs[t], this.batch * sizeOf(plan.layer.outShape));
  }

  /** Re-derive the core's packed weights after the parameters changed (an optimizer step, a load). */
  syncWeights(): void {
    for (const r of this.repack) r();
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  /**
   * Runs all steps on raw pixel values `[batch, ...input]` and returns the class scores `[batch, K]`. `keys` are the
   * samples' PRNG stream keys (their index in the dataset), `seed` the encoder seed, as in `Network`.
   */
  forward(pixels: Float32Array, keys: ArrayLike<number>, seed: number): Float32Array {
    const B = this.batch;
    const ex = this.core.exports;
    const n = B * this.inputSize;
    if (pixels.length !== n) throw new RangeError(`forward: ${pixels.length} pixel values, expected ${n}`);
    const { shape, preprocess: pp, encoding } = this.model.input;
    const C = shape.length === 3 ? shape[0] : this.inputSize;
    preprocess(pixels, this.arena.f32(this.pre, n), B, C, this.inputSize / C, pp);
    for (let b = 0; b < B; b++) ex.rng_seed(this.rng + b * 16, 1, seed >>> 0, keys[b] >>> 0);
    for (const k of this.spikeCounts.keys()) this.spikeCounts.set(k, 0);
    for (let t = 0; t < this.timesteps; t++) {
      if (encoding.kind !== 'direct')
        ex.encode(this.pre, this.inputs[t], this.rng, B, this.inputSize, encoding.gain, encoding.kind === 'poisson' ? 0 : 1);
      else if (this.inputs[t] !== this.pre) this.arena.f32(this.inputs[t], n).set(this.arena.f32(this.pre, n));
      for (const p of this.plans) p.fwd(t);
    }
    this.lastInput = 'pixels';
    return this.scores();
  }

  /** Class scores of the last forward pass (the readout, docs/semantics.md §5). */
  scores(): Float32Array {
    const last = this.plans[this.plans.length - 1];
    const K = sizeOf(last.layer.outShape);
    const B = this.batch;
    const T = this.timesteps;
    const out = new Float32Array(B * K);
    if (this.model.readout === 'final') {
      const v = this.arena.f32(last.outs[T - 1], B * K);
      for (let i = 0; i < out.length; i++) out[i] = Math.fround(v[i] / T);
      return out;
    }
    for (let t = 0; t < T; t++) {
      const v = this.arena.f32(last.outs[t], B * K);
      for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] + v[i]);
    }
    if (this.model.readout === 'mean') for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] / T);
    return out;
  }

  /** Walks the steps of the last forward pass backwards from dL/d(scores), accumulating every parameter's gradient. */
  backward(dScores: Float32Array): void {
    const last = this.plans[this.plans.length - 1];
    const K = sizeOf(last.layer.outShape);
    const B = this.batch;
    const T = this.timesteps;
    if (dScores.length !== B * K) throw new RangeError(`backward: ${dScores.length} score gradients, expected ${B * K}`);
    for (const p of this.plans) p.clearState?.();
    const g = this.arena.f32(last.grad, B * K);
    for (let t = T - 1; t >= 0; t--) {
      switch (this.model.readout) {
        case 'final':
          if (t === T - 1) for (let i = 0; i < g.length; i++) g[i] = Math.fround(dScores[i] / T);
          else g.fill(0);
          break;
        case 'mean':
          for (let i = 0; i < g.length; i++) g[i] = Math.fround(dScores[i] / T);
          break;
        case 'count':
          g.set(dScores);
          break;
      }
      for (let l = this.plans.length - 1; l >= this.lowest; l--) {
        this.recordGrad(l, t);
        if (l > this.lowest || this.lowest === 0) this.plans[l].bwd(t);
      }
      if (this.inputGradPtr) {
        const n = B * this.inputSize;
        this.arena.f32(this.inputGradPtr + t * n * 4, n).set(this.arena.f32(this.firstGrad, n));
      }
    }
  }

  private recordGrad(l: number, t: number): void {
    if (this.gradRecords.size === 0) return;
    for (const r of this.gradRecords.values())
      if (r.plan === l) this.arena.f32(r.ptr + t * r.n * 4, r.n).set(this.arena.f32(this.plans[l].grad, r.n));
  }

  /**
   * Runs all steps on a spike train `[T, batch, ...input]` (0/1, -1/0/1 or event counts: values enter the first
   * layer as they are) and returns the class scores; needs `spikeInput`.
   */
  forwardTrain(train: ArrayLike<number>): Float32Array {
    const n = this.batch * this.inputSize;
    if (this.inputs[0] === this.pre && this.timesteps > 1) throw new UsageError('forwardTrain needs a DiffNetwork created with spikeInput');
    if (train.length !== this.timesteps * n) throw new RangeError(`forwardTrain: ${train.length} values, expected ${this.timesteps} x ${n}`);
    for (const k of this.spikeCounts.keys()) this.spikeCounts.set(k, 0);
    for (let t = 0; t < this.timesteps; t++) {
      const frame = this.arena.f32(this.inputs[t], n);
      for (let i = 0; i < n; i++) frame[i] = train[t * n + i];
      for (const p of this.plans) p.fwd(t);
    }
    this.lastInput = 'train';
    return this.scores();
  }

  private get firstGrad(): number {
    return this.plans[0].inGrad;
  }

  private addParam(name: string, shape: readonly number[], init: Float32Array, decay: boolean, clamp?: readonly [number, number]): { ptr: number; grad: number } {
    const n = init.length;
    const ptr = this.arena.putF32(init);
    const grad = this.arena.allocF32(n);
    const arena = this.arena;
    // Views made on every read: a view kept from before the memory grew would be detached, and writes to it lost.
    this.params.push({
      name,
      shape,
      decay,
      clamp,
      get data() {
        return arena.f32(ptr, n);
      },
      get grad() {
        return arena.f32(grad, n);
      },
    });
    return { ptr, grad };
  }

  private plan(layer: Layer, prev: { outs: readonly number[]; grad: number }): Plan {
    const ctx: DiffContext = {
      B: this.batch,
      T: this.timesteps,
      core: this.core,
      arena: this.arena,
      needInGrad: this.plans.length > 0 || this.inputGradPtr !== 0,
      paramGrads: this.paramGrads,
      trainBeta: this.trainBeta,
      surrogate: this.surrogate,
      keepReset: this.keepReset,
      addParam: (name, shape, init, decay, clamp) => this.addParam(name, shape, init, decay, clamp),
      onSync: (f) => void this.repack.push(f),
      stepOuts: (l) => Array.from({ length: this.timesteps }, () => this.arena.allocF32(this.batch * sizeOf(l.outShape))),
      spikeCounts: this.spikeCounts,
    };
    return opSpec(layer.op).diff(ctx, layer, prev);
  }
}
