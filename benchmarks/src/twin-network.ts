/**
 * The plain-TypeScript peer: runs a `Model` step by step with the scalar twins of the core's kernels
 * (@spikelens/core-wasm/twin), laid out like `Network` (same encoder streams, same per-layer state, same readout),
 * so that it computes the same spikes bit for bit. It also takes the event-driven path by the same rule as the core
 * (fraction of nonzero inputs below `eventThreshold`), so the comparison is the same algorithm in plain TypeScript
 * against WebAssembly SIMD, not dense against sparse.
 */
import * as twin from '@spikelens/core-wasm/twin';
import {
  DEFAULT_EVENT_THRESHOLD, convFanout, convGeometry, dims, expandParam, isSpiking, layerEventThreshold, poolGeometry, preprocess, sizeOf,
  spikeComparison,
} from '@spikelens/sam';
import type { Layer, Model, NetworkInput } from '@spikelens/sam';

export interface TwinOptions {
  readonly batch?: number;
  readonly seed?: number;
  readonly keyOffset?: number;
  /** As NetworkOptions.eventThreshold: 0 forces the dense twin conv. */
  readonly eventThreshold?: number;
  /** Count SOPs (docs/semantics.md §10) with this package's own fan-out, to cross-check the core's count. */
  readonly countSops?: boolean;
}

interface Plan {
  readonly layer: Layer;
  readonly out: Float32Array;
  exec(t: number): void;
  reset(): void;
}

const RESET = { subtract: 0, zero: 1, none: 2 } as const;



export class TwinNetwork {
  readonly model: Model;
  readonly batch: number;
  t = 0;
  sops = 0;
  readonly eventSteps = new Map<string, number>();
  private readonly spikeCounts = new Map<string, number>();
  private readonly plans: Plan[] = [];
  private readonly byName = new Map<string, Plan>();
  private readonly seed: number;
  private readonly keyOffset: number;
  private readonly eventThreshold: number;
  private readonly countSops: boolean;
  private readonly inputSize: number;
  private readonly input: Float32Array;
  private readonly pre: Float32Array;
  private readonly rng: Uint32Array;
  private readonly readoutAcc: Float32Array;
  private source: NetworkInput | null = null;

  constructor(model: Model, options: TwinOptions = {}) {
    this.model = model;
    this.batch = options.batch ?? 1;
    this.seed = (options.seed ?? 0) >>> 0;
    this.keyOffset = options.keyOffset ?? 0;
    this.eventThreshold = options.eventThreshold ?? DEFAULT_EVENT_THRESHOLD;
    this.countSops = options.countSops ?? false;
    this.inputSize = sizeOf(model.input.shape);
    this.input = new Float32Array(this.batch * this.inputSize);
    this.pre = new Float32Array(this.batch * this.inputSize);
    this.rng = new Uint32Array(4 * this.batch);
    let x = this.input;
    for (const layer of model.layers) {
      const plan = this.plan(layer, x);
      this.plans.push(plan);
      this.byName.set(layer.name, plan);
      if (isSpiking(layer)) this.spikeCounts.set(layer.name, 0);
      x = plan.out;
    }
    const last = model.layers[model.layers.length - 1];
    this.readoutAcc = new Float32Array(this.batch * sizeOf(last.outShape));
    this.reset();
  }

  setInput(input: NetworkInput): void {
    const n = this.batch * this.inputSize;
    if (input.kind === 'pixels') {
      if (input.data.length !== n) throw new RangeError(`twin: pixel input has ${input.data.length} values, not ${n}`);
      const C = this.model.input.shape.length === 3 ? this.model.input.shape[0] : this.inputSize;
      preprocess(input.data, this.pre, this.batch, C, this.inputSize / C, this.model.input.preprocess);
    } else if (input.data.length !== input.timesteps * n) {
      throw new RangeError(`twin: spike train has ${input.data.length} values, not ${input.timesteps} x ${n}`);
    }
    this.source = input;
    this.reset();
  }

