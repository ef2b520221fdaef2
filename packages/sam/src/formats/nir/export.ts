/**
 * A spikelens model -> a NIR file, laid out as snnTorch's `export_to_nir` + `nir.write` lay theirs out (the files in
 * conformance/nir-snntorch): `/version`, `/node/{type, edges, nodes/<name>/...}`, float32 parameters, int64 sizes,
 * gzip level 4 on neuron parameters, Affine/Linear weights and Input/Output shapes. Neurons are written the way
 * snnTorch writes a Leaky: tau = dt/(1-beta), r = tau/dt, v_leak 0, so NIR's input gain r*dt/tau is 1. The time step,
 * the reset rule and a spike at v >= threshold, which NIR cannot say, go into each neuron node's `metadata` group
 * (non-normative).
 */
import { InputError, UsageError } from '../../errors.js';
import type { Layer, Model, NeuronParam } from '../../model.js';
import { expandParam } from '../../geometry.js';
import { hdf5, hdf5Reason } from './hdf5.js';
import { eulerBeta } from './presets.js';

export interface NirExportOptions {
  /** Time step (seconds) the time constants are written for; default 1e-4, snnTorch's. */
  readonly dt?: number;
  /**
   * Write the spikelens metadata hints (dt, reset, resetDelay, fireAtThreshold, exact beta) into neuron nodes;
   * default true. Without them a layer with `fireAtThreshold` is refused: NIR has no field for it.
   */
  readonly hints?: boolean;
  /** Told what NIR cannot hold exactly (betas below 0.5 may come back a few float32 ulps off). */
  readonly onWarning?: (message: string) => void;
}

type Field =
  | { kind: 'f32'; data: Float32Array; shape: number[]; gzip?: boolean }
  | { kind: 'f64'; data: Float64Array; shape: number[] }
  | { kind: 'i64'; data: number[]; shape: number[]; gzip?: boolean }
  | { kind: 'str'; data: string };

interface NirNodeOut {
  readonly name: string;
  readonly type: string;
  readonly fields: Record<string, Field>;
  readonly metadata?: Record<string, Field>;
}

const f32 = Math.fround;

/**
 * The float32 tau whose import (beta = fl(1 - dt/tau), float64 then rounded) gives back `beta` exactly, or the
 * nearest miss: every beta >= 0.5 comes back exactly; smaller ones may not (tau has 24 bits), off by at most 1e-7.
 */
export function tauFor(beta: number, dt: number): number {
  const want = f32(beta);
  const back = (tau: number) => eulerBeta(dt, tau);
  const tau = f32(dt / (1 - want));
  if (back(tau) === want) return tau;
  let best = tau;
  // Walk the float32 neighbours of the estimate: the recovery is monotonic in tau.
  const buf = new Float32Array(1);
  const bits = new Uint32Array(buf.buffer);
  buf[0] = tau;
  for (let k = 1; k <= 64; k++) {
    for (const dir of [1, -1]) {
      const save = bits[0];
      bits[0] = save + dir * k;
      const t = buf[0];
      if (t > 0 && back(t) === want) return t;
      if (t > 0 && Math.abs(back(t) - want) < Math.abs(back(best) - want)) best = t;
      bits[0] = save;
    }
  }
  return best;
}

function perNeuron(p: NeuronParam, shape: readonly number[]): Float32Array {
  const C = shape.length === 3 ? shape[0] : shape[0];
  const HW = shape.length === 3 ? shape[1] * shape[2] : 1;
  return expandParam(p, C, HW, true);
}

function f(data: Float32Array, shape: readonly number[], gzip = false): Field {
  return { kind: 'f32', data, shape: [...shape], gzip };
}

function ints(data: number[], shape: number[] = [data.length], gzip = false): Field {
  return { kind: 'i64', data, shape, gzip };
}

function fail(model: Model, layer: Layer, message: string): never {
  throw new UsageError(`${model.file || 'the model'}: layer "${layer.name}" (${layer.op}) ${message}`);
}

