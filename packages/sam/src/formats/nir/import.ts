/**
 * NIR graph -> the one in-memory model of SPEC §2. The chain of NIR nodes becomes a spikelens graph (JSON) with its
 * tensors, which then goes through the same parser and checks as a .safetensors model; what NIR cannot say (time
 * step, reset rule and timing, input encoding, time steps, labels) comes from the options and the preset.
 */
import { InputError, UsageError } from '../../errors.js';
import type { EncodingKind, Model, Readout, ResetRule } from '../../model.js';
import { modelToSafetensors, parseModel } from '../graph.js';
import type { SafetensorsInput } from '../safetensors.js';
import { nirChain, type NirChain, type NirNode } from './graph.js';
import type { H5Value } from './hdf5.js';
import { readHdf5 } from './hdf5.js';
import { PRESETS, PRESET_NAMES, below, eulerBeta, type Discretisation, type Integration, type PresetName } from './presets.js';

export interface NirImportOptions {
  /** Default 'snntorch'. */
  readonly preset?: PresetName;
  /** Override the preset's time step (seconds), integration rule, reset rule or reset timing. */
  readonly dt?: number;
  readonly integration?: Integration;
  readonly reset?: ResetRule;
  readonly resetDelay?: boolean;
  /** Default: `count` after a spiking last node, `final` after an LI one. */
  readonly readout?: Readout;
  /** NIR stores none of these: the run length, the input encoding and preprocessing, the class names. */
  readonly timesteps?: number | null;
  readonly encoding?: EncodingKind;
  readonly gain?: number;
  readonly scale?: number;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  readonly labels?: readonly string[] | null;
  /** Default: the file's base name. */
  readonly name?: string;
}

export interface NirImport {
  readonly model: Model;
  /** The same model as a spikelens .safetensors file. */
  readonly safetensors: Uint8Array;
  /** What the reading had to assume or could not express, one sentence each. */
  readonly warnings: string[];
  readonly discretisation: Discretisation;
}

/** NIR node types spikelens runs. */
export const NIR_TYPES = ['Input', 'Output', 'Conv2d', 'Linear', 'Affine', 'AvgPool2d', 'SumPool2d', 'Flatten', 'LIF', 'IF', 'LI', 'I', 'CubaLIF', 'Scale', 'Threshold'] as const;

/** Reads a .nir file (HDF5) into a spikelens model. */
export async function readNir(bytes: Uint8Array, file: string, options: NirImportOptions = {}): Promise<NirImport> {
  const root = await readHdf5(bytes, file);
  return nirToModel(nirChain(root, file), file, options);
}

/** The time step and reset rule spikelens wrote into a file's neuron nodes, when every neuron agrees on them. */
export function fileHints(chain: NirChain): { dt: number; reset?: ResetRule; resetDelay?: boolean } | null {
  const dts = new Set<number>();
  const resets = new Set<ResetRule>();
  const delays = new Set<boolean>();
  for (const n of chain.nodes) {
    const dt = n.metadata.get('dt');
    const reset = n.metadata.get('reset');
    const delay = n.metadata.get('reset_delay');
    if (dt && dt.kind === 'number') dts.add(dt.data[0]);
    if (reset && reset.kind === 'string' && ['subtract', 'zero', 'none'].includes(reset.data[0])) resets.add(reset.data[0] as ResetRule);
    if (delay && delay.kind === 'number') delays.add(delay.data[0] !== 0);
  }
  if (dts.size !== 1 || resets.size > 1 || delays.size > 1) return null;
  return {
    dt: [...dts][0],
    ...(resets.size ? { reset: [...resets][0] } : {}),
    ...(delays.size ? { resetDelay: [...delays][0] } : {}),
  };
}

export function discretisation(o: NirImportOptions): Discretisation {
  const name = o.preset ?? 'snntorch';
  if (!PRESET_NAMES.includes(name)) throw new UsageError(`unknown preset "${name}" (one of ${PRESET_NAMES.join(', ')})`);
  const p = PRESETS[name];
  if (o.dt !== undefined && !(Number.isFinite(o.dt) && o.dt > 0)) throw new UsageError(`dt must be a number > 0, not ${o.dt}`);
  return {
    ...p,
    dt: o.dt ?? p.dt,
    integration: o.integration ?? p.integration,
    reset: o.reset ?? p.reset,
    resetDelay: o.resetDelay ?? p.resetDelay,
  };
}

