import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/errors.js';
import { modelToSafetensors, parseModel } from '../../src/formats/graph.js';
import { readNir, writeNir, tauFor, type NirImportOptions } from '../../src/formats/nir/index.js';
import type { Model, SpikingLayer } from '../../src/model.js';
import { Network } from '../../src/network.js';
import { Recorder } from '../../src/observers.js';
import { f32, i64, i64s, nirBytes, smallGraph, type Graph } from './nir-helpers.js';

const REPO = join(import.meta.dirname, '..', '..', '..', '..');
const F = 'm.nir';

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error('expected an InputError');
}

const read = async (g: Graph, o: NirImportOptions = {}, gzip = false) => readNir(await nirBytes(g, { gzip }), F, o);

async function spikes(model: Model, seed = 1): Promise<{ spikes: (Uint8Array | Int8Array | Float32Array)[]; scores: Float32Array }> {
  const net = await Network.create(model, { seed, batch: 2 });
  const n = model.input.shape.reduce((a, b) => a * b, 1);
  const px = new Float32Array(2 * n).map((_, i) => (i * 37) % 256);
  net.setInput({ kind: 'pixels', data: px });
  const recs = model.layers.filter((l) => ['lif', 'if', 'cubalif'].includes(l.op)).map((l) => new Recorder(net, l.name));
  recs.forEach((r) => net.observe(r));
  net.run(model.timesteps ?? 6);
  return { spikes: recs.map((r) => r.spikes!.data().slice()), scores: net.scores() };
}

function sameRun(a: Awaited<ReturnType<typeof spikes>>, b: Awaited<ReturnType<typeof spikes>>): boolean {
  return (
    a.spikes.length === b.spikes.length &&
    a.spikes.every((s, i) => s.length === b.spikes[i].length && s.every((v, j) => v === b.spikes[i][j])) &&
    a.scores.every((v, i) => Object.is(v, b.scores[i]))
  );
}