function nodesOf(model: Model, o: Required<Omit<NirExportOptions, 'onWarning'>>, warn: (m: string) => void): NirNodeOut[] {
  const { dt } = o;
  const nodes: NirNodeOut[] = [{ name: 'input', type: 'Input', fields: { shape: ints([...model.input.shape], undefined, true) } }];
  for (const l of model.layers) {
    const shape = l.outShape;
    const hints = (op: string): Record<string, Field> | undefined =>
      o.hints && 'reset' in l
        ? {
            spikelens_op: { kind: 'str', data: op },
            dt: { kind: 'f64', data: Float64Array.of(dt), shape: [] },
            reset: { kind: 'str', data: l.reset },
            reset_delay: ints([l.resetDelay ? 1 : 0], []),
            // v >= threshold (docs/semantics.md §3), which NIR cannot say; written only when set
            ...(l.fireAtThreshold ? { fire_at_threshold: ints([1], []) } : {}),
          }
        : o.hints
          ? { spikelens_op: { kind: 'str', data: op }, dt: { kind: 'f64', data: Float64Array.of(dt), shape: [] } }
          : undefined;
    const taus = (beta: NeuronParam, what: string) => {
      const b = perNeuron(beta, shape);
      const tau = new Float32Array(b.length);
      let inexact = 0;
      for (let i = 0; i < b.length; i++) {
        if (!(b[i] >= 0 && b[i] < 1)) fail(model, l, `has ${what} ${b[i]}: NIR time constants need 0 <= ${what} < 1 (a ${what} of 1 is an IF/integrator)`);
        tau[i] = tauFor(b[i], dt);
        if (eulerBeta(dt, tau[i]) !== b[i]) inexact++;
      }
      if (inexact)
        warn(`layer "${l.name}": ${inexact} of ${b.length} neurons have a ${what} below 0.5 that no float32 tau gives back exactly (off by a few ulps when read with dt ${dt}; the spikelens metadata keeps it exact)`);
      return { tau, exact: b };
    };
    switch (l.op) {
      case 'conv2d': {
        const [, H, W] = l.inShape;
        const bias = l.bias ? l.bias.data : new Float32Array(l.weight.shape[0]);
        nodes.push({
          name: l.name,
          type: 'Conv2d',
          fields: {
            weight: f(l.weight.data, l.weight.shape),
            bias: f(bias, [bias.length]),
            stride: ints([...l.stride]),
            padding: ints([...l.padding]),
            dilation: ints([...l.dilation]),
            groups: ints([l.groups], []),
            input_shape: ints([H, W]),
          },
        });
        break;
      }
      case 'linear':
        nodes.push(
          l.bias
            ? { name: l.name, type: 'Affine', fields: { weight: f(l.weight.data, l.weight.shape, true), bias: f(l.bias.data, l.bias.shape, true) } }
            : { name: l.name, type: 'Linear', fields: { weight: f(l.weight.data, l.weight.shape, true) } },
        );
        break;
      case 'avgpool2d':
      case 'sumpool2d':
        nodes.push({
          name: l.name,
          type: l.op === 'avgpool2d' ? 'AvgPool2d' : 'SumPool2d',
          fields: { kernel_size: ints([...l.kernel]), stride: ints([...l.stride]), padding: ints([...l.padding]) },
        });
        break;
      case 'flatten':
        nodes.push({ name: l.name, type: 'Flatten', fields: { start_dim: ints([0], []), end_dim: ints([-1], []), input_type: ints([...l.inShape], undefined, true) } });
        break;
      case 'affine': {
        if (l.scale.shape.length === 2) fail(model, l, 'has per-step rows: NIR has no per-step node');
        if (l.shift.data.some((x) => x !== 0)) fail(model, l, 'adds a shift: NIR has no node for a per-channel shift (only Scale)');
        const C = l.inShape[0];
        const HW = l.inShape.length === 3 ? l.inShape[1] * l.inShape[2] : 1;
        const scale = new Float32Array(C * HW);
        for (let c = 0; c < C; c++) scale.fill(l.scale.data.length === 1 ? l.scale.data[0] : l.scale.data[c], c * HW, (c + 1) * HW);
        nodes.push({ name: l.name, type: 'Scale', fields: { scale: f(scale, l.inShape, true) } });
        break;
      }
      case 'lif':
      case 'if':
      case 'cubalif': {
        if (l.fireAtThreshold && !o.hints)
          fail(model, l, 'fires at v >= threshold (fireAtThreshold), which NIR cannot record: write the file with its spikelens hints (the default), which keep it');
        const thr = f(perNeuron(l.threshold, shape), shape, true);
        const vReset = f(perNeuron(l.vReset, shape), shape, true);
        const n = thr.kind === 'f32' ? thr.data.length : 0;
        const beta = perNeuron(l.beta, shape);
        if (l.op === 'if' || (l.op === 'lif' && beta.every((b) => b === 1))) {
          nodes.push({ name: l.name, type: 'IF', fields: { r: f(new Float32Array(n).fill(1), shape, true), v_threshold: thr, v_reset: vReset }, metadata: hints(l.op) });
          break;
        }
        const { tau, exact } = taus(l.beta, 'beta');
        const r = tau.map((t) => f32(t / dt));
        const zeros = new Float32Array(n);
        if (l.op === 'lif') {
          nodes.push({
            name: l.name,
            type: 'LIF',
            fields: { tau: f(tau, shape, true), r: f(r, shape, true), v_leak: f(zeros, shape, true), v_threshold: thr, v_reset: vReset },
            metadata: withExact(hints('lif'), { beta: exact }, shape),
          });
        } else {
          const syn = taus(l.alpha!, 'alpha');
          nodes.push({
            name: l.name,
            type: 'CubaLIF',
            fields: {
              tau_syn: f(syn.tau, shape, true),
              tau_mem: f(tau, shape, true),
              r: f(r, shape, true),
              v_leak: f(zeros, shape, true),
              v_threshold: thr,
              v_reset: vReset,
              w_in: f(syn.tau.map((t) => f32(t / dt)), shape, true),
            },
            metadata: withExact(hints('cubalif'), { beta: exact, alpha: syn.exact }, shape),
          });
        }
        break;
      }
      case 'li': {
        const beta = perNeuron(l.beta, shape);
        if (beta.every((b) => b === 1)) {
          // An integrator: NIR's I node, dv/dt = R*I, with R = 1/dt so one Euler step adds the input once.
          nodes.push({ name: l.name, type: 'I', fields: { r: f(new Float32Array(beta.length).fill(f32(1 / dt)), shape, true) }, metadata: hints('li') });
          break;
        }
        const { tau, exact } = taus(l.beta, 'beta');
        nodes.push({
          name: l.name,
          type: 'LI',
          fields: { tau: f(tau, shape, true), r: f(tau.map((t) => f32(t / dt)), shape, true), v_leak: f(new Float32Array(beta.length), shape, true) },
          metadata: withExact(hints('li'), { beta: exact }, shape),
        });
        break;
      }
      default:
        fail(model, l, 'has no NIR node (NIR has no max pooling, ReLU or per-step affine)');
    }
  }
  const last = model.layers[model.layers.length - 1];
  nodes.push({ name: 'output', type: 'Output', fields: { shape: ints([...last.outShape], undefined, true) } });
  return nodes;
}