const f32 = Math.fround;

class Builder {
  readonly layers: Record<string, unknown>[] = [];
  readonly tensors: SafetensorsInput[] = [];
  readonly warnings: string[] = [];
  private readonly names = new Set<string>(['input']);
  /** Use the exact decays spikelens recorded in the nodes' metadata (when reading with its hints). */
  exact = false;
  constructor(
    readonly file: string,
    readonly d: Discretisation,
  ) {}

  fail(node: NirNode, message: string): never {
    throw new InputError(this.file, `node "${node.name}" (${node.type}): ${message}`);
  }

  /** A unique valid layer name for a NIR node name. */
  layerName(raw: string): string {
    let name = raw.replace(/[^A-Za-z0-9_.-]/g, '_');
    if (!/^[A-Za-z0-9_]/.test(name)) name = `_${name}`;
    let unique = name;
    for (let k = 2; this.names.has(unique); k++) unique = `${name}_${k}`;
    if (unique !== raw) this.warnings.push(`node "${raw}" is called layer "${unique}" (spikelens layer names are [A-Za-z0-9_][A-Za-z0-9_.-]*)`);
    this.names.add(unique);
    return unique;
  }

  tensor(name: string, shape: number[], data: Float32Array): string {
    this.tensors.push({ name, dtype: 'F32', shape, data });
    return name;
  }

  value(node: NirNode, field: string): H5Value | undefined {
    return node.fields.get(field);
  }

