/**
 * How NIR's continuous-time neurons are read (docs/nir.md): CubaLIF's v_leak in the membrane equation, LI and LIF
 * sharing one discretisation, the preset recorded in the model, and the two float32-ulp fixes found against real
 * Norse and Sinabs runs. Expectations for the leak are float64 values from NIR's equations.
 */
import { describe, expect, it } from 'vitest';
import { readNir, below, type NirImportOptions } from '../../src/formats/nir/index.js';
import type { Model, SpikingLayer } from '../../src/model.js';
import { Network } from '../../src/network.js';
import { Recorder } from '../../src/observers.js';
import { hdf5 } from '../../src/formats/nir/hdf5.js';
import { f32, i64, nirBytes, type Graph, type NodeSpec } from './nir-helpers.js';

const F = 'm.nir';
const fl = Math.fround;
type Affine = Extract<Model['layers'][number], { op: 'affine' }>;

/** Input [N] -> `node` -> Output. */
function one(node: NodeSpec, N: number): Graph {
  return {
    nodes: { input: { type: 'Input', shape: i64(N) }, n: node, output: { type: 'Output', shape: i64(N) } },
    edges: [['input', 'n'], ['n', 'output']],
  };
}

/** Runs `model` on constant pixels `x` for T steps: the recorded membrane [T, N] and spikes of `layer`. */
async function run(model: Model, layer: string, x: number[], T: number): Promise<{ v: Float32Array; s: Uint8Array | null }> {
  const net = await Network.create(model, { batch: 1 });
  net.setInput({ kind: 'pixels', data: Float32Array.from(x) });
  const spiking = model.layers.find((l) => l.name === layer)!.op !== 'li';
  const rec = new Recorder(net, layer, { membrane: true, spikes: spiking, timesteps: T });
  net.observe(rec);
  net.run(T);
  return { v: rec.membrane!.data().slice(), s: spiking ? (rec.spikes!.data().slice() as Uint8Array) : null };
}

let counter = 0;
/** `bytes` with a `metadata` group of `values` added to each named node (as spikelens' hints are written). */
async function withMetadata(bytes: Uint8Array, nodes: string[], values: Record<string, Float64Array | Float32Array | string>): Promise<Uint8Array> {
  const { h5, module } = await hdf5();
  const path = `/nir-semantics-${++counter}.nir`;
  module.FS.writeFile(path, bytes);
  const f = new h5.File(path, 'a');
  for (const node of nodes) {
    const m = (f.get(`node/nodes/${node}`) as InstanceType<typeof h5.Group>).create_group('metadata');
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === 'string') m.create_dataset({ name: k, data: v });
      else m.create_dataset({ name: k, data: v, shape: v instanceof Float64Array ? [] : [v.length], dtype: v instanceof Float64Array ? '<d' : '<f' });
    }
  }
  f.close();
  const out = new Uint8Array(module.FS.readFile(path));
  module.FS.unlink(path);
  return out;
}

