/**
 * NIR graph -> the one in-memory model (docs/model-format.md). The chain of NIR nodes becomes a spikelens graph
 * (JSON) with its tensors, which then goes through the same parser and checks as a .safetensors model; what NIR
 * cannot say (time step, reset rule and timing, input encoding, time steps, labels) comes from the options, the
 * preset or the file's own spikelens hints (docs/nir.md).
 *
 * Every size is checked before anything is allocated from it: a shape against LIMITS.layerNeurons, a field's
 * dataset against the shape it must have (then LIMITS.tensorBytes when it is read), and only the fields a node
 * uses are read.
 */
import { InputError, UsageError } from '../../errors.js';
import { LIMITS, boundedProduct } from '../../limits.js';
import type { EncodingKind, Model, Readout, ResetRule } from '../../model.js';
import { modelToSafetensors, parseModel } from '../graph.js';
import type { SafetensorsInput } from '../safetensors.js';
import { nirChain, type NirChain, type NirNode } from './graph.js';
import { clip, readHdf5, showShape, type H5Dataset } from './hdf5.js';
import { PRESETS, PRESET_NAMES, eulerBeta, eulerStep, type Discretisation, type Integration, type PresetName } from './presets.js';

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

/** What `meta.preset` of an imported model says when the file's spikelens hints decided, not a preset. */
export const HINTS_PRESET = 'file-hints';

/** Reads a .nir file (HDF5) into a spikelens model; only the datasets the graph uses are read. */
export async function readNir(bytes: Uint8Array, file: string, options: NirImportOptions = {}): Promise<NirImport> {
  return readHdf5(bytes, file, (root) => nirToModel(nirChain(root, file), file, options));
}

/** A number dataset's values (its class checked by the caller). */
function numbersOf(v: H5Dataset): number[] {
  const value = v.read();
  return value.kind === 'number' ? Array.from(value.data) : [];
}

function nodeError(file: string, node: NirNode, message: string): InputError {
  return new InputError(file, `node "${clip(node.name)}" (${node.type}): ${message}`);
}

/**
 * The time step and reset rule spikelens wrote into a file's neuron nodes, when every neuron agrees on them. A hint
 * that is there but is no time step (NaN, 0, negative, not one number) is a problem of the file: an InputError.
 */