  /** A float field as float32, checked finite (Infinity allowed where `allowInf`). */
  floats(node: NirNode, field: string, opts: { allowInf?: boolean } = {}): { shape: number[]; data: Float32Array } {
    const v = this.value(node, field);
    if (!v) this.fail(node, `missing field "${field}"`);
    if (v.kind !== 'number') this.fail(node, `field "${field}" is a string, expected numbers`);
    const data = v.data instanceof Float32Array ? v.data : Float32Array.from(v.data, (x) => f32(x));
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (Number.isNaN(x) || (!opts.allowInf && !Number.isFinite(x)))
        this.fail(node, `field "${field}" element ${i} is ${x}, expected a finite number`);
    }
    return { shape: v.shape, data };
  }

  optionalFloats(node: NirNode, field: string, opts: { allowInf?: boolean } = {}): { shape: number[]; data: Float32Array } | null {
    return node.fields.has(field) ? this.floats(node, field, opts) : null;
  }

  /** An integer field; a 0-d value or a single one repeated to `count` (a pair for 2-d ops). */
  ints(node: NirNode, field: string, count: number, fallback?: number[]): number[] {
    const v = this.value(node, field);
    if (!v) {
      if (fallback) return fallback;
      this.fail(node, `missing field "${field}"`);
    }
    if (v.kind !== 'number') this.fail(node, `field "${field}" is a string, expected integers`);
    const values = Array.from(v.data);
    if (values.some((x) => !Number.isSafeInteger(x))) this.fail(node, `field "${field}" holds ${values.join(', ')}, expected integers`);
    if (values.length === 1 && count > 1) return Array(count).fill(values[0]);
    if (values.length !== count) this.fail(node, `field "${field}" has ${values.length} values, expected ${count}`);
    return values;
  }

  /**
   * A per-neuron parameter of a layer of `shape`: 0-d broadcasts; a leading batch axis of 1 is dropped. Returned as
   * one value per neuron.
   */
  neuronValues(node: NirNode, field: string, shape: number[], values: { shape: number[]; data: Float32Array }): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    if (values.data.length === 1) return new Float32Array(n).fill(values.data[0]);
    let s = values.shape;
    while (s.length > shape.length && s[0] === 1) s = s.slice(1);
    const same = s.length === shape.length && s.every((x, i) => x === shape[i]);
    const perChannel = s.length === 1 && s[0] === shape[0] && shape.length === 3;
    if (!same && !perChannel) this.fail(node, `field "${field}" has shape [${values.shape.join(',')}], expected [] or the layer's [${shape.join(',')}]`);
    if (same) return values.data;
    const hw = n / shape[0];
    const out = new Float32Array(n);
    for (let c = 0; c < shape[0]; c++) out.fill(values.data[c], c * hw, (c + 1) * hw);
    return out;
  }

  /** A neuron parameter for the graph JSON: a number when uniform, a [C] tensor when per channel, else per neuron. */
  param(layer: string, field: string, shape: number[], values: Float32Array): number | string {
    if (values.every((x) => Object.is(x, values[0]))) return values[0];
    if (shape.length === 3) {
      const [C] = shape;
      const hw = values.length / C;
      let perChannel = true;
      for (let c = 0; c < C && perChannel; c++)
        for (let i = 1; i < hw; i++)
          if (!Object.is(values[c * hw + i], values[c * hw])) {
            perChannel = false;
            break;
          }
      if (perChannel) return this.tensor(`${layer}.${field}`, [C], Float32Array.from({ length: C }, (_, c) => values[c * hw]));
    }
    return this.tensor(`${layer}.${field}`, shape, values);
  }

  /** An affine layer `x*gain + shift` before a neuron, when the gain is not 1 or there is a leak current. */
  inputAffine(node: NirNode, layer: string, shape: number[], gain: Float64Array, shift: Float64Array): void {
    const unit = gain.every((g) => g === 1) && shift.every((s) => s === 0);
    if (unit) return;
    const C = shape[0];
    const per = gain.length / C;
    const scale = new Float32Array(C);
    const add = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      scale[c] = f32(gain[c * per]);
      add[c] = f32(shift[c * per]);
      for (let i = 1; i < per; i++)
        if (f32(gain[c * per + i]) !== scale[c] || f32(shift[c * per + i]) !== add[c])
          this.fail(node, `its input gain or leak current differs within channel ${c}; spikelens applies them per channel`);
    }
    const name = this.layerName(`${layer}.in`);
    this.layers.push({ name, op: 'affine', scale: this.tensor(`${name}.scale`, [C], scale), shift: this.tensor(`${name}.shift`, [C], add) });
  }

  /** The exact decay a spikelens-written node records in its metadata, when reading with its hints. */
  recorded(node: NirNode, key: 'beta' | 'alpha', shape: number[]): Float32Array | null {
    const v = node.metadata.get(key);
    if (!this.exact || !v || v.kind !== 'number') return null;
    const n = shape.reduce((a, x) => a * x, 1);
    return v.data.length === n ? Float32Array.from(v.data) : null;
  }

  /** Per-neuron decay, input gain and leak current of one time constant, by the integration rule. */
  decay(node: NirNode, tau: Float32Array, field: string): { beta: Float32Array; step: Float64Array } {
    const { dt, integration } = this.d;
    const beta = new Float32Array(tau.length);
    const step = new Float64Array(tau.length);
    let lost = 0;
    for (let i = 0; i < tau.length; i++) {
      const t = tau[i];
      if (!(t > 0)) this.fail(node, `field "${field}" element ${i} is ${t}, expected a time constant > 0`);
      beta[i] = integration === 'euler' ? eulerBeta(dt, t) : f32(Math.exp(-dt / t));
      step[i] = integration === 'euler' ? dt / t : 1 - Math.exp(-dt / t);
      // Does the float32 beta still say what tau was? Exporters compute tau = dt/(1-beta) in float64 or float32
      // (snnTorch: torch float32); within 4 float32 ulps of the stored tau counts as given back.
      if (integration === 'euler' && Number.isFinite(t)) {
        const tol = 4 * 2 ** (Math.floor(Math.log2(t)) - 23);
        const back = [f32(dt / (1 - beta[i])), f32(f32(dt) / f32(1 - beta[i]))];
        if (back.every((x) => !(Math.abs(x - t) <= tol))) lost++;
      }
    }
    if (lost) {
      this.warnings.push(
        `node "${node.name}": dt/(1-beta) does not give back the stored ${field} for ${lost} of ${tau.length} neurons: the float32 beta has lost it (is dt ${dt} right for this file?)`,
      );
    }
    for (let i = 0; i < beta.length; i++)
      if (beta[i] < 0) this.fail(node, `dt ${dt} is larger than ${field} (${tau[i]}): beta would be ${beta[i]}; give a smaller --dt`);
    return { beta, step };
  }

  /** The input gain to use, by the preset's rule (NIR's own, none, or none after checking NIR's is 1). */
  gain(node: NirNode, computed: Float64Array, what: string): Float64Array {
    // r and tau both infinite (snnTorch's r = tau/dt for a beta of 1): r*dt/tau is 1 by construction.
    const raw = computed.map((g) => (Number.isNaN(g) ? 1 : g));
    for (let i = 0; i < raw.length; i++)
      if (!Number.isFinite(raw[i])) this.fail(node, `its ${what} is ${raw[i]} for neuron ${i}`);
    if (this.d.gain === 'unit') return raw.map(() => 1);
    if (this.d.gain === 'unit-checked') {
      let worst = 0;
      for (const g of raw) worst = Math.max(worst, Math.abs(g - 1));
      if (worst > 1e-3)
        this.warnings.push(`node "${node.name}": its ${what} is up to ${(1 + worst).toPrecision(6)}, not 1; the preset applies none (a different dt or exporter?)`);
      return raw.map(() => 1);
    }
    return raw.map((g) => (Math.abs(g - 1) <= 1e-6 ? 1 : g));
  }

  /** Thresholds as spikelens compares them: the next float32 below, for a library that fires at v >= threshold. */
  thresholds(values: Float32Array): Float32Array {
    return this.d.fireAtThreshold ? values.map(below) : values;
  }
}