/** The hints plus the exact per-neuron decays, which a tau may not give back exactly. */
function withExact(hints: Record<string, Field> | undefined, exact: Record<string, Float32Array>, shape: readonly number[]): Record<string, Field> | undefined {
  if (!hints) return undefined;
  const out = { ...hints };
  for (const [k, v] of Object.entries(exact)) out[k] = f(v, shape, true);
  return out;
}

let counter = 0;

/** Writes the model as a .nir file (HDF5 bytes). */
export async function writeNir(model: Model, options: NirExportOptions = {}): Promise<Uint8Array> {
  const dt = options.dt ?? 1e-4;
  if (!(Number.isFinite(dt) && dt > 0)) throw new UsageError(`dt must be a number > 0, not ${dt}`);
  const nodes = nodesOf(model, { dt, hints: options.hints ?? true }, options.onWarning ?? (() => {}));
  const { h5, module } = await hdf5();
  const path = `/spikelens-write-${++counter}.nir`;
  const file = new h5.File(path, 'w');
  try {
    const put = (g: InstanceType<typeof h5.Group>, name: string, field: Field) => {
      if (field.kind === 'str') {
        g.create_dataset({ name, data: field.data });
        return;
      }
      if (field.kind === 'f64') {
        g.create_dataset({ name, data: field.data, shape: field.shape, dtype: '<d' });
        return;
      }
      const data = field.kind === 'f32' ? field.data : BigInt64Array.from(field.data, (x) => BigInt(x));
      const count = field.shape.reduce((a, b) => a * b, 1);
      const gzip = field.gzip && count > 0 && field.shape.length > 0;
      g.create_dataset({
        name,
        data,
        shape: field.shape,
        dtype: field.kind === 'f32' ? '<f' : '<q',
        ...(gzip ? { chunks: field.shape, compression: 'gzip' as const, compression_opts: 4 } : {}),
      });
    };
    file.create_dataset({ name: 'version', data: '1.0.0' });
    const top = file.create_group('node');
    top.create_dataset({ name: 'type', data: 'NIRGraph' });
    const edges: string[] = [];
    for (let i = 1; i < nodes.length; i++) edges.push(nodes[i - 1].name, nodes[i].name);
    top.create_dataset({ name: 'edges', data: edges, shape: [nodes.length - 1, 2] });
    const group = top.create_group('nodes');
    for (const n of nodes) {
      const g = group.create_group(n.name);
      g.create_dataset({ name: 'type', data: n.type });
      for (const [k, v] of Object.entries(n.fields)) put(g, k, v);
      if (n.metadata) {
        const m = g.create_group('metadata');
        for (const [k, v] of Object.entries(n.metadata)) put(m, k, v);
      }
    }
    file.flush();
    file.close();
    return new Uint8Array(module.FS.readFile(path));
  } catch (err) {
    try {
      file.close();
    } catch {
      /* already closed */
    }
    if (err instanceof UsageError || err instanceof InputError) throw err;
    throw new Error(`writing NIR failed: ${hdf5Reason(err)}`);
  } finally {
    module.FS.unlink(path);
  }
}
