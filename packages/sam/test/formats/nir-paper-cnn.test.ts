/**
 * The NIR paper's N-MNIST CNN (cnn_sinabs.nir, exported from Sinabs), from the shared test material beside the
 * checkout (or $SPIKELENS_SHARED). It comes from another project and is not committed here: without it these tests
 * say they skipped.
 * Its README lists what can be checked without N-MNIST: the graph, its shapes and stored values; the recorded
 * activity and accuracies need inputs that are not available.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNir, readHdf5, nirChain } from '../../src/formats/nir/index.js';
import type { H5Dataset, H5Group } from '../../src/formats/nir/hdf5.js';
import { readNpy } from '../../src/formats/npy.js';
import { isSpiking } from '../../src/model.js';
import { Network } from '../../src/network.js';
import { SamObserver } from '../../src/observers.js';

const DIR = process.env.SPIKELENS_SHARED
  ? join(process.env.SPIKELENS_SHARED, 'nir', 'paper-cnn')
  : join(import.meta.dirname, '..', '..', '..', '..', '..', 'shared', 'nir', 'paper-cnn');
const FILE = join(DIR, 'cnn_sinabs.nir');
const present = existsSync(FILE);
if (!present) console.warn(`[nir paper-cnn] SKIPPED: ${FILE} is not there (it belongs to the shared test material, not to this repository)`);

interface GraphJson {
  chain: string[];
  edges_as_stored: [string, string][];
  nodes: Record<string, { type: string; output_shape: number[]; fields: Record<string, { dtype: string; shape: number[]; unique?: number[]; min?: number; max?: number; mean?: number; n_unique?: number; value?: unknown }> }>;
}

describe.runIf(present)('the NIR paper CNN (cnn_sinabs.nir)', () => {
  const bytes = present ? new Uint8Array(readFileSync(FILE)) : new Uint8Array();
  const graph = present ? (JSON.parse(readFileSync(join(DIR, 'graph.json'), 'utf8')) as GraphJson) : null!;

  it('is read as the chain its README gives, from edges stored in no order, with digit node names', async () => {
    const chain = await readHdf5(bytes, FILE, (root) => nirChain(root, FILE));
    expect([chain.input.name, ...chain.nodes.map((n) => n.name), chain.output.name]).toEqual(graph.chain);
    expect(graph.edges_as_stored.map((e) => e[0])).not.toEqual(graph.chain.slice(0, -1));
    expect(chain.nodes.map((n) => n.type)).toEqual(graph.chain.slice(1, -1).map((n) => graph.nodes[n].type));
  });

  it('has the stored values the README describes: zero biases, IF with r and v_threshold of 1 and no v_reset, float32 weights', async () => {
    await readHdf5(bytes, FILE, (root) => {
      const nodes = ((root.entries.get('node') as H5Group).entries.get('nodes') as H5Group).entries;
      const dataset = (node: string, f: string) => (nodes.get(node) as H5Group).entries.get(f) as H5Dataset | undefined;
      const field = (node: string, f: string) => dataset(node, f)?.read();
      for (const [name, spec] of Object.entries(graph.nodes)) {
        const g = nodes.get(name) as H5Group;
        expect(new Set([...g.entries.keys()].filter((k) => k !== 'type')), name).toEqual(new Set(Object.keys(spec.fields)));
        if (spec.type === 'IF') {
          expect(field(name, 'v_reset')).toBeUndefined();
          for (const f of ['r', 'v_threshold']) expect(new Set(field(name, f)!.data as Float32Array), `${name}.${f}`).toEqual(new Set([1]));
        }
        if ('bias' in spec.fields) expect(new Set(field(name, 'bias')!.data as Float32Array), `${name}.bias`).toEqual(new Set([0]));
        for (const [f, meta] of Object.entries(spec.fields)) {
          // The header gives the shape before anything is read.
          expect(dataset(name, f)!.shape, `${name}.${f} header shape`).toEqual(meta.shape);
          const v = field(name, f)!;
          expect(v.shape, `${name}.${f} shape`).toEqual(meta.shape);
          if (meta.dtype === '<f4') expect(v.kind === 'number' && v.data instanceof Float32Array, `${name}.${f} float32`).toBe(true);
          if (meta.n_unique !== undefined) {
            const data = v.data as Float32Array;
            expect(new Set(data).size, `${name}.${f} distinct values`).toBe(meta.n_unique);
            expect(Math.min(...data)).toBe(meta.min);
            expect(Math.max(...data)).toBe(meta.max);
          }
        }
      }
    });
  });

  it('loads with every preset, with the output shapes graph.json records', async () => {
    for (const preset of ['sinabs', 'norse', 'snntorch', 'spikingjelly'] as const) {
      const { model, warnings } = await readNir(bytes, FILE, { preset });
      expect(model.input.shape).toEqual(graph.nodes.input.output_shape);
      const byName = new Map(model.layers.map((l) => [l.name, l]));
      for (const name of graph.chain.slice(1, -1)) expect(byName.get(name)?.outShape, `${preset} ${name}`).toEqual(graph.nodes[name].output_shape);
      expect(model.readout).toBe('count');
      if (preset === 'sinabs') expect(warnings.join(' ')).toMatch(/MultiSpike/);
      // The IF nodes carry no time constant: every preset reads them as IF, reset rule its own.
      expect(model.layers.filter((l) => l.op === 'if').map((l) => l.name)).toEqual(['1', '3', '6', '10', '12']);
      // Sinabs and SpikingJelly fire at v >= threshold: the model's own test, on the stored threshold of 1.
      const fire = preset === 'sinabs' || preset === 'spikingjelly';
      for (const l of model.layers.filter(isSpiking)) expect([l.name, l.fireAtThreshold, [...new Set(l.threshold.data)]], preset).toEqual([l.name, fire, [1]]);
    }
  });

  it('runs on N-MNIST-like event-count frames and gives SAM maps for its three convolutional IF layers', async () => {
    const { model } = await readNir(bytes, FILE, { preset: 'norse' });
    const T = 40;
    const n = 2 * 34 * 34;
    const frames = new Uint8Array(T * n);
    // A blob of events moving across the sensor, counts 1..3 (1 ms frames hold several events per pixel).
    let s = 7;
    for (let t = 0; t < T; t++)
      for (let p = 0; p < 2; p++)
        for (let y = 0; y < 34; y++)
          for (let x = 0; x < 34; x++) {
            s = (s * 1103515245 + 12345) >>> 0;
            const near = Math.hypot(x - 8 - t / 2, y - 17) < 7;
            if (near && s / 2 ** 32 < 0.5) frames[t * n + (p * 34 + y) * 34 + x] = 1 + (s % 3);
          }
    const net = await Network.create(model);
    net.setInput({ kind: 'train', data: frames, timesteps: T });
    const sams = ['1', '3', '6'].map((l) => new SamObserver(net, l));
    sams.forEach((o) => net.observe(o));
    net.run();
    const rates = net.firingRates();
    for (const l of ['1', '3', '6']) expect(rates[l], `layer ${l} fires`).toBeGreaterThan(0);
    for (const o of sams) {
      const maps = o.maps.data();
      expect(maps.length).toBe(T * o.frameShape[1] * o.frameShape[2]);
      expect(Math.max(...maps), `layer ${o.layer} map`).toBeGreaterThan(0);
    }
  });

  it('matches the shapes of the recorded activity arrays (their inputs are not available to compare values)', () => {
    const speck = readNpy(new Uint8Array(readFileSync(join(DIR, 'speck_activity.npy'))), 'speck_activity.npy');
    expect(speck.shape.slice(2)).toEqual(graph.nodes['1'].output_shape);
    const norse = readNpy(new Uint8Array(readFileSync(join(DIR, 'history', 'norse_activity_9c165fe.npy'))), 'norse');
    expect(norse.shape.slice(1)).toEqual(graph.nodes['1'].output_shape.slice(1));
    const snn = readNpy(new Uint8Array(readFileSync(join(DIR, 'history', 'snnTorch_activity_a3b7fe9.npy'))), 'snntorch');
    expect(snn.shape.slice(2)).toEqual(graph.nodes['12'].output_shape);
  });
});