function shapeOf(node: NirNode, b: Builder, field: string): number[] {
  const v = node.fields.get(field);
  if (!v || v.kind !== 'number') b.fail(node, `missing field "${field}"`);
  const s = Array.from(v.data);
  if (!s.every((x) => Number.isSafeInteger(x) && x >= 1)) b.fail(node, `field "${field}" is [${s.join(',')}], expected positive sizes`);
  return s;
}

/** Turns the chain into a spikelens model. */
export function nirToModel(chain: NirChain, file: string, options: NirImportOptions = {}): NirImport {
  // Without a preset or flags, a file spikelens wrote is read with the dt and reset it recorded.
  const hints = options.preset === undefined && options.dt === undefined && options.reset === undefined && options.resetDelay === undefined ? fileHints(chain) : null;
  const o: NirImportOptions = hints ? { ...options, ...hints } : options;
  const d = discretisation(o);
  const b = new Builder(file, d);
  b.exact = hints !== null;
  if (hints) b.warnings.push(`no preset given: using the time step (${hints.dt}) and reset rule the file's spikelens metadata records`);
  let shape = shapeOf(chain.input, b, 'shape');
  while (shape.length > 3 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length !== 1 && shape.length !== 3)
    b.fail(chain.input, `input shape [${shape.join(',')}]: spikelens takes [C, H, W] or [N] per sample`);
  const inputShape = shape;
  let neurons = 0;
  let last: NirNode | null = null;
  for (const node of chain.nodes) {
    const name = b.layerName(node.name);
    const conv = () => {
      if (shape.length !== 3) b.fail(node, `needs a [C, H, W] input, got [${shape.join(',')}]`);
      return shape as [number, number, number];
    };
    switch (node.type) {
      case 'Conv2d': {
        const [C, H, W] = conv();
        const w = b.floats(node, 'weight');
        if (w.shape.length !== 4) b.fail(node, `field "weight" has shape [${w.shape.join(',')}], expected [Cout, Cin/groups, kH, kW]`);
        const [Cout, cinG, kH, kW] = w.shape;
        const groups = b.ints(node, 'groups', 1, [1])[0];
        if (groups < 1 || C % groups !== 0 || cinG * groups !== C)
          b.fail(node, `weight [${w.shape.join(',')}] with groups ${groups} does not take the ${C} input channels`);
        const stride = b.ints(node, 'stride', 2, [1, 1]);
        const dilation = b.ints(node, 'dilation', 2, [1, 1]);
        let padding: number[] = [0, 0];
        const pv = node.fields.get('padding');
        if (pv && pv.kind === 'string') {
          const mode = pv.data[0];
          if (mode === 'valid') padding = [0, 0];
          else if (mode === 'same') {
            if (stride.some((s) => s !== 1)) b.fail(node, `"same" padding with stride [${stride.join(',')}]: PyTorch defines it for stride 1 only`);
            padding = [0, 1].map((a) => {
              const total = dilation[a] * ([kH, kW][a] - 1);
              if (total % 2 !== 0)
                b.fail(node, `"same" padding of a ${kH}x${kW} kernel (dilation ${dilation.join('x')}) is asymmetric (${total} pixels on axis ${a}); spikelens pads symmetrically`);
              return total / 2;
            });
          } else b.fail(node, `padding "${mode}": expected "same", "valid" or numbers`);
        } else padding = b.ints(node, 'padding', 2, [0, 0]);
        if (node.fields.has('input_shape')) {
          const is = b.ints(node, 'input_shape', 2);
          if (is[0] !== H || is[1] !== W) b.fail(node, `field "input_shape" is [${is.join(',')}], but its input is ${H}x${W}`);
        }
        const bias = b.optionalFloats(node, 'bias');
        let biasName: string | null = null;
        if (bias) {
          const bv = bias.data.length === 1 ? new Float32Array(Cout).fill(bias.data[0]) : bias.data;
          if (bv.length !== Cout) b.fail(node, `field "bias" has ${bias.data.length} values, expected ${Cout}`);
          biasName = b.tensor(`${name}.bias`, [Cout], bv);
        }
        b.layers.push({ name, op: 'conv2d', weight: b.tensor(`${name}.weight`, w.shape, w.data), bias: biasName, stride, padding, dilation, groups });
        const out = (n: number, k: number, a: number) => Math.floor((n + 2 * padding[a] - dilation[a] * (k - 1) - 1) / stride[a]) + 1;
        shape = [Cout, out(H, kH, 0), out(W, kW, 1)];
        if (shape[1] < 1 || shape[2] < 1) b.fail(node, `its output would be ${shape[1]}x${shape[2]}`);
        break;
      }
      case 'Linear':
      case 'Affine': {
        if (shape.length !== 1) b.fail(node, `needs a flat input (a Flatten node before it), got [${shape.join(',')}]`);
        const w = b.floats(node, 'weight');
        if (w.shape.length !== 2 || w.shape[1] !== shape[0]) b.fail(node, `field "weight" has shape [${w.shape.join(',')}], expected [out, ${shape[0]}]`);
        let biasName: string | null = null;
        if (node.type === 'Affine') {
          const bias = b.floats(node, 'bias');
          const bv = bias.data.length === 1 ? new Float32Array(w.shape[0]).fill(bias.data[0]) : bias.data;
          if (bv.length !== w.shape[0]) b.fail(node, `field "bias" has ${bias.data.length} values, expected ${w.shape[0]}`);
          biasName = b.tensor(`${name}.bias`, [w.shape[0]], bv);
        }
        b.layers.push({ name, op: 'linear', weight: b.tensor(`${name}.weight`, w.shape, w.data), bias: biasName });
        shape = [w.shape[0]];
        break;
      }
      case 'AvgPool2d':
      case 'SumPool2d': {
        const [C, H, W] = conv();
        const kernel = b.ints(node, 'kernel_size', 2);
        const stride = b.ints(node, 'stride', 2, kernel);
        const padding = b.ints(node, 'padding', 2, [0, 0]);
        b.layers.push({ name, op: node.type === 'AvgPool2d' ? 'avgpool2d' : 'sumpool2d', kernel, stride, padding });
        const out = (n: number, a: number) => Math.floor((n + 2 * padding[a] - kernel[a]) / stride[a]) + 1;
        shape = [C, out(H, 0), out(W, 1)];
        if (shape[1] < 1 || shape[2] < 1) b.fail(node, `its output would be ${shape[1]}x${shape[2]}`);
        break;
      }
      case 'Flatten': {
        const start = b.ints(node, 'start_dim', 1, [0])[0];
        const end = b.ints(node, 'end_dim', 1, [-1])[0];
        const it = node.fields.get('input_type');
        const typeRank = it && it.kind === 'number' ? it.data.length : null;
        const rank = shape.length;
        const endNorm = end < 0 ? rank + end : end;
        const whole = start === 0 && endNorm === rank - 1;
        // start_dim 1 counts a batch axis when input_type has one (or says nothing): it still flattens everything.
        const batched = start === 1 && (end === -1 || end === rank) && (typeRank === null || typeRank === rank + 1);
        if (!whole && !batched) b.fail(node, `flattens dims ${start}..${end} of [${shape.join(',')}]; spikelens flattens a whole sample only`);
        if (batched) b.warnings.push(`node "${node.name}": start_dim 1 read as counting a batch axis: the whole sample is flattened`);
        b.layers.push({ name, op: 'flatten' });
        shape = [shape.reduce((a, x) => a * x, 1)];
        break;
      }
      case 'Scale': {
        const s = b.floats(node, 'scale');
        const values = b.neuronValues(node, 'scale', shape, s);
        const C = shape[0];
        const per = values.length / C;
        const scale = new Float32Array(C);
        for (let c = 0; c < C; c++) {
          scale[c] = values[c * per];
          for (let i = 1; i < per; i++) if (values[c * per + i] !== scale[c]) b.fail(node, `its scale differs within channel ${c}; spikelens scales per channel`);
        }
        b.layers.push({ name, op: 'affine', scale: b.tensor(`${name}.scale`, [C], scale), shift: 0 });
        break;
      }
      case 'Threshold': {
        const thr = b.neuronValues(node, 'threshold', shape, b.floats(node, 'threshold'));
        // NIR's Threshold node is a strict z = x > threshold in every reading.
        b.layers.push({ name, op: 'lif', beta: 0, threshold: b.param(name, 'threshold', shape, thr), reset: 'none', resetDelay: false });
        neurons++;
        break;
      }
      case 'LIF':
      case 'CubaLIF': {
        const cuba = node.type === 'CubaLIF';
        const tauField = cuba ? 'tau_mem' : 'tau';
        const tau = b.neuronValues(node, tauField, shape, b.floats(node, tauField, { allowInf: true }));
        // snnTorch writes r = tau/dt, infinite for a beta of 1 (tau infinite too): the gain is then 1 by construction.
        const r = b.neuronValues(node, 'r', shape, b.optionalFloats(node, 'r', { allowInf: true }) ?? { shape: [], data: Float32Array.of(1) });
        const leak = b.neuronValues(node, 'v_leak', shape, b.optionalFloats(node, 'v_leak') ?? { shape: [], data: Float32Array.of(0) });
        const thr = b.thresholds(b.neuronValues(node, 'v_threshold', shape, b.floats(node, 'v_threshold')));
        const vr = b.neuronValues(node, 'v_reset', shape, b.optionalFloats(node, 'v_reset') ?? { shape: [], data: Float32Array.of(0) });
        const mem = b.decay(node, tau, tauField);
        mem.beta = b.recorded(node, 'beta', shape) ?? mem.beta;
        let gain = b.gain(node, Float64Array.from(r, (x, i) => x * (d.integration === 'euler' ? mem.step[i] : 1 - mem.beta[i])), 'input gain r*dt/tau');
        let alpha: Float32Array | null = null;
        if (cuba) {
          const tauSyn = b.neuronValues(node, 'tau_syn', shape, b.floats(node, 'tau_syn', { allowInf: true }));
          const win = b.neuronValues(node, 'w_in', shape, b.optionalFloats(node, 'w_in', { allowInf: true }) ?? { shape: [], data: Float32Array.of(1) });
          const syn = b.decay(node, tauSyn, 'tau_syn');
          alpha = b.recorded(node, 'alpha', shape) ?? syn.beta;
          const synGain = b.gain(node, Float64Array.from(win, (x, i) => x * syn.step[i]), 'synaptic gain w_in*dt/tau_syn');
          gain = gain.map((g, i) => g * synGain[i]);
        }
        const shift = Float64Array.from(leak, (v, i) => v * mem.step[i]);
        b.inputAffine(node, name, shape, gain, shift);
        b.layers.push({
          name,
          op: cuba ? 'cubalif' : 'lif',
          ...(alpha ? { alpha: b.param(name, 'alpha', shape, alpha) } : {}),
          beta: b.param(name, 'beta', shape, mem.beta),
          threshold: b.param(name, 'threshold', shape, thr),
          vReset: b.param(name, 'vReset', shape, vr),
          reset: d.reset,
          resetDelay: d.resetDelay,
        });
        neurons++;
        break;
      }
      case 'IF': {
        const r = b.neuronValues(node, 'r', shape, b.optionalFloats(node, 'r') ?? { shape: [], data: Float32Array.of(1) });
        const thr = b.thresholds(b.neuronValues(node, 'v_threshold', shape, b.floats(node, 'v_threshold')));
        const vr = b.neuronValues(node, 'v_reset', shape, b.optionalFloats(node, 'v_reset') ?? { shape: [], data: Float32Array.of(0) });
        const gain = Float64Array.from(r, (x) => (d.ifGain === 'unit' ? 1 : d.ifGain === 'r' ? x : x * d.dt));
        b.inputAffine(node, name, shape, gain.map((g) => (Math.abs(g - 1) <= 1e-6 ? 1 : g)), new Float64Array(gain.length));
        b.layers.push({ name, op: 'if', threshold: b.param(name, 'threshold', shape, thr), vReset: b.param(name, 'vReset', shape, vr), reset: d.reset, resetDelay: d.resetDelay });
        neurons++;
        break;
      }
      case 'I': {
        // NIR's integrator, dv/dt = R*I: one Euler step adds r*dt times the input; no leak.
        const r = b.neuronValues(node, 'r', shape, b.optionalFloats(node, 'r') ?? { shape: [], data: Float32Array.of(1) });
        const gain = b.gain(node, Float64Array.from(r, (x) => x * d.dt), 'input gain r*dt');
        b.inputAffine(node, name, shape, gain, new Float64Array(gain.length));
        b.layers.push({ name, op: 'li', beta: 1 });
        break;
      }
      case 'LI': {
        const tau = b.neuronValues(node, 'tau', shape, b.floats(node, 'tau', { allowInf: true }));
        const r = b.neuronValues(node, 'r', shape, b.optionalFloats(node, 'r') ?? { shape: [], data: Float32Array.of(1) });
        const leak = b.neuronValues(node, 'v_leak', shape, b.optionalFloats(node, 'v_leak') ?? { shape: [], data: Float32Array.of(0) });
        const mem = b.decay(node, tau, 'tau');
        const gain = b.gain(node, Float64Array.from(r, (x, i) => x * (d.integration === 'euler' ? mem.step[i] : 1 - mem.beta[i])), 'input gain r*dt/tau');
        mem.beta = b.recorded(node, 'beta', shape) ?? mem.beta;
        b.inputAffine(node, name, shape, gain, Float64Array.from(leak, (v, i) => v * mem.step[i]));
        b.layers.push({ name, op: 'li', beta: b.param(name, 'beta', shape, mem.beta) });
        break;
      }
      default:
        b.fail(node, `no spikelens op runs this NIR type (supported: ${NIR_TYPES.join(', ')})`);
    }
    last = node;
  }
  if (!last) throw new InputError(file, 'the graph has no nodes between its Input and Output');
  const outShape = chain.output.fields.get('shape');
  if (outShape && outShape.kind === 'number') {
    const want = Array.from(outShape.data).reduce((a, x) => a * x, 1);
    const got = shape.reduce((a, x) => a * x, 1);
    if (want !== got) b.warnings.push(`the Output node says shape [${Array.from(outShape.data).join(',')}], the graph computes [${shape.join(',')}]`);
  }
  if (neurons && d.caveats.length) b.warnings.push(...d.caveats);

  const readout = o.readout ?? (last.type === 'LI' || last.type === 'I' ? 'final' : 'count');
  const base = file.split(/[\\/]/).pop()!.replace(/\.nir$/i, '');
  const graph = {
    format: 'spikelens.model/1',
    name: o.name ?? base,
    input: {
      shape: inputShape,
      preprocess: { scale: o.scale ?? 1, mean: [...(o.mean ?? [0])], std: [...(o.std ?? [1])] },
      encoding: { kind: o.encoding ?? 'direct', gain: o.gain ?? 1 },
      labels: o.labels ? [...o.labels] : null,
    },
    timesteps: o.timesteps ?? null,
    readout,
    layers: b.layers,
    meta: { source: 'nir', nirVersion: chain.version, preset: o.preset ?? 'snntorch', dt: d.dt, integration: d.integration, reset: d.reset, resetDelay: d.resetDelay },
  };
  const safetensors = modelToSafetensors(graph, b.tensors);
  const model = parseModel(safetensors, file);
  return { model, safetensors, warnings: b.warnings, discretisation: d };
}