describe('CubaLIF v_leak enters the membrane equation', () => {
  // NIR: tau_syn di/dt = -i + w_in*x, tau_mem dv/dt = (v_leak - v) + r*i; forward Euler with s = dt/tau, the
  // membrane taking the same step's current (docs/semantics.md, cubalif).
  function reference(T: number, x: number, p: { sSyn: number; sMem: number; r: number; wIn: number; vLeak: number }): number[] {
    let i = 0;
    let v = 0;
    const out: number[] = [];
    for (let t = 0; t < T; t++) {
      i = i + p.sSyn * (-i + p.wIn * x);
      v = v + p.sMem * (p.vLeak - v + p.r * i);
      out.push(v);
    }
    return out;
  }

  it('settles at v_leak with no input (9.99998 before: the leak was integrated by the synaptic filter), and at v_leak + r*w_in*x', async () => {
    const T = 300;
    const node: NodeSpec = { type: 'CubaLIF', tau_syn: 1e-3, tau_mem: 5e-4, r: 1.5, v_leak: f32([2], (k) => [1, -0.5][k]), v_threshold: 1e6, v_reset: 0, w_in: 2 };
    const opts: NirImportOptions = { preset: 'spikingjelly', reset: 'none', timesteps: T };
    const { model, warnings } = await readNir(await nirBytes(one(node, 2)), F, opts);
    expect(warnings).toEqual([]);
    expect(model.layers.map((l) => `${l.name}:${l.op}`)).toEqual(['n.in:affine', 'n.syn:li', 'n.leak:affine', 'n:lif']);
    const x = [0, 3];
    const { v } = await run(model, 'n', x, T);
    const dt = 1e-4;
    for (const k of [0, 1]) {
      const want = reference(T, x[k], { sSyn: dt / fl(1e-3), sMem: dt / fl(5e-4), r: 1.5, wIn: 2, vLeak: [1, -0.5][k] });
      for (let t = 0; t < T; t++) expect(Math.abs(v[2 * t + k] - want[t]), `neuron ${k} step ${t}`).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(want[t])));
    }
    // v_leak + r*w_in*x: 1 and -0.5 + 1.5*2*3 = 8.5
    expect(v[2 * (T - 1)]).toBeCloseTo(1, 5);
    expect(v[2 * (T - 1) + 1]).toBeCloseTo(8.5, 4);
  });

  it('agrees with a LIF of the same v_leak when the input is 0 (the brief: tau_syn 1e-3, dt 1e-4, v_leak 1)', async () => {
    const T = 400;
    const cuba = await readNir(await nirBytes(one({ type: 'CubaLIF', tau_syn: 1e-3, tau_mem: 1e-3, r: 10, v_leak: 1, v_threshold: 100, v_reset: 0, w_in: 10 }, 1)), F, { timesteps: T, reset: 'none' });
    const lif = await readNir(await nirBytes(one({ type: 'LIF', tau: 1e-3, r: 10, v_leak: 1, v_threshold: 100, v_reset: 0 }, 1)), F, { timesteps: T, reset: 'none' });
    const a = (await run(cuba.model, 'n', [0], T)).v;
    const b = (await run(lif.model, 'n', [0], T)).v;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a[T - 1]).toBeGreaterThan(0.9999);
    expect(a[T - 1]).toBeLessThanOrEqual(1);
  });

  it('keeps one cubalif layer when v_leak is 0', async () => {
    const { model } = await readNir(await nirBytes(one({ type: 'CubaLIF', tau_syn: 5e-4, tau_mem: 1e-3, r: 10, v_leak: 0, v_threshold: 1, v_reset: 0, w_in: 5 }, 3)), F);
    expect(model.layers.map((l) => l.op)).toEqual(['cubalif']);
  });
});

describe('LI and LIF share one discretisation', () => {
  const lif: NodeSpec = { type: 'LIF', tau: f32([3], (k) => [2e-2, 1e-2, 4e-3][k]), r: 2, v_leak: 0.5, v_threshold: 1, v_reset: 0 };
  const li: NodeSpec = { type: 'LI', tau: lif.tau, r: 2, v_leak: 0.5 };
  const layers = async (node: NodeSpec, o: NirImportOptions, hints?: Record<string, Float64Array | Float32Array | string>) => {
    let bytes = await nirBytes(one(node, 3));
    if (hints) bytes = await withMetadata(bytes, ['n'], hints);
    const r = await readNir(bytes, F, o);
    const aff = r.model.layers.find((l) => l.name === 'n.in') as Affine | undefined;
    const neuron = r.model.layers.find((l) => l.name === 'n') as SpikingLayer;
    return { scale: aff ? Array.from(aff.scale.data) : [1], shift: aff ? Array.from(aff.shift.data) : [0], beta: Array.from(neuron.beta.data), warnings: r.warnings.filter((w) => w.includes('node "n"')) };
  };

  it('gives the same gain, leak current and beta for the same tau, r and v_leak, in every reading', async () => {
    const readings: NirImportOptions[] = [{}, { preset: 'spikingjelly' }, { preset: 'norse' }, { preset: 'sinabs', dt: 1e-4 }, { preset: 'spikingjelly', integration: 'exp' }];
    for (const o of readings) expect(await layers(li, o), JSON.stringify(o)).toEqual(await layers(lif, o));
  });

  it('uses the recorded beta of a hinted file for the gain and leak of both (exp: s = 1 - beta)', async () => {
    // The file's hints record beta 0.5 for every neuron, which its tau does not give: the gain r*(1 - beta) is 1,
    // and the leak current (1 - beta)*v_leak is 0.25.
    const hints = { dt: Float64Array.of(1e-4), reset: 'subtract', beta: Float32Array.of(0.5, 0.5, 0.5) };
    const a = await layers(lif, { integration: 'exp' }, hints);
    const b = await layers(li, { integration: 'exp' }, hints);
    expect(b).toEqual(a);
    expect(a.beta).toEqual([0.5]);
    expect([...new Set(a.shift)]).toEqual([0.25]);
    expect(a.warnings.filter((w) => /not 1/.test(w))).toEqual([]);
  });
});