describe('readNir', () => {
  it('turns a chain into the spikelens model, following edges stored in any order, gzip or not', async () => {
    for (const gzip of [false, true]) {
      const { model, warnings } = await read(smallGraph(), {}, gzip);
      expect(warnings).toEqual([]);
      expect(model.layers.map((l) => `${l.name}:${l.op}:${l.outShape.join('x')}`)).toEqual([
        'conv:conv2d:2x6x6', 'lif1:lif:2x6x6', 'flat:flatten:72', 'fc:linear:3', 'lif2:lif:3',
      ]);
      expect(model.input.shape).toEqual([1, 6, 6]);
      expect(model.readout).toBe('count');
      const lif = model.layers[1] as SpikingLayer;
      expect(lif.beta.data[0]).toBe(Math.fround(1 - 1e-4 / Math.fround(1e-3)));
      expect(lif.beta.per).toBe('scalar');
      expect(lif.reset).toBe('subtract');
      expect(lif.resetDelay).toBe(true);
    }
  });

  it('broadcasts 0-d parameters and takes NIR options for what the file cannot say', async () => {
    const g = smallGraph();
    g.nodes.lif1 = { type: 'LIF', tau: 2e-3, r: 20, v_leak: 0, v_threshold: 0.5 };
    const { model } = await read(g, { preset: 'snntorch', reset: 'zero', resetDelay: false, timesteps: 7, encoding: 'poisson', scale: 1 / 255, labels: ['a', 'b', 'c'], readout: 'mean' === 'mean' ? undefined : undefined });
    const lif = model.layers[1] as SpikingLayer;
    expect(lif.beta.data[0]).toBe(Math.fround(1 - 1e-4 / Math.fround(2e-3)));
    expect(lif.threshold.data[0]).toBe(0.5);
    expect(lif.reset).toBe('zero');
    expect(model.timesteps).toBe(7);
    expect(model.input.encoding.kind).toBe('poisson');
    expect(model.input.labels).toEqual(['a', 'b', 'c']);
  });

  it('flattens nested NIRGraph nodes, with edges naming the subgraph or its inner nodes', async () => {
    for (const into of ['block', 'block.in']) {
      const g = smallGraph();
      const { conv, lif1 } = g.nodes;
      g.nodes.block = {
        type: 'NIRGraph',
        nodes: { in: { type: 'Input', shape: i64(1, 6, 6) }, conv, lif1, out: { type: 'Output', shape: i64(2, 6, 6) } },
        edges: [['in', 'conv'], ['conv', 'lif1'], ['lif1', 'out']],
      } as never;
      delete g.nodes.conv;
      delete g.nodes.lif1;
      g.edges = [['input', into], [into === 'block' ? 'block' : 'block.out', 'flat'], ['flat', 'fc'], ['fc', 'lif2'], ['lif2', 'output']];
      const { model } = await read(g);
      expect(model.layers.map((l) => l.name)).toEqual(['block.conv', 'block.lif1', 'flat', 'fc', 'lif2']);
    }
  });

  it('reads CubaLIF, IF, LI, Threshold, Scale, SumPool2d and "same" padding', async () => {
    const g = smallGraph();
    g.nodes.conv = { ...g.nodes.conv, padding: 'same' };
    g.nodes.lif1 = { type: 'CubaLIF', tau_syn: 5e-4, tau_mem: 1e-3, r: 10, v_leak: 0, v_threshold: 1, v_reset: 0, w_in: 5 };
    g.nodes.scale = { type: 'Scale', scale: f32([2, 6, 6], (i) => (i < 36 ? 2 : 0.5)) };
    g.nodes.pool = { type: 'SumPool2d', kernel_size: i64s(2), stride: i64s(2), padding: i64(0, 0) };
    g.nodes.thr = { type: 'Threshold', threshold: f32([2, 3, 3], () => 0.75) };
    g.nodes.flat = { type: 'Flatten', start_dim: i64s(0), end_dim: i64s(-1) };
    g.nodes.fc = { type: 'Linear', weight: f32([3, 18], (i) => (i % 5) / 4 - 0.5) };
    g.nodes.lif2 = { type: 'LI', tau: 1e-3, r: 10, v_leak: 0 };
    g.edges = [['input', 'conv'], ['conv', 'lif1'], ['lif1', 'scale'], ['scale', 'pool'], ['pool', 'thr'], ['thr', 'flat'], ['flat', 'fc'], ['fc', 'lif2'], ['lif2', 'output']];
    const { model } = await read(g);
    expect(model.layers.map((l) => l.op)).toEqual(['conv2d', 'cubalif', 'affine', 'sumpool2d', 'lif', 'flatten', 'linear', 'li']);
    expect(model.readout).toBe('final');
    const cuba = model.layers[1] as SpikingLayer;
    expect(cuba.alpha!.data[0]).toBe(Math.fround(1 - 1e-4 / Math.fround(5e-4)));
    expect((model.layers[0] as Extract<Model['layers'][number], { op: 'conv2d' }>).padding).toEqual([1, 1]);
    const thr = model.layers[4] as SpikingLayer;
    expect([thr.beta.data[0], thr.threshold.data[0], thr.reset]).toEqual([0, 0.75, 'none']);
    const scale = model.layers[2] as Extract<Model['layers'][number], { op: 'affine' }>;
    expect(Array.from(scale.scale.data)).toEqual([2, 0.5]);
    // It runs.
    const r = await spikes(model);
    expect(r.scores.length).toBe(6);
  });

  it('discretises by the preset: Euler or exponential decay, input gain, v >= threshold', async () => {
    const g = smallGraph();
    g.nodes.lif1 = { type: 'LIF', tau: 2, r: 1, v_leak: 0, v_threshold: 1, v_reset: 0 };
    const sinabs = await read(g, { preset: 'sinabs' });
    const lif = sinabs.model.layers.find((l) => l.name === 'lif1') as SpikingLayer;
    expect(lif.beta.data[0]).toBe(Math.fround(Math.exp(-1 / 2)));
    // v >= threshold: the model's fireAtThreshold with the threshold Sinabs subtracts (nir-semantics.test.ts).
    expect([lif.threshold.data[0], lif.fireAtThreshold, lif.reset]).toEqual([1, true, 'subtract']);
    expect(sinabs.warnings.some((w) => /MultiSpike/.test(w))).toBe(true);
    expect(sinabs.warnings.filter((w) => /v >= threshold|exactly on/.test(w))).toEqual([]);
    // Whatever the reset, the threshold is the file's.
    const zero = (await read(g, { preset: 'sinabs', reset: 'zero' })).model.layers.find((l) => l.name === 'lif1') as SpikingLayer;
    expect([zero.threshold.data[0], zero.fireAtThreshold]).toEqual([1, true]);
    // Norse: Euler at dt 1e-3 with NIR's gain r*dt/tau = 1e-3/2 applied by an affine layer before the neuron.
    const norse = await read(g, { preset: 'norse' });
    expect(norse.model.layers.map((l) => l.name)).toContain('lif1.in');
    const aff = norse.model.layers.find((l) => l.name === 'lif1.in') as Extract<Model['layers'][number], { op: 'affine' }>;
    expect(aff.scale.data[0]).toBe(Math.fround(1e-3 / 2));
    const nl = norse.model.layers.find((l) => l.name === 'lif1') as SpikingLayer;
    expect([nl.beta.data[0], nl.reset, nl.resetDelay]).toEqual([Math.fround(1 - 1e-3 / 2), 'zero', false]);
    // snnTorch's r = tau/dt makes the gain 1; any other r is said, not applied.
    const snn = await read(g, { preset: 'snntorch' });
    expect(snn.model.layers.map((l) => l.name)).not.toContain('lif1.in');
    expect(snn.warnings.some((w) => /lif1.*not 1/.test(w))).toBe(true);
  });

  it('warns when dt/(1-beta) does not give the stored tau back', async () => {
    expect((await read(smallGraph())).warnings).toEqual([]);
    const g = smallGraph();
    g.nodes.lif1 = { type: 'LIF', tau: 0.7, r: 7000, v_leak: 0, v_threshold: 1 };
    // beta = 1 - 1e-4/0.7 is so near 1 that dt/(1-beta) lands thousands of float32s away from 0.7.
    const w = (await read(g)).warnings;
    expect(w.some((x) => /node "lif1": dt\/\(1-beta\) does not give back the stored tau/.test(x))).toBe(true);
  });
});

