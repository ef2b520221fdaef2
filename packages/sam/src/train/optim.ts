/**
 * SGD and Adam, following torch.optim's update rules, in float32 with every operation rounded (Math.fround) in a
 * fixed order, so a run gives the same bits in every JS engine and a resumed run the same bits as an unbroken one.
 *
 * Scalars derived from hyperparameters (1 - beta1, lr / bias correction, ...) are computed in float64 and rounded to
 * float32 once, as PyTorch does when a Python float meets a float32 tensor. Adam's beta^t are kept in the state as a
 * running float32 product instead of PyTorch's float64 `beta ** t`: Math.pow is not exactly specified, and the
 * difference is below 1e-7 relative. Element-wise results can still differ from PyTorch in the last bit (its kernels
 * vectorise and may fuse), never between JS engines.
 */
import { InputError, UsageError } from '../errors.js';

const f32 = Math.fround;

/** One trainable tensor. `decay: false` exempts it from weight decay (biases, norms). */
export interface Param {
  readonly name: string;
  readonly data: Float32Array;
  readonly grad: Float32Array;
  readonly decay: boolean;
}

/**
 * What a checkpoint needs to continue exactly: the step count, float32 scalars and per-parameter buffers named
 * `<param>.<buffer>` with PyTorch's buffer names (momentum_buffer, exp_avg, exp_avg_sq).
 */
export interface OptimizerState {
  readonly kind: 'sgd' | 'adam';
  readonly step: number;
  readonly scalars: Record<string, number>;
  readonly tensors: Record<string, Float32Array>;
}

export interface Optimizer {
  readonly kind: 'sgd' | 'adam';
  /** The learning rate used when `step` is given none. */
  readonly lr: number;
  /** Steps taken so far. */
  readonly steps: number;
  /** Updates every `data` in place from its `grad`; `lr` overrides the default for this step (schedules). */
  step(params: readonly Param[], lr?: number): void;
  /** A copy of the state, for a checkpoint. */
  state(): OptimizerState;
  /** Continues from a saved state (copied, so the caller's arrays are not modified later). */
  load(state: OptimizerState): void;
}

function checkNumber(what: string, v: number, min: number, maxExclusive = Infinity): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v >= maxExclusive) {
    const range = maxExclusive === Infinity ? `at least ${min}` : `from ${min} up to (not including) ${maxExclusive}`;
    throw new UsageError(`${what} must be a number ${range}, got ${v}`);
  }
}

function checkParams(params: readonly Param[]): void {
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) throw new UsageError(`parameter ${p.name} is given twice`);
    seen.add(p.name);
    if (p.grad.length !== p.data.length) {
      throw new UsageError(`parameter ${p.name} has ${p.data.length} values but ${p.grad.length} gradients`);
    }
  }
}

function copyTensors(t: Record<string, Float32Array>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(t)) out[k] = v.slice();
  return out;
}

function checkState(state: OptimizerState, kind: 'sgd' | 'adam', scalars: readonly string[]): void {
  if (state?.kind !== kind) throw new InputError('', `optimizer state is for ${state?.kind}, not ${kind}`);
  if (!Number.isInteger(state.step) || state.step < 0) throw new InputError('', `optimizer step ${state.step} is invalid`);
  for (const s of scalars) {
    if (typeof state.scalars?.[s] !== 'number') throw new InputError('', `${kind} state has no ${s}`);
  }
  for (const [k, v] of Object.entries(state.tensors ?? {})) {
    if (!(v instanceof Float32Array)) throw new InputError('', `${kind} state tensor ${k} is not float32`);
  }
}