  reset(): void {
    this.t = 0;
    this.sops = 0;
    for (const plan of this.plans) plan.reset();
    for (const k of this.spikeCounts.keys()) this.spikeCounts.set(k, 0);
    for (const k of this.eventSteps.keys()) this.eventSteps.set(k, 0);
    this.readoutAcc.fill(0);
    twin.rngSeed(this.rng, this.batch, this.seed, this.keyOffset);
  }

  get timesteps(): number | null {
    return this.source?.kind === 'train' ? this.source.timesteps : this.model.timesteps;
  }

  step(): void {
    const src = this.source;
    if (!src) throw new Error('TwinNetwork.step: no input set');
    const t = this.t;
    const n = this.batch * this.inputSize;
    if (src.kind === 'train') {
      if (t >= src.timesteps) throw new RangeError(`twin: the spike train has only ${src.timesteps} steps`);
      this.input.set(src.data.subarray(t * n, (t + 1) * n));
    } else {
      const enc = this.model.input.encoding;
      if (enc.kind === 'direct') {
        if (t === 0) this.input.set(this.pre);
      } else {
        twin.encode(this.pre, this.input, this.rng, this.batch, this.inputSize, enc.gain, enc.kind === 'poisson' ? 0 : 1);
      }
    }
    for (const plan of this.plans) {
      plan.exec(t);
      if (isSpiking(plan.layer)) {
        const name = plan.layer.name;
        this.spikeCounts.set(name, this.spikeCounts.get(name)! + twin.countNonzero(plan.out, plan.out.length));
      }
    }
    if (this.model.readout !== 'final') {
      const v = this.plans[this.plans.length - 1].out;
      const acc = this.readoutAcc;
      for (let i = 0; i < acc.length; i++) acc[i] = Math.fround(acc[i] + v[i]);
    }
    this.t = t + 1;
  }

  run(steps?: number): void {
    const T = steps ?? this.timesteps;
    if (T === null) throw new Error('twin: the model sets no timesteps');
    for (let i = 0; i < T; i++) this.step();
  }

  /** The layer's output at the current step ('input': the encoder's). */
  output(name: string): Float32Array {
    if (name === 'input') return this.input;
    const plan = this.byName.get(name);
    if (!plan) throw new Error(`twin: no layer "${name}"`);
    return plan.out;
  }

  scores(): Float32Array {
    const acc = this.readoutAcc;
    const out = new Float32Array(acc.length);
    const v = this.plans[this.plans.length - 1].out;
    const T = this.t;
    for (let i = 0; i < out.length; i++) {
      if (this.model.readout === 'count') out[i] = acc[i];
      else out[i] = Math.fround((this.model.readout === 'final' ? v[i] : acc[i]) / T);
    }
    return out;
  }

  firingRates(): Record<string, number> {
    const rates: Record<string, number> = {};
    for (const [name, count] of this.spikeCounts) {
      const neurons = this.batch * sizeOf(this.byName.get(name)!.layer.outShape);
      rates[name] = this.t === 0 ? 0 : count / (neurons * this.t);
    }
    return rates;
  }