export function fileHints(chain: NirChain, file = ''): { dt: number; reset?: ResetRule; resetDelay?: boolean } | null {
  const dts = new Set<number>();
  const resets = new Set<ResetRule>();
  const delays = new Set<boolean>();
  for (const n of chain.nodes) {
    const dt = n.metadata.get('dt');
    const reset = n.metadata.get('reset');
    const delay = n.metadata.get('reset_delay');
    if (dt) {
      if (dt.class !== 'number' || dt.count !== 1)
        throw nodeError(file, n, `metadata "dt" is ${dt.class === 'number' ? `a ${showShape(dt.shape)} array` : `a ${dt.class} dataset`}, expected one time step > 0`);
      const v = numbersOf(dt)[0];
      if (!(Number.isFinite(v) && v > 0)) throw nodeError(file, n, `metadata "dt" is ${v}, expected a time step > 0`);
      dts.add(v);
    }
    if (reset && reset.class === 'string' && reset.count === 1) {
      const r = reset.read().data[0] as string;
      if (['subtract', 'zero', 'none'].includes(r)) resets.add(r as ResetRule);
    }
    if (delay && delay.class === 'number' && delay.count === 1) delays.add(numbersOf(delay)[0] !== 0);
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
  if (!PRESET_NAMES.includes(name)) throw new UsageError(`unknown preset "${clip(String(name))}" (one of ${PRESET_NAMES.join(', ')})`);
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

interface FloatOptions {
  readonly allowInf?: boolean;
  /** A problem with the dataset's shape (what was expected), or null; checked before reading. */
  readonly expect?: (shape: readonly number[]) => string | null;
  /** Where the field is, when not among the node's fields (its metadata). */
  readonly from?: ReadonlyMap<string, H5Dataset>;
}

/** A float field's values with its shape (as stored, float32). */
interface Floats {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * A layer's per-neuron parameters are held at the coarsest granularity any of them needs: one value (1), one per
 * channel (C) or one per neuron (N); nothing is expanded past what the file stores.
 */
class Layout {
  readonly C: number;
  readonly N: number;
  constructor(readonly shape: readonly number[]) {
    this.C = shape[0];
    this.N = shape.reduce((a, b) => a * b, 1);
  }
  /** The size of the per-channel form of a value of `shape` (leading axes of 1 dropped), or null. */
  grainOf(shape: readonly number[]): number | null {
    const s = squeeze(shape, this.shape.length);
    if (s.reduce((a, b) => a * b, 1) === 1) return 1;
    if (s.length === this.shape.length && s.every((x, i) => x === this.shape[i])) return this.N;
    if (s.length === 1 && s[0] === this.C && this.shape.length === 3) return this.C;
    return null;
  }
}

/** A shape with leading axes of 1 dropped down to `rank` dimensions. */
function squeeze(shape: readonly number[], rank: number): readonly number[] {
  let s = shape;
  while (s.length > rank && s[0] === 1) s = s.slice(1);
  return s;
}

class Builder {
  readonly layers: Record<string, unknown>[] = [];
  readonly tensors: SafetensorsInput[] = [];
  readonly warnings: string[] = [];
  private readonly names = new Set<string>(['input']);
  private readonly said = new Set<string>();
  /** Use the exact decays spikelens recorded in the nodes' metadata (when reading with its hints). */
  exact = false;
  constructor(
    readonly file: string,
    readonly d: Discretisation,
  ) {}

  fail(node: NirNode, message: string): never {
    throw nodeError(this.file, node, message);
  }

  /** A warning said once per import. */
  warnOnce(message: string): void {
    if (!this.said.has(message)) this.warnings.push(message);
    this.said.add(message);
  }

  /** A unique valid layer name for a NIR node name (at most LIMITS.nameChars characters). */
  layerName(raw: string): string {
    let name = raw.replace(/[^A-Za-z0-9_.-]/g, '_');
    if (!/^[A-Za-z0-9_]/.test(name)) name = `_${name}`;
    if (name.length > LIMITS.nameChars - 8) name = name.slice(0, LIMITS.nameChars - 8);
    let unique = name;
    for (let k = 2; this.names.has(unique); k++) unique = `${name}_${k}`;
    if (unique !== raw) this.warnings.push(`node "${clip(raw)}" is called layer "${clip(unique)}" (spikelens layer names are [A-Za-z0-9_][A-Za-z0-9_.-]*, at most ${LIMITS.nameChars} characters)`);
    this.names.add(unique);
    return unique;
  }

  tensor(name: string, shape: readonly number[], data: Float32Array): string {
    this.tensors.push({ name, dtype: 'F32', shape: [...shape], data });
    return name;
  }

  /** A layer's output shape, checked against LIMITS.layerNeurons before anything of that size is made. */
  neurons(node: NirNode, shape: number[], what = 'its output'): number[] {
    if (!(boundedProduct(shape, LIMITS.layerNeurons) <= LIMITS.layerNeurons))
      this.fail(node, `${what} ${showShape(shape)} has more than the ${LIMITS.layerNeurons} elements per sample a layer may have`);
    return shape;
  }

  /** A field's dataset, checked to hold numbers. */
  dataset(node: NirNode, field: string, from: ReadonlyMap<string, H5Dataset> = node.fields): H5Dataset | undefined {
    const v = from.get(field);
    if (v && v.class !== 'number') this.fail(node, `field "${field}" is a ${v.class} dataset, expected numbers`);
    return v;
  }

  /**
   * A float field as float32, checked finite (Infinity allowed where `allowInf`). `expect`, when given, checks the
   * dataset's shape from its header before its values are read.
   */
  floats(node: NirNode, field: string, opts: FloatOptions = {}): Floats {
    const label = opts.from ? `metadata "${field}"` : `field "${field}"`;
    const v = this.dataset(node, field, opts.from);
    if (!v) this.fail(node, `missing ${label}`);
    const problem = opts.expect?.(v.shape);
    if (problem) this.fail(node, `${label} has shape ${showShape(v.shape)}, expected ${problem}`);
    const value = v.read();
    const raw = value.data as Float32Array | Float64Array;
    const data = raw instanceof Float32Array ? raw : Float32Array.from(raw, (x) => f32(x));
    for (let i = 0; i < data.length; i++) {
      const x = data[i];
      if (Number.isNaN(x) || (!opts.allowInf && !Number.isFinite(x))) this.fail(node, `${label} element ${i} is ${x}, expected a finite number`);
    }
    return { shape: v.shape, data };
  }

  /**
   * A per-neuron parameter of a layer: 0-d, one per channel, or the layer's shape (after leading 1s), checked from
   * the dataset's header before it is read; `fallback` when the field is absent.
   */
  neuronField(node: NirNode, field: string, layout: Layout, opts: FloatOptions & { fallback?: number } = {}): Floats {
    if (!(opts.from ?? node.fields).has(field) && opts.fallback !== undefined) return { shape: [], data: Float32Array.of(opts.fallback) };
    const want = `[] or the layer's ${showShape(layout.shape)}${layout.shape.length === 3 ? ` or [${layout.C}]` : ''}`;
    return this.floats(node, field, { ...opts, expect: (s) => (layout.grainOf(s) === null ? want : null) });
  }

  /** The values of `fields` brought to one granularity (the finest any of them has). */
  align(layout: Layout, fields: (Floats | null)[]): Float32Array[] {
    const grain = Math.max(1, ...fields.map((f) => (f ? layout.grainOf(f.shape)! : 1)));
    return fields.map((f) => (f ? expand(f, layout, grain) : new Float32Array(0)));
  }

  /** An integer field; a 0-d value or a single one repeated to `count` (a pair for 2-d ops). */
  ints(node: NirNode, field: string, count: number, fallback?: number[]): number[] {
    const v = this.dataset(node, field);
    if (!v) {
      if (fallback) return fallback;
      this.fail(node, `missing field "${field}"`);
    }
    if (v.count !== 1 && v.count !== count) this.fail(node, `field "${field}" has ${v.count} values, expected ${count}`);
    const values = numbersOf(v);
    if (values.some((x) => !Number.isSafeInteger(x))) this.fail(node, `field "${field}" holds ${clip(values.join(', '), 60)}, expected integers`);
    return values.length === 1 && count > 1 ? Array(count).fill(values[0]) : values;
  }

  /** A neuron parameter for the graph JSON: a number when uniform, a [C] tensor when per channel, else per neuron. */
  param(layer: string, field: string, layout: Layout, values: Float32Array): number | string {
    if (values.every((x) => Object.is(x, values[0]))) return values[0];
    const { shape, C, N } = layout;
    if (values.length !== N || shape.length !== 3) return this.tensor(`${layer}.${field}`, values.length === N ? shape : [C], values);
    const hw = N / C;
    for (let c = 0; c < C; c++)
      for (let i = 1; i < hw; i++) if (!Object.is(values[c * hw + i], values[c * hw])) return this.tensor(`${layer}.${field}`, shape, values);
    return this.tensor(`${layer}.${field}`, [C], Float32Array.from({ length: C }, (_, c) => values[c * hw]));
  }

  /** `x*scale + shift` as an affine layer `name` (a new layer), one value per channel; nothing for the identity. */
  affine(node: NirNode, name: string, layout: Layout, scale: Float64Array, shift: Float64Array, what: string): void {
    if (scale.every((g) => g === 1) && shift.every((s) => s === 0)) return;
    this.affineLayer(node, this.layerName(name), layout, scale, shift, what);
  }

  /** An affine layer of an already chosen name. */
  affineLayer(node: NirNode, name: string, layout: Layout, scale: Float64Array, shift: Float64Array, what: string): void {
    const per = (values: Float64Array, field: string): number | string => {
      const v = Float32Array.from(values, (x) => f32(x));
      if (v.every((x) => x === v[0])) return v[0];
      if (v.length === layout.C) return this.tensor(`${name}.${field}`, [layout.C], v);
      const hw = layout.N / layout.C;
      const out = new Float32Array(layout.C);
      for (let c = 0; c < layout.C; c++) {
        out[c] = v[c * hw];
        for (let i = 1; i < hw; i++) if (v[c * hw + i] !== out[c]) this.fail(node, `its ${what} differs within channel ${c}; spikelens applies it per channel`);
      }
      return this.tensor(`${name}.${field}`, [layout.C], out);
    };
    this.layers.push({ name, op: 'affine', scale: per(scale, 'scale'), shift: per(shift, 'shift') });
  }

  /**
   * One time constant read by the integration rule: the decay (the exact one spikelens recorded, when reading with
   * its hints) and the step s that multiplies the input (the gain is r*s) and v_leak (the leak current is s*v_leak).
   * Euler: beta = fl(1 - s), s = dt/tau (formed as the preset says). Exponential: beta = fl(exp(-dt/tau)) and
   * s = 1 - beta of that float32 beta, so a constant input x settles at r*x and the leak at v_leak. LIF, LI, and
   * CubaLIF's two time constants all go through here, so they agree for the same tau.
   */
  decay(node: NirNode, tau: Float32Array, field: string, recorded: Float32Array | null): { beta: Float32Array; s: Float64Array } {
    const { dt, integration, step } = this.d;
    const beta = new Float32Array(tau.length);
    const s = new Float64Array(tau.length);
    let lost = 0;
    for (let i = 0; i < tau.length; i++) {
      const t = tau[i];
      if (!(t > 0)) this.fail(node, `field "${field}" element ${i} is ${t}, expected a time constant > 0`);
      beta[i] = integration === 'euler' ? eulerBeta(dt, t, step) : f32(Math.exp(-dt / t));
      // Does the float32 beta still say what tau was? Exporters compute tau = dt/(1-beta) in float64 or float32
      // (snnTorch: torch float32); within 4 float32 ulps of the stored tau counts as given back.
      if (integration === 'euler' && Number.isFinite(t)) {
        const tol = 4 * 2 ** (Math.floor(Math.log2(t)) - 23);
        const back = [f32(dt / (1 - beta[i])), f32(f32(dt) / f32(1 - beta[i]))];
        if (back.every((x) => !(Math.abs(x - t) <= tol))) lost++;
      }
      if (beta[i] < 0)
        this.fail(node, `dt ${dt}${this.exact ? " (the file's hint)" : ''} is larger than ${field} (${t}): beta would be ${beta[i]}; give a smaller --dt`);
    }
    if (lost) {
      this.warnings.push(
        `node "${clip(node.name)}": dt/(1-beta) does not give back the stored ${field} for ${lost} of its ${tau.length} values: the float32 beta has lost it (is dt ${dt} right for this file?)`,
      );
    }
    if (recorded) beta.set(recorded);
    for (let i = 0; i < tau.length; i++) s[i] = integration === 'euler' ? eulerStep(dt, tau[i], step) : 1 - beta[i];
    return { beta, s };
  }

  /** The input gain to use, by the preset's rule (NIR's own, none, or none after checking NIR's is 1). */
  gain(node: NirNode, computed: Float64Array, what: string): Float64Array {
    // r and tau both infinite (snnTorch's r = tau/dt for a beta of 1): r*dt/tau is 1 by construction.
    const raw = computed.map((g) => (Number.isNaN(g) ? 1 : g));
    for (let i = 0; i < raw.length; i++) if (!Number.isFinite(raw[i])) this.fail(node, `its ${what} is ${raw[i]} for value ${i}`);
    if (this.d.gain === 'unit') return raw.map(() => 1);
    if (this.d.gain === 'unit-checked') {
      let worst = 0;
      for (const g of raw) worst = Math.max(worst, Math.abs(g - 1));
      if (worst > 1e-3)
        this.warnings.push(`node "${clip(node.name)}": its ${what} is up to ${(1 + worst).toPrecision(6)}, not 1; the preset applies none (a different dt or exporter?)`);
      return raw.map(() => 1);
    }
    return raw.map((g) => (Math.abs(g - 1) <= 1e-6 ? 1 : g));
  }

  /**
   * The spike test of a spiking node: a neuron that fires at v >= threshold gets the model's `fireAtThreshold`, and
   * keeps the real threshold, which a subtract reset takes away (docs/nir.md). Whether it does is what the file's
   * spikelens metadata records (`fire_at_threshold`) when reading with its hints, else what the preset's library does.
   */
  spikeTest(node: NirNode): { fireAtThreshold?: true } {
    let fire = this.d.fireAtThreshold;
    if (this.exact) {
      const m = node.metadata.get('fire_at_threshold');
      if (m && m.class === 'number' && m.count === 1) fire = numbersOf(m)[0] !== 0;
    }
    return fire ? { fireAtThreshold: true } : {};
  }

  /** The exact decay a spikelens-written node records in its metadata, when reading with its hints. */
  recorded(node: NirNode, key: 'beta' | 'alpha', layout: Layout): Floats | null {
    if (!this.exact) return null;
    const v = node.metadata.get(key);
    if (!v || v.class !== 'number' || layout.grainOf(v.shape) === null) return null;
    return this.floats(node, key, { from: node.metadata });
  }
}

/** `f` at granularity `grain` (1, C or N) of `layout`; `f`'s own granularity is at most `grain`. */
function expand(f: Floats, layout: Layout, grain: number): Float32Array {
  const own = layout.grainOf(f.shape)!;
  if (own === grain) return f.data;
  if (own === 1) return new Float32Array(grain).fill(f.data[0]);
  // per channel to per neuron
  const hw = layout.N / layout.C;
  const out = new Float32Array(layout.N);
  for (let c = 0; c < layout.C; c++) out.fill(f.data[c], c * hw, (c + 1) * hw);
  return out;
}

/** The Input node's shape: at most LIMITS.rank positive sizes, at most LIMITS.layerNeurons elements. */
function inputShape(node: NirNode, b: Builder): number[] {
  const v = b.dataset(node, 'shape');
  if (!v) b.fail(node, 'missing field "shape"');
  if (v.count > LIMITS.rank) b.fail(node, `field "shape" has ${v.count} values, more than ${LIMITS.rank} dimensions`);
  const s = numbersOf(v);
  if (!s.every((x) => Number.isSafeInteger(x) && x >= 1)) b.fail(node, `field "shape" is ${showShape(s)}, expected positive sizes`);
  return b.neurons(node, s, 'field "shape"');
}

/** Turns the chain into a spikelens model. */
export function nirToModel(chain: NirChain, file: string, options: NirImportOptions = {}): NirImport {
  // Without a preset or flags, a file spikelens wrote is read with the dt and reset it recorded.
  const hints = options.preset === undefined && options.dt === undefined && options.reset === undefined && options.resetDelay === undefined ? fileHints(chain, file) : null;
  const o: NirImportOptions = hints ? { ...options, ...hints } : options;
  const d = discretisation(o);
  const b = new Builder(file, d);
  b.exact = hints !== null;
  if (hints) b.warnings.push(`no preset given: using the time step (${hints.dt}) and reset rule the file's spikelens metadata records`);
  if (chain.nodes.length > LIMITS.layers) throw new InputError(file, `the graph has ${chain.nodes.length} nodes, more than the ${LIMITS.layers} layers a model may have`);
  let shape = inputShape(chain.input, b);
  while (shape.length > 3 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length !== 1 && shape.length !== 3) b.fail(chain.input, `input shape ${showShape(shape)}: spikelens takes [C, H, W] or [N] per sample`);
  const modelInput = shape;
  let neurons = 0;
  let last: NirNode | null = null;
  for (const node of chain.nodes) {
    const name = b.layerName(node.name);
    const conv = () => {
      if (shape.length !== 3) b.fail(node, `needs a [C, H, W] input, got ${showShape(shape)}`);
      return shape as [number, number, number];
    };
    const layout = new Layout(shape);
    switch (node.type) {
      case 'Conv2d': {
        const [C, H, W] = conv();
        const w = b.floats(node, 'weight', { expect: (s) => (s.length === 4 && s.every((x) => x >= 1) ? null : '[Cout, Cin/groups, kH, kW]') });
        const [Cout, cinG, kH, kW] = w.shape;
        const groups = b.ints(node, 'groups', 1, [1])[0];
        if (groups < 1 || C % groups !== 0 || cinG * groups !== C)
          b.fail(node, `weight ${showShape(w.shape)} with groups ${groups} does not take the ${C} input channels`);
        const stride = b.ints(node, 'stride', 2, [1, 1]);
        const dilation = b.ints(node, 'dilation', 2, [1, 1]);
        let padding: number[] = [0, 0];
        const pv = node.fields.get('padding');
        if (pv && pv.class === 'string') {
          if (pv.count !== 1) b.fail(node, `field "padding" holds ${pv.count} strings, expected one`);
          const mode = pv.read().data[0] as string;
          if (mode === 'valid') padding = [0, 0];
          else if (mode === 'same') {
            if (stride.some((s) => s !== 1)) b.fail(node, `"same" padding with stride [${stride.join(',')}]: PyTorch defines it for stride 1 only`);
            padding = [0, 1].map((a) => {
              const total = dilation[a] * ([kH, kW][a] - 1);
              if (total % 2 !== 0)
                b.fail(node, `"same" padding of a ${kH}x${kW} kernel (dilation ${dilation.join('x')}) is asymmetric (${total} pixels on axis ${a}); spikelens pads symmetrically`);
              return total / 2;
            });
          } else b.fail(node, `padding "${clip(mode)}": expected "same", "valid" or numbers`);
        } else padding = b.ints(node, 'padding', 2, [0, 0]);
        if (node.fields.has('input_shape')) {
          const is = b.ints(node, 'input_shape', 2);
          if (is[0] !== H || is[1] !== W) b.fail(node, `field "input_shape" is [${is.join(',')}], but its input is ${H}x${W}`);
        }
        const bias = node.fields.has('bias') ? b.floats(node, 'bias', { expect: (s) => (boundedProduct(s, Cout) === 1 || boundedProduct(s, Cout) === Cout ? null : `[${Cout}]`) }) : null;
        let biasName: string | null = null;
        if (bias) biasName = b.tensor(`${name}.bias`, [Cout], bias.data.length === 1 ? new Float32Array(Cout).fill(bias.data[0]) : bias.data);
        b.layers.push({ name, op: 'conv2d', weight: b.tensor(`${name}.weight`, w.shape, w.data), bias: biasName, stride, padding, dilation, groups });
        const out = (n: number, k: number, a: number) => Math.floor((n + 2 * padding[a] - dilation[a] * (k - 1) - 1) / stride[a]) + 1;
        shape = [Cout, out(H, kH, 0), out(W, kW, 1)];
        if (!(shape[1] >= 1 && shape[2] >= 1)) b.fail(node, `its output would be ${shape[1]}x${shape[2]}`);
        b.neurons(node, shape);
        break;
      }
      case 'Linear':
      case 'Affine': {
        if (shape.length !== 1) b.fail(node, `needs a flat input (a Flatten node before it), got ${showShape(shape)}`);
        const w = b.floats(node, 'weight', { expect: (s) => (s.length === 2 && s[0] >= 1 && s[1] === shape[0] ? null : `[out, ${shape[0]}]`) });
        const out = w.shape[0];
        b.neurons(node, [out]);
        let biasName: string | null = null;
        if (node.type === 'Affine') {
          const bias = b.floats(node, 'bias', { expect: (s) => (boundedProduct(s, out) === 1 || boundedProduct(s, out) === out ? null : `[${out}]`) });
          biasName = b.tensor(`${name}.bias`, [out], bias.data.length === 1 ? new Float32Array(out).fill(bias.data[0]) : bias.data);
        }
        b.layers.push({ name, op: 'linear', weight: b.tensor(`${name}.weight`, w.shape, w.data), bias: biasName });
        shape = [out];
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
        if (!(shape[1] >= 1 && shape[2] >= 1)) b.fail(node, `its output would be ${shape[1]}x${shape[2]}`);
        b.neurons(node, shape);
        break;
      }
      case 'Flatten': {
        const start = b.ints(node, 'start_dim', 1, [0])[0];
        const end = b.ints(node, 'end_dim', 1, [-1])[0];
        // Only input_type's rank is used: its header says it, nothing is read.
        const it = node.fields.get('input_type');
        const typeRank = it && it.class === 'number' ? it.count : null;
        const rank = shape.length;
        const endNorm = end < 0 ? rank + end : end;
        const whole = start === 0 && endNorm === rank - 1;
        // start_dim 1 counts a batch axis when input_type has one (or says nothing): it still flattens everything.
        const batched = start === 1 && (end === -1 || end === rank) && (typeRank === null || typeRank === rank + 1);
        if (!whole && !batched) b.fail(node, `flattens dims ${start}..${end} of ${showShape(shape)}; spikelens flattens a whole sample only`);
        if (batched) b.warnings.push(`node "${clip(node.name)}": start_dim 1 read as counting a batch axis: the whole sample is flattened`);
        b.layers.push({ name, op: 'flatten' });
        shape = [layout.N];
        break;
      }
      case 'Scale': {
        const [scale] = b.align(layout, [b.neuronField(node, 'scale', layout)]);
        b.affineLayer(node, name, layout, Float64Array.from(scale), new Float64Array(scale.length), 'scale');
        break;
      }
      case 'Threshold': {
        const [thr] = b.align(layout, [b.neuronField(node, 'threshold', layout)]);
        // NIR's Threshold node is a strict z = x > threshold in every reading.
        b.layers.push({ name, op: 'lif', beta: 0, threshold: b.param(name, 'threshold', layout, thr), reset: 'none', resetDelay: false });
        neurons++;
        break;
      }
      case 'LIF':
      case 'LI':
      case 'CubaLIF': {
        const cuba = node.type === 'CubaLIF';
        const spiking = node.type !== 'LI';
        const tauField = cuba ? 'tau_mem' : 'tau';
        const inf = { allowInf: true };
        // snnTorch writes r = tau/dt, infinite for a beta of 1 (tau infinite too): the gain is then 1 by construction.
        const [tau, r, leak, thrRaw, vr, beta0, tauSyn, win, alpha0] = b.align(layout, [
          b.neuronField(node, tauField, layout, inf),
          b.neuronField(node, 'r', layout, { ...inf, fallback: 1 }),
          b.neuronField(node, 'v_leak', layout, { fallback: 0 }),
          spiking ? b.neuronField(node, 'v_threshold', layout) : null,
          spiking ? b.neuronField(node, 'v_reset', layout, { fallback: 0 }) : null,
          b.recorded(node, 'beta', layout),
          cuba ? b.neuronField(node, 'tau_syn', layout, inf) : null,
          cuba ? b.neuronField(node, 'w_in', layout, { ...inf, fallback: 1 }) : null,
          cuba ? b.recorded(node, 'alpha', layout) : null,
        ]);
        const mem = b.decay(node, tau, tauField, beta0.length ? beta0 : null);
        let gain = b.gain(node, Float64Array.from(r, (x, i) => x * mem.s[i]), `input gain r*dt/${tauField}`);
        const shift = Float64Array.from(leak, (v, i) => v * mem.s[i]);
        const leaky = shift.some((x) => x !== 0);
        let alpha: Float32Array | null = null;
        if (cuba) {
          const syn = b.decay(node, tauSyn, 'tau_syn', alpha0.length ? alpha0 : null);
          alpha = syn.beta;
          const synGain = b.gain(node, Float64Array.from(win, (x, i) => x * syn.s[i]), 'synaptic gain w_in*dt/tau_syn');
          gain = gain.map((g, i) => g * synGain[i]);
        }
        if (!spiking) {
          b.affine(node, `${name}.in`, layout, gain, shift, 'input gain or leak current');
          b.layers.push({ name, op: 'li', beta: b.param(name, 'beta', layout, mem.beta) });
          break;
        }
        const neuron = {
          beta: b.param(name, 'beta', layout, mem.beta),
          threshold: b.param(name, 'threshold', layout, thrRaw),
          vReset: b.param(name, 'vReset', layout, vr),
          reset: d.reset,
          resetDelay: d.resetDelay,
          ...b.spikeTest(node),
        };
        if (cuba && leaky) {
          // NIR: tau_mem dv/dt = (v_leak - v) + r*i. The leak enters the membrane, after the synaptic filter: the
          // cubalif op has no place for it, so the node becomes its two halves, which cubalif is bit for bit
          // (docs/semantics.md): li (the synaptic current, decay alpha) -> affine (+ leak current) -> lif.
          b.affine(node, `${name}.in`, layout, gain, new Float64Array(gain.length), 'input gain');
          const syn = b.layerName(`${name}.syn`);
          b.layers.push({ name: syn, op: 'li', beta: b.param(syn, 'beta', layout, alpha!) });
          b.affine(node, `${name}.leak`, layout, new Float64Array(shift.length).fill(1), shift, 'leak current');
          b.layers.push({ name, op: 'lif', ...neuron });
          if (o.preset === 'norse')
            b.warnOnce(`node "${clip(node.name)}": Norse's importer also leaks the synaptic current towards v_leak; spikelens follows NIR's equations (the leak enters the membrane only)`);
        } else {
          b.affine(node, `${name}.in`, layout, gain, shift, 'input gain or leak current');
          b.layers.push({ name, op: cuba ? 'cubalif' : 'lif', ...(alpha ? { alpha: b.param(name, 'alpha', layout, alpha) } : {}), ...neuron });
        }
        neurons++;
        break;
      }
      case 'IF': {
        const [r, thrRaw, vr] = b.align(layout, [
          b.neuronField(node, 'r', layout, { fallback: 1 }),
          b.neuronField(node, 'v_threshold', layout),
          b.neuronField(node, 'v_reset', layout, { fallback: 0 }),
        ]);
        const gain = Float64Array.from(r, (x) => (d.ifGain === 'unit' ? 1 : d.ifGain === 'r' ? x : x * d.dt));
        b.affine(node, `${name}.in`, layout, gain.map((g) => (Math.abs(g - 1) <= 1e-6 ? 1 : g)), new Float64Array(gain.length), 'input gain');
        b.layers.push({ name, op: 'if', threshold: b.param(name, 'threshold', layout, thrRaw), vReset: b.param(name, 'vReset', layout, vr), reset: d.reset, resetDelay: d.resetDelay, ...b.spikeTest(node) });
        neurons++;
        break;
      }
      case 'I': {
        // NIR's integrator, dv/dt = R*I: one Euler step adds r*dt times the input; no leak.
        const [r] = b.align(layout, [b.neuronField(node, 'r', layout, { fallback: 1 })]);
        const gain = b.gain(node, Float64Array.from(r, (x) => x * d.dt), 'input gain r*dt');
        b.affine(node, `${name}.in`, layout, gain, new Float64Array(gain.length), 'input gain');
        b.layers.push({ name, op: 'li', beta: 1 });
        break;
      }
      default:
        b.fail(node, `no spikelens op runs this NIR type (supported: ${NIR_TYPES.join(', ')})`);
    }
    last = node;
  }
  if (!last) throw new InputError(file, 'the graph has no nodes between its Input and Output');
  const outShape = chain.output.fields.get('shape');
  if (outShape && outShape.class === 'number' && outShape.count <= LIMITS.rank) {
    const dims = numbersOf(outShape);
    const want = boundedProduct(dims, LIMITS.layerNeurons);
    const got = shape.reduce((a, x) => a * x, 1);
    if (want !== got) b.warnings.push(`the Output node says shape ${showShape(dims)}, the graph computes ${showShape(shape)}`);
  }
  if (neurons && d.caveats.length) b.warnings.push(...d.caveats);

  const readout = o.readout ?? (last.type === 'LI' || last.type === 'I' ? 'final' : 'count');
  const base = file.split(/[\\/]/).pop()!.replace(/\.nir$/i, '');
  const graph = {
    format: 'spikelens.model/1',
    name: o.name ?? base,
    input: {
      shape: modelInput,
      preprocess: { scale: o.scale ?? 1, mean: [...(o.mean ?? [0])], std: [...(o.std ?? [1])] },
      encoding: { kind: o.encoding ?? 'direct', gain: o.gain ?? 1 },
      labels: o.labels ? [...o.labels] : null,
    },
    timesteps: o.timesteps ?? null,
    readout,
    layers: b.layers,
    meta: { source: 'nir', nirVersion: chain.version, preset: hints ? HINTS_PRESET : (o.preset ?? 'snntorch'), dt: d.dt, integration: d.integration, reset: d.reset, resetDelay: d.resetDelay },
  };
  const safetensors = modelToSafetensors(graph, b.tensors);
  const model = parseModel(safetensors, file);
  return { model, safetensors, warnings: b.warnings, discretisation: d };
}