/** A buffer for `p`: the saved one, or a new one of zeros on the very first step. Sizes must match. */
function buffer(tensors: Record<string, Float32Array>, p: Param, slot: string, firstStep: boolean): Float32Array {
  const key = `${p.name}.${slot}`;
  let b = tensors[key];
  if (!b) {
    if (!firstStep) {
      throw new InputError('', `optimizer state has no ${key}: parameters must be the same at every step`);
    }
    b = tensors[key] = new Float32Array(p.data.length);
  }
  if (b.length !== p.data.length) {
    throw new InputError('', `optimizer state ${key} has ${b.length} values, parameter ${p.name} ${p.data.length}`);
  }
  return b;
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD with dampening 0. Per element, with wd applied only to params with `decay`:
 *   g = grad + wd * p
 *   if momentum: buf = g on the first step, else buf = momentum * buf + g
 *                g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 */
export class Sgd implements Optimizer {
  readonly kind = 'sgd' as const;
  readonly lr: number;
  private readonly momentum: number;
  private readonly weightDecay: number;
  private readonly nesterov: boolean;
  private t = 0;
  private tensors: Record<string, Float32Array> = {};

  constructor(options: SgdOptions) {
    const { lr, momentum = 0, weightDecay = 0, nesterov = false } = options;
    checkNumber('the learning rate', lr, 0);
    checkNumber('the momentum', momentum, 0);
    checkNumber('the weight decay', weightDecay, 0);
    if (nesterov && momentum === 0) throw new UsageError('Nesterov momentum needs a momentum above 0');
    this.lr = lr;
    this.momentum = f32(momentum);
    this.weightDecay = f32(weightDecay);
    this.nesterov = nesterov;
  }

  get steps(): number {
    return this.t;
  }

  step(params: readonly Param[], lr = this.lr): void {
    checkNumber('the learning rate', lr, 0);
    checkParams(params);
    const rate = f32(lr);
    const mu = this.momentum;
    const first = this.t === 0;
    // Every buffer is looked up before any value changes, so a mismatched state fails without a half-done step.
    const bufs = params.map((p) => (mu !== 0 ? buffer(this.tensors, p, 'momentum_buffer', first) : null));
    params.forEach((p, k) => {
      const { data, grad } = p;
      const wd = p.decay ? this.weightDecay : 0;
      const buf = bufs[k];
      for (let i = 0; i < data.length; i++) {
        let g = grad[i];
        if (wd !== 0) g = f32(g + f32(wd * data[i]));
        if (buf) {
          const b = first ? g : f32(f32(mu * buf[i]) + g);
          buf[i] = b;
          g = this.nesterov ? f32(g + f32(mu * b)) : b;
        }
        data[i] = f32(data[i] - f32(rate * g));
      }
    });
    this.t++;
  }

  state(): OptimizerState {
    return { kind: 'sgd', step: this.t, scalars: {}, tensors: copyTensors(this.tensors) };
  }

  load(state: OptimizerState): void {
    checkState(state, 'sgd', []);
    this.t = state.step;
    this.tensors = copyTensors(state.tensors);
  }
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** AdamW (torch.optim.AdamW): decay the weights directly instead of adding wd * p to the gradient. */
  decoupled?: boolean;
}

/**
 * torch.optim.Adam (amsgrad off), or torch.optim.AdamW with `decoupled`. Per step t = 1, 2, ... and element:
 *   Adam:  g = grad + wd * p                AdamW: p = p * (1 - lr * wd), g = grad
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 */
export class Adam implements Optimizer {
  readonly kind = 'adam' as const;
  readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly oneMinusBeta1: number;
  private readonly oneMinusBeta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decoupled: boolean;
  private t = 0;
  private beta1Power = 1;
  private beta2Power = 1;
  private tensors: Record<string, Float32Array> = {};

  constructor(options: AdamOptions) {
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, decoupled = false } = options;
    checkNumber('the learning rate', lr, 0);
    checkNumber('beta1', beta1, 0, 1);
    checkNumber('beta2', beta2, 0, 1);
    checkNumber('eps', eps, 0);
    checkNumber('the weight decay', weightDecay, 0);
    this.lr = lr;
    this.beta1 = f32(beta1);
    this.beta2 = f32(beta2);
    this.oneMinusBeta1 = f32(1 - beta1);
    this.oneMinusBeta2 = f32(1 - beta2);
    this.eps = f32(eps);
    this.weightDecay = weightDecay;
    this.decoupled = decoupled;
  }

  get steps(): number {
    return this.t;
  }

  step(params: readonly Param[], lr = this.lr): void {
    checkNumber('the learning rate', lr, 0);
    checkParams(params);
    const first = this.t === 0;
    const beta1Power = f32(this.beta1Power * this.beta1);
    const beta2Power = f32(this.beta2Power * this.beta2);
    const stepSize = f32(lr / (1 - beta1Power));
    const correction2 = f32(Math.sqrt(1 - beta2Power));
    const { beta1: b1, beta2: b2, oneMinusBeta1: c1, oneMinusBeta2: c2, eps } = this;
    // Every buffer is looked up before any value changes, so a mismatched state fails without a half-done step.
    const bufs = params.map((p) => [buffer(this.tensors, p, 'exp_avg', first), buffer(this.tensors, p, 'exp_avg_sq', first)]);
    params.forEach((p, k) => {
      const { data, grad } = p;
      const [m, v] = bufs[k];
      const wd = p.decay ? this.weightDecay : 0;
      const l2 = !this.decoupled && wd !== 0 ? f32(wd) : 0;
      const shrink = this.decoupled && wd !== 0 ? f32(1 - lr * wd) : 1;
      for (let i = 0; i < data.length; i++) {
        let w = data[i];
        let g = grad[i];
        if (l2 !== 0) g = f32(g + f32(l2 * w));
        if (shrink !== 1) w = f32(w * shrink);
        const mi = f32(f32(b1 * m[i]) + f32(c1 * g));
        const vi = f32(f32(b2 * v[i]) + f32(f32(c2 * g) * g));
        m[i] = mi;
        v[i] = vi;
        const denom = f32(f32(f32(Math.sqrt(vi)) / correction2) + eps);
        data[i] = f32(w - f32(stepSize * f32(mi / denom)));
      }
    });
    this.beta1Power = beta1Power;
    this.beta2Power = beta2Power;
    this.t++;
  }

  state(): OptimizerState {
    return {
      kind: 'adam',
      step: this.t,
      scalars: { beta1_power: this.beta1Power, beta2_power: this.beta2Power },
      tensors: copyTensors(this.tensors),
    };
  }

  load(state: OptimizerState): void {
    checkState(state, 'adam', ['beta1_power', 'beta2_power']);
    this.t = state.step;
    this.beta1Power = f32(state.scalars.beta1_power);
    this.beta2Power = f32(state.scalars.beta2_power);
    this.tensors = copyTensors(state.tensors);
  }
}