  private plan(layer: Layer, x: Float32Array): Plan {
    const B = this.batch;
    const outSize = sizeOf(layer.outShape);
    const none = (): void => {};
    switch (layer.op) {
      case 'flatten':
        return { layer, out: x, exec: none, reset: none };
      case 'conv2d':
      case 'linear': {
        // linear is the 1x1 conv of a 1x1 image: the twin conv sums (ky, kx, cin) = ascending input index (docs/semantics.md §2).
        const { C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups } = convGeometry(layer);
        const HW = H * W;
        const w = layer.weight.data;
        const bias = layer.bias ? layer.bias.data : null;
        const out = new Float32Array(B * outSize);
        const eventAllowed = groups === 1 && this.eventThreshold > 0;
        const threshold = layerEventThreshold(this.eventThreshold, C / groups, kH, kW);
        const idx = new Int32Array(eventAllowed ? B * HW * C : 0);
        const cnt = new Int32Array(eventAllowed ? B * HW : 0);
        const fanout = this.countSops
          ? convFanout(H, W, Ho, Wo, kH, kW, [sH, sW], [pH, pW], [dH, dW], Cout / groups)
          : null;
        const inN = B * C * HW;
        const name = layer.name;
        if (eventAllowed) this.eventSteps.set(name, 0);
        const exec = (): void => {
          if (fanout) {
            for (let i = 0; i < inN; i++) if (x[i] !== 0) this.sops += fanout[i % HW];
          }
          if (eventAllowed && twin.countNonzero(x, inN) < threshold * inN) {
            twin.spikeIndex(x, B, C, HW, idx, cnt);
            twin.conv2dEvent(x, idx, cnt, w, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW);
            this.eventSteps.set(name, this.eventSteps.get(name)! + 1);
            return;
          }
          twin.conv2d(x, w, bias, out, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups);
        };
        return { layer, out, exec, reset: none };
      }
      case 'avgpool2d':
      case 'sumpool2d':
      case 'maxpool2d': {
        const { kind, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW } = poolGeometry(layer);
        const out = new Float32Array(B * outSize);
        const exec = (): void => twin.pool2d(kind, x, out, B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
        return { layer, out, exec, reset: none };
      }
      case 'affine': {
        const { C, HW } = dims(layer.inShape);
        const rows = layer.scale.shape.length === 2 ? layer.scale.shape[0] : 1;
        const out = new Float32Array(B * outSize);
        const exec = (t: number): void => {
          if (rows > 1 && t >= rows) throw new RangeError(`twin: layer "${layer.name}" has ${rows} per-step rows`);
          const row = rows > 1 ? t * C : 0;
          const scale = layer.scale.data.subarray(row, row + C);
          const shift = layer.shift.data.subarray(row, row + C);
          twin.affine(x, out, scale, shift, B, C, HW);
        };
        return { layer, out, exec, reset: none };
      }
      case 'relu': {
        const out = new Float32Array(B * outSize);
        return { layer, out, exec: () => twin.relu(x, out, out.length), reset: none };
      }
      case 'lif':
      case 'if':
      case 'cubalif': {
        const { C, HW } = dims(layer.outShape);
        const perNeuron = [layer.beta, layer.threshold, layer.vReset, ...(layer.alpha ? [layer.alpha] : [])].some((p) => p.per === 'neuron');
        const beta = expandParam(layer.beta, C, HW, perNeuron);
        const thr = expandParam(layer.threshold, C, HW, perNeuron);
        const cmp = expandParam(spikeComparison(layer), C, HW, perNeuron);
        const vr = expandParam(layer.vReset, C, HW, perNeuron);
        const vInit = expandParam(layer.vReset, C, HW, true);
        const out = new Float32Array(B * outSize); // this step's spikes (the previous step's on entry)
        const v = new Float32Array(B * outSize);
        const reset = RESET[layer.reset];
        const delay = layer.resetDelay ? 1 : 0;
        const alpha = layer.alpha ? expandParam(layer.alpha, C, HW, perNeuron) : null;
        const syn = new Float32Array(alpha ? B * outSize : 0);
        const exec = alpha
          ? (): void => twin.cubalif(x, syn, out, v, alpha, beta, thr, cmp, vr, B, C, HW, perNeuron ? 1 : 0, reset, delay)
          : (): void => twin.lif(x, out, v, beta, thr, cmp, vr, B, C, HW, perNeuron ? 1 : 0, reset, delay);
        const resetState = (): void => {
          syn.fill(0);
          out.fill(0);
          for (let b = 0; b < B; b++) v.set(vInit, b * outSize);
        };
        return { layer, out, exec, reset: resetState };
      }
      case 'li': {
        const { C, HW } = dims(layer.outShape);
        const perNeuron = layer.beta.per === 'neuron';
        const beta = expandParam(layer.beta, C, HW, perNeuron);
        const out = new Float32Array(B * outSize); // the membrane is the output
        const exec = (): void => twin.li(x, out, beta, B, C, HW, perNeuron ? 1 : 0);
        return { layer, out, exec, reset: () => out.fill(0) };
      }
    }
  }
}