describe('readNir errors name the file, the node and the field', () => {
  it('refuses what is not HDF5, and truncated HDF5', async () => {
    expect(await message(readNir(new TextEncoder().encode('not hdf5 at all'), F))).toMatch(/^m\.nir: not an HDF5 file/);
    const good = await nirBytes(smallGraph(), { gzip: true });
    const cut = good.subarray(0, Math.floor(good.length * 0.6));
    expect(await message(readNir(cut, F))).toMatch(/^m\.nir: (malformed HDF5|dataset "\/node\/nodes\/.*" cannot be read)/);
  });

  it('refuses missing parameters, wrong shapes and nodes spikelens cannot run', async () => {
    const g = smallGraph();
    delete g.nodes.lif1.v_threshold;
    expect(await message(read(g))).toBe('m.nir: node "lif1" (LIF): missing field "v_threshold"');
    const g2 = smallGraph();
    g2.nodes.fc = { ...g2.nodes.fc, weight: f32([3, 70], () => 0) };
    expect(await message(read(g2))).toBe('m.nir: node "fc" (Affine): field "weight" has shape [3,70], expected [out, 72]');
    const g3 = smallGraph();
    g3.nodes.lif1 = { ...g3.nodes.lif1, tau: f32([2, 5, 5], () => 1e-3) };
    expect(await message(read(g3))).toMatch(/node "lif1" \(LIF\): field "tau" has shape \[2,5,5\], expected \[\] or the layer's \[2,6,6\]/);
    const g4 = smallGraph();
    g4.nodes.lif1 = { type: 'Delay', delay: 1 };
    expect(await message(read(g4))).toMatch(/node "lif1" \(Delay\): no spikelens op runs this NIR type/);
    const g5 = smallGraph();
    g5.nodes.conv = { ...g5.nodes.conv, weight: f32([2, 1, 2, 2], () => 0.5), padding: 'same' };
    expect(await message(read(g5))).toMatch(/node "conv" \(Conv2d\): "same" padding of a 2x2 kernel .* is asymmetric/);
    const g6 = smallGraph();
    g6.nodes.lif1 = { ...g6.nodes.lif1, tau: f32([2, 6, 6], (i) => (i === 5 ? NaN : 1e-3)) };
    expect(await message(read(g6))).toBe('m.nir: node "lif1" (LIF): field "tau" element 5 is NaN, expected a finite number');
  });

  it('refuses graphs that are not one chain', async () => {
    const branch = smallGraph();
    branch.edges.push(['conv', 'flat']);
    expect(await message(read(branch))).toMatch(/node "conv" \(Conv2d\) feeds 2 nodes/);
    const cycle = smallGraph();
    cycle.edges.push(['lif1', 'conv']);
    expect(await message(read(cycle))).toMatch(/feeds 2 nodes|reached twice|incoming edges/);
    const stray = smallGraph();
    stray.nodes.extra = { type: 'Scale', scale: [1] };
    expect(await message(read(stray))).toBe('m.nir: node "extra" is not on the path from the Input to the Output node: spikelens runs chains only');
    const unknown = smallGraph();
    unknown.edges.push(['nowhere', 'fc']);
    expect(await message(read(unknown))).toMatch(/an edge names node "nowhere"/);
  });

  it('refuses a bad preset or dt as usage errors', async () => {
    await expect(read(smallGraph(), { preset: 'brian' as never })).rejects.toThrow(UsageError);
    await expect(read(smallGraph(), { dt: -1 })).rejects.toThrow(/dt must be a number > 0/);
  });
});

describe('writeNir', () => {
  const bundled = ['mnist-lif-bptt', 'mnist-if-convert', 'c01-untrained', 'fashion-lif-bptt'];

  it('round-trips every bundled model: stripped of its hints and read with the preset, it gives the same spikes', async () => {
    for (const name of bundled) {
      const file = join(REPO, 'models', `${name}.safetensors`);
      const model = parseModel(new Uint8Array(readFileSync(file)), file);
      const neuron = model.layers.find((l) => 'reset' in l) as { reset: 'subtract' | 'zero' | 'none'; resetDelay: boolean };
      const io: NirImportOptions = {
        timesteps: model.timesteps, encoding: model.input.encoding.kind, gain: model.input.encoding.gain,
        scale: model.input.preprocess.scale, mean: model.input.preprocess.mean, std: model.input.preprocess.std,
      };
      const plain = await writeNir(model, { hints: false });
      const back = await readNir(plain, `${name}.nir`, { ...io, preset: 'snntorch', reset: neuron.reset, resetDelay: neuron.resetDelay });
      expect(back.warnings, name).toEqual([]);
      expect(back.model.layers.map((l) => l.op), name).toEqual(model.layers.map((l) => l.op));
      const want = await spikes(model);
      expect(want.spikes.some((s) => s.some((v) => v !== 0)), name).toBe(true);
      expect(sameRun(await spikes(back.model), want), `${name} via the preset`).toBe(true);
      // With its hints, the file needs no flags for the dt and reset.
      const hinted = await readNir(await writeNir(model), `${name}.nir`, io);
      expect(sameRun(await spikes(hinted.model), want), `${name} via the hints`).toBe(true);
      // Without the reset flags the preset's snnTorch defaults differ (for a leaky neuron; with beta 1 a delayed
      // subtract gives the same spikes): the test can fail.
      if (neuron.resetDelay === false && neuron.reset === 'subtract' && model.layers.some((l) => l.op === 'lif')) {
        const wrong = await readNir(plain, `${name}.nir`, { ...io, preset: 'snntorch' });
        expect(sameRun(await spikes(wrong.model), want), `${name} with resetDelay true`).toBe(false);
      }
    }
  });

  it('chooses each tau so that 1 - dt/tau gives beta back: exactly from 0.5 up, within 1e-7 below', () => {
    fc.assert(
      fc.property(fc.float({ min: 0, max: Math.fround(0.99999), noNaN: true }), fc.constantFrom(1e-4, 1e-3, 1, 5e-5), (beta, dt) => {
        const b = Math.fround(beta);
        const back = Math.fround(1 - dt / tauFor(b, dt));
        if (b >= 0.5) expect(back).toBe(b);
        else expect(Math.abs(back - b)).toBeLessThanOrEqual(1e-7);
      }),
      { numRuns: 3000 },
    );
    for (let k = 50; k < 100; k++) expect(Math.fround(1 - 1e-4 / tauFor(Math.fround(k / 100), 1e-4))).toBe(Math.fround(k / 100));
  });

  it('keeps small betas exact through its metadata, and says when the file alone cannot', async () => {
    // Betas below 0.5 that no float32 tau gives back (found by the search above), per channel.
    const betas = Float32Array.of(0.3354824483394623, 0.004839354194700718);
    const w = Float32Array.from({ length: 18 }, (_, i) => ((i * 5) % 9) / 4 - 0.75);
    const fcw = Float32Array.from({ length: 3 * 72 }, (_, i) => ((i * 7) % 13) / 8 - 0.75);
    const srcModel = parseModel(
      modelToSafetensors(
        {
          format: 'spikelens.model/1', input: { shape: [1, 6, 6], encoding: { kind: 'poisson' } }, timesteps: 6,
          layers: [
            { name: 'conv', op: 'conv2d', weight: 'w', padding: [1, 1] },
            { name: 'lif1', op: 'lif', beta: 'b', threshold: 0.5 },
            { name: 'flat', op: 'flatten' },
            { name: 'fc', op: 'linear', weight: 'fcw' },
            { name: 'lif2', op: 'lif', beta: 0.75 },
          ],
        },
        [
          { name: 'w', dtype: 'F32', shape: [2, 1, 3, 3], data: w },
          { name: 'b', dtype: 'F32', shape: [2], data: betas },
          { name: 'fcw', dtype: 'F32', shape: [3, 72], data: fcw },
        ],
      ),
      'small.safetensors',
    );
    const src = { model: srcModel };
    const warnings: string[] = [];
    const bytes = await writeNir(src.model, { onWarning: (m) => warnings.push(m) });
    expect(warnings, warnings.join(";")).toEqual(expect.arrayContaining([expect.stringMatching(/layer "lif1": \d+ of 72 neurons have a beta below 0.5/)]));
    const hinted = await readNir(bytes, F, { encoding: 'poisson', timesteps: 6 });
    const a = src.model.layers[1] as SpikingLayer;
    const b = hinted.model.layers[1] as SpikingLayer;
    expect(Array.from(b.beta.data)).toEqual(Array.from(a.beta.data));
    // Read without the metadata, the file's tau gives other betas (a few ulps off).
    const plain = await readNir(await writeNir(src.model, { hints: false }), F, { resetDelay: false });
    expect(Array.from((plain.model.layers[1] as SpikingLayer).beta.data)).not.toEqual(Array.from(a.beta.data));
    expect(sameRun(await spikes(hinted.model), await spikes(src.model))).toBe(true);
  });

  it('keeps fireAtThreshold in its hints (per layer), and refuses to write it without them', async () => {
    // lif1 fires at v >= threshold, lif2 at v > threshold: read with the sinabs preset, then lif2 made strict.
    const g = smallGraph();
    const src = (await read(g, { preset: 'sinabs', timesteps: 6, encoding: 'poisson' })).model;
    const model: Model = { ...src, layers: src.layers.map((l) => (l.name === 'lif2' ? { ...(l as SpikingLayer), fireAtThreshold: false } : l)) };
    expect(model.layers.filter((l): l is SpikingLayer => 'fireAtThreshold' in l).map((l) => [l.name, l.fireAtThreshold])).toEqual([['lif1', true], ['lif2', false]]);
    const hinted = await readNir(await writeNir(model, { dt: 1 }), F, { timesteps: 6, encoding: 'poisson' });
    const back = hinted.model.layers.filter((l): l is SpikingLayer => 'fireAtThreshold' in l);
    expect(back.map((l) => [l.name, l.fireAtThreshold, l.reset, l.resetDelay])).toEqual([['lif1', true, 'subtract', false], ['lif2', false, 'subtract', false]]);
    expect(sameRun(await spikes(hinted.model), await spikes(model))).toBe(true);
    // An explicit preset overrides the hints, as for the reset rule.
    const jelly = (await readNir(await writeNir(model, { dt: 1 }), F, { preset: 'spikingjelly' })).model;
    expect(jelly.layers.filter((l): l is SpikingLayer => 'fireAtThreshold' in l).map((l) => l.fireAtThreshold)).toEqual([true, true]);
    // NIR itself has no field for it.
    await expect(writeNir(model, { hints: false })).rejects.toThrow(UsageError);
    await expect(writeNir(model, { hints: false })).rejects.toThrow(/layer "lif1" \(lif\) fires at v >= threshold \(fireAtThreshold\), which NIR cannot record: write the file with its spikelens hints/);
    const strict: Model = { ...model, layers: model.layers.map((l) => ('fireAtThreshold' in l ? { ...l, fireAtThreshold: false } : l)) };
    expect((await writeNir(strict, { hints: false })).length).toBeGreaterThan(0);
  });

  it('refuses layers NIR cannot hold, naming them', async () => {
    const file = join(REPO, 'conformance', 'x02-pools-padding', 'model.safetensors');
    const model = parseModel(new Uint8Array(readFileSync(file)), file);
    await expect(writeNir(model)).rejects.toThrow(/layer "[^"]+" \(maxpool2d\) has no NIR node/);
  });
});

describe('snnTorch edge cases', () => {
  it('reads a Leaky with beta 1 (tau and r infinite, as export_to_nir writes it) as beta 1 with no gain', async () => {
    const g = smallGraph();
    g.nodes.lif1 = { type: 'LIF', tau: f32([2, 6, 6], () => Infinity), r: f32([2, 6, 6], () => Infinity), v_leak: 0, v_threshold: 1, v_reset: 0 };
    const { model, warnings } = await read(g);
    expect(warnings).toEqual([]);
    const lif = model.layers[1] as SpikingLayer;
    expect([lif.op, lif.beta.data[0]]).toEqual(['lif', 1]);
    expect(model.layers.map((l) => l.name)).not.toContain('lif1.in');
  });

  it('reads a Synaptic (CubaLIF with w_in = tau_syn/dt, r = tau_mem/dt) with no gain', async () => {
    const g = smallGraph();
    const tauSyn = Math.fround(1e-4 / (1 - 0.5));
    const tauMem = Math.fround(1e-4 / (1 - 0.875));
    g.nodes.lif1 = { type: 'CubaLIF', tau_syn: tauSyn, tau_mem: tauMem, r: Math.fround(tauMem / 1e-4), v_leak: 0, v_threshold: 1, v_reset: 0, w_in: Math.fround(tauSyn / 1e-4) };
    const { model, warnings } = await read(g);
    expect(warnings).toEqual([]);
    const c = model.layers[1] as SpikingLayer;
    expect([c.op, c.alpha!.data[0], c.beta.data[0], c.resetDelay]).toEqual(['cubalif', 0.5, 0.875, true]);
  });
});