describe('the model records what decided its discretisation', () => {
  it('"file-hints" when the file\'s spikelens metadata did, else the preset', async () => {
    const node: NodeSpec = { type: 'LIF', tau: 1e-3, r: 10, v_leak: 0, v_threshold: 1, v_reset: 0 };
    const hinted = await withMetadata(await nirBytes(one(node, 2)), ['n'], { dt: Float64Array.of(2e-4), reset: 'zero' });
    const meta = async (bytes: Uint8Array, o: NirImportOptions = {}) => (await readNir(bytes, F, o)).model.meta as { preset: string; dt: number; reset: string };
    expect(await meta(hinted)).toMatchObject({ preset: 'file-hints', dt: 2e-4, reset: 'zero' });
    expect(await meta(hinted, { preset: 'norse' })).toMatchObject({ preset: 'norse', dt: 1e-3, reset: 'zero' });
    expect(await meta(hinted, { reset: 'subtract' })).toMatchObject({ preset: 'snntorch', dt: 1e-4, reset: 'subtract' });
    expect(await meta(await nirBytes(one(node, 2)))).toMatchObject({ preset: 'snntorch' });
  });
});

describe('the float32 details of Norse, Sinabs and SpikingJelly', () => {
  it("norse: the input gain is Norse's fl(fl(dt) * fl(1/tau)), so a membrane on Norse's value crosses a threshold just below it", async () => {
    // A float32 tau for which fl(dt/tau) is one ulp below Norse's float32 product.
    let tau = 0;
    for (let k = 1; k < 5000 && !tau; k++) {
      const t = fl(1e-3 * (1 + k / 997));
      if (fl(1e-3 / t) < fl(fl(1e-3) * fl(1 / t))) tau = t;
    }
    expect(tau).toBeGreaterThan(0);
    const a = fl(fl(1e-3) * fl(1 / tau));
    const { model } = await readNir(await nirBytes(one({ type: 'LIF', tau, r: 1, v_leak: 0, v_threshold: below(a), v_reset: 0 }, 1)), F, { preset: 'norse', timesteps: 1 });
    const gain = model.layers.find((l) => l.name === 'n.in') as Affine;
    expect(gain.scale.data[0]).toBe(a);
    expect((model.layers.find((l) => l.name === 'n') as SpikingLayer).beta.data[0]).toBe(fl(1 - a));
    // Norse: v = 0 + a*(1 + 0 - 0) = a > below(a): a spike at the first step.
    const { s } = await run(model, 'n', [1], 1);
    expect(Array.from(s!)).toEqual([1]);
  });

  it('sinabs: fires at v >= threshold, and a subtract reset takes off the threshold itself (1.5 - 1 = 0.5, 1 - 1 = 0)', async () => {
    const T = 6;
    const { model, warnings } = await readNir(await nirBytes(one({ type: 'IF', r: 1, v_threshold: 1, v_reset: 0 }, 1)), F, { preset: 'sinabs', timesteps: T });
    const n = model.layers.find((l) => l.name === 'n') as SpikingLayer;
    // The model's own v >= threshold with the real threshold: no emulation, nothing to warn about.
    expect([n.threshold.data[0], n.fireAtThreshold, n.reset]).toEqual([1, true, 'subtract']);
    expect(warnings.filter((w) => /exactly on a threshold|keeps the threshold it subtracts/.test(w))).toEqual([]);
    const { v, s } = await run(model, 'n', [0.75], T);
    // Sinabs: 0.75; 1.5 fires, 0.5; 1.25 fires, 0.25; 1.0 fires (>=), 0 exactly; 0.75; 1.5 fires, 0.5.
    expect(Array.from(v)).toEqual([0.75, 0.5, 0.25, 0, 0.75, 0.5]);
    expect(Object.is(v[3], 0)).toBe(true);
    expect(Array.from(s!)).toEqual([0, 1, 1, 1, 0, 1]);
    // With a zero reset as well: the threshold itself, v >= 1 fires.
    const zero = await readNir(await nirBytes(one({ type: 'IF', r: 1, v_threshold: 1, v_reset: 0 }, 1)), F, { preset: 'sinabs', reset: 'zero', timesteps: T });
    const z = zero.model.layers.find((l) => l.name === 'n') as SpikingLayer;
    expect([z.threshold.data[0], z.fireAtThreshold, z.reset]).toEqual([1, true, 'zero']);
    expect(Array.from((await run(zero.model, 'n', [0.5], 4)).s!)).toEqual([0, 1, 0, 1]);
    // The same file read as a library that fires at v > threshold: 1.0 waits a step.
    const strict = await readNir(await nirBytes(one({ type: 'IF', r: 1, v_threshold: 1, v_reset: 0 }, 1)), F, { preset: 'norse', timesteps: T });
    expect((strict.model.layers.find((l) => l.name === 'n') as SpikingLayer).fireAtThreshold).toBe(false);
    expect(Array.from((await run(strict.model, 'n', [0.5], 4)).s!)).toEqual([0, 0, 1, 0]);
  });

  it('spikingjelly: LIF and IF fire at v >= v_threshold (a float32 threshold of no round value) and reset to v_reset', async () => {
    const T = 4;
    const thr = fl(0.3);
    // IF with r = 1/dt (SpikingJelly's export): gain r*dt = 1, so v = 0 + fl(0.3) lands on the threshold at every
    // step after a reset to 0: it fires at each one. Read as Norse (v > threshold), it waits for 0.6.
    const file = await nirBytes(one({ type: 'IF', r: 1e4, v_threshold: thr, v_reset: 0 }, 1));
    const ifm = (await readNir(file, F, { preset: 'spikingjelly', timesteps: T })).model;
    const n = ifm.layers.find((l) => l.name === 'n') as SpikingLayer;
    expect([n.op, n.threshold.data[0], n.fireAtThreshold, n.reset, n.resetDelay]).toEqual(['if', thr, true, 'zero', false]);
    expect(ifm.layers.map((l) => l.name)).toEqual(['n']);
    const a = await run(ifm, 'n', [0.3], T);
    expect(Array.from(a.s!)).toEqual([1, 1, 1, 1]);
    expect(Array.from(a.v)).toEqual([0, 0, 0, 0]);
    const norse = (await readNir(file, F, { preset: 'norse', timesteps: T })).model;
    expect(Array.from((await run(norse, 'n', [0.3], T)).s!)).toEqual([0, 1, 0, 1]);
    // LIF: the same rule (its v_leak = v_reset is the preset's business; here 0)
    const lif = (await readNir(await nirBytes(one({ type: 'LIF', tau: 2e-4, r: 1, v_leak: 0, v_threshold: thr, v_reset: 0 }, 1)), F, { preset: 'spikingjelly', timesteps: T })).model;
    expect((lif.layers.find((l) => l.name === 'n') as SpikingLayer).fireAtThreshold).toBe(true);
    // snnTorch and Norse fire at v > threshold
    for (const preset of ['snntorch', 'norse'] as const) {
      const m = (await readNir(await nirBytes(one({ type: 'IF', r: 1, v_threshold: thr, v_reset: 0 }, 1)), F, { preset, timesteps: T })).model;
      expect((m.layers.find((l) => l.name === 'n') as SpikingLayer).fireAtThreshold, preset).toBe(false);
    }
  });
});
