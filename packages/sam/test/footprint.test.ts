import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCore, createThreadsCore, embeddedThreadsWasm, embeddedWasm, threadsSupported } from '@spikelens/core-wasm';
import { describe, expect, it } from 'vitest';
import { FOOTPRINT_PARTS, coreStatics, footprint, type FootprintOptions } from '../src/footprint.js';
import { parseModel, readNpy } from '../src/formats/index.js';
import { readNir } from '../src/formats/nir/index.js';
import type { Model } from '../src/model.js';
import { Network } from '../src/network.js';
import { SamObserver } from '../src/observers.js';
import { conv2dPackedLen } from '../src/ops/conv.js';
import { recordAll } from '../src/run.js';
import { f32, tinyModel, tinyTensors } from './formats/fixtures.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MODELS = join(ROOT, 'models');
const CONFORMANCE = join(ROOT, 'conformance');

function bundled(name: string): Model {
  return parseModel(new Uint8Array(readFileSync(join(MODELS, `${name}.safetensors`))), `${name}.safetensors`);
}

/** The arena a real Network of these options takes once it and its SAM observers are laid out. */
async function measured(model: Model, o: FootprintOptions): Promise<{ size: number; heapBase: number; memory: number }> {
  const net = await Network.create(model, { batch: o.batch, threads: o.threads, blockSteps: o.blockSteps, countSops: o.countSops, eventThreshold: o.eventThreshold });
  try {
    for (const name of o.sam ?? []) new SamObserver(net, name);
    return { size: net.arena.size, heapBase: net.core.heapBase, memory: net.core.memory.buffer.byteLength };
  } finally {
    net.close();
  }
}

async function expectExact(model: Model, o: FootprintOptions, what: string): Promise<void> {
  const fp = footprint(model, o);
  const net = await measured(model, o);
  expect(fp.arena, `${what}: arena`).toBe(net.size);
  expect(fp.core.heapBase, `${what}: heap base`).toBe(net.heapBase);
  expect(fp.memory).toBe(net.heapBase + net.size);
  expect(net.memory, `${what}: the memory holds it`).toBeGreaterThanOrEqual(fp.memory);
  const parts = FOOTPRINT_PARTS.reduce((a, p) => a + fp.parts[p], 0);
  expect(parts + fp.padding + fp.staging, `${what}: the parts sum to the arena`).toBe(fp.arena);
  expect(fp.blocks.reduce((a, b) => a + b.bytes, 0)).toBe(parts);
  expect(fp.parts.sam > 0).toBe((o.sam ?? []).length > 0);
}

/** Some variants of the tiny model: every neuron, state, parameter and table kind the plan lays out. */
function variants(): [string, Model][] {
  const tiny = (name: string, change: (g: Record<string, any>) => void, tensors = tinyTensors()): [string, Model] => [
    name, parseModel(tinyModel(change, tensors), `${name}.safetensors`),
  ];
  return [
    tiny('tiny', () => {}),
    tiny('cubalif-delay-fire', (g) => {
      g.layers[1] = { name: 'lif1', op: 'cubalif', alpha: 0.5, beta: 0.9, resetDelay: true, fireAtThreshold: true };
    }),
    tiny('per-neuron-poisson-mean', (g) => {
      g.input.encoding = { kind: 'poisson', gain: 1 };
      g.readout = 'mean';
      g.layers[1] = { name: 'lif1', op: 'lif', beta: 'lif1.beta', threshold: 'lif1.thr' };
    }, [...tinyTensors(), f32('lif1.beta', [4, 8, 8], new Float32Array(256).fill(0.75)), f32('lif1.thr', [4], Float32Array.of(1, 1, 0.5, 0.5))]),
    tiny('avgpool-table-affine-relu', (g) => {
      g.input.encoding = { kind: 'poisson', gain: 1 };
      g.layers.splice(2, 1,
        { name: 'pool1', op: 'avgpool2d', kernel: [2, 2] },
        { name: 'conv2', op: 'conv2d', weight: 'conv2.weight', padding: [1, 1] },
        { name: 'bn', op: 'affine', scale: 'bn.scale', shift: 'bn.shift' },
        { name: 'lif2', op: 'if' },
        { name: 'pool2', op: 'sumpool2d', kernel: [1, 1] },
        { name: 'act', op: 'relu' },
      );
      g.layers.splice(g.layers.length - 2, 1, { name: 'fc', op: 'linear', weight: 'fc.weight', bias: 'fc.bias' });
    }, [
      f32('conv1.weight', [4, 2, 3, 3]), f32('conv1.bias', [4]), f32('conv2.weight', [20, 4, 3, 3]),
      f32('bn.scale', [4, 20], new Float32Array(80).fill(1)), f32('bn.shift', [4, 20]), f32('fc.weight', [3, 320]), f32('fc.bias', [3]),
    ]),
  ];
}

describe('footprint', () => {
  it('is what a Network reserves for the bundled models, at several batches, block lengths, threads and SAM layers', async () => {
    const options: FootprintOptions[] = [
      {},
      { batch: 3, countSops: true, sam: ['lif1', 'lif2'] },
      { batch: 2, blockSteps: 1, eventThreshold: 0 },
      { batch: 5, blockSteps: 7, sam: ['lif2'] },
    ];
    if (threadsSupported()) options.push({ threads: 2 }, { batch: 3, threads: 2, countSops: true, sam: ['lif1'] });
    for (const name of ['mnist-lif-bptt', 'mnist-if-convert', 'fashion-lif-bptt', 'c01-untrained']) {
      const model = bundled(name);
      const spiking = model.layers.filter((l) => (l.op === 'lif' || l.op === 'if') && l.outShape.length === 3).map((l) => l.name);
      for (const o of options) {
        const sam = o.sam?.map((s, i) => spiking[Math.min(i, spiking.length - 1)]).filter((s, i, a) => a.indexOf(s) === i);
        await expectExact(model, { ...o, sam }, `${name} ${JSON.stringify(o)}`);
      }
    }
  }, 120_000);

  it('is what a Network reserves for every conformance case, as the case runs it', async () => {
    let n = 0;
    for (const dir of readdirSync(CONFORMANCE, { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      const at = (f: string): Uint8Array => new Uint8Array(readFileSync(join(CONFORMANCE, dir.name, f)));
      const c = JSON.parse(new TextDecoder().decode(at('case.json')));
      const model = c.model.endsWith('.nir')
        ? (await readNir(at(c.model), c.model, { ...c.import, ...(c.readout ? { readout: c.readout } : {}) })).model
        : parseModel(at(c.model), c.model);
      const input = readNpy(at(c.input), c.input);
      const train = input.shape.length === model.input.shape.length + 2;
      const batch = input.shape[train ? 1 : 0];
      const keys = Object.keys(c.expect);
      const sam = keys.filter((k) => k.endsWith('.sam')).map((k) => k.slice(0, -4));
      const record = keys.filter((k) => k.endsWith('.spikes') || k.endsWith('.v')).map((k) => k.slice(0, k.lastIndexOf('.')));
      const o: FootprintOptions = {
        batch, sam, record: [...new Set(record)], countSops: true, input: train ? 'train' : 'pixels',
        timesteps: train ? input.shape[0] : undefined,
      };
      await expectExact(model, o, dir.name);
      // the host keeps what the case compares: spikes and membranes of the recorded layers, the maps
      expect(footprint(model, o).outputs.sam).toBe(sam.reduce((a, s) => {
        const [, H, W] = model.layers.find((l) => l.name === s)!.outShape;
        return a + (o.timesteps ?? model.timesteps!) * batch * H * W * 4;
      }, 0));
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(9);
  }, 120_000);

  it('is what a Network reserves for models with every kind of layer, state and value table', async () => {
    for (const [name, model] of variants())
      for (const o of [{}, { batch: 4, countSops: true, sam: ['lif1'] }, { batch: 2, blockSteps: 3, eventThreshold: 5 }, ...(threadsSupported() ? [{ threads: 2, batch: 3 }] : [])] as FootprintOptions[])
        await expectExact(model, o, `${name} ${JSON.stringify(o)}`);
    // the pooled-spike conv has its value table: four copies of its packed weights
    const [, pooled] = variants()[3];
    const table = footprint(pooled).blocks.find((b) => b.layer === 'conv2' && b.what === 'value table');
    expect(table?.bytes).toBe(4 * conv2dPackedLen(20, 4, 3, 3, 1) * 4);
  }, 120_000);

  it('splits the bundled MNIST model as its layout does', () => {
    const model = bundled('mnist-lif-bptt');
    const fp = footprint(model, { sam: ['lif1'], record: 'all' });
    expect(fp.frames).toBe(8);
    expect(fp.timesteps).toBe(8);
    // state: one membrane per neuron; SAM: one trace per neuron of lif1 and its map
    const neurons = (name: string): number => model.layers.find((l) => l.name === name)!.outShape.reduce((a, d) => a * d, 1);
    const spiking = model.layers.filter((l) => l.op === 'lif' || l.op === 'li').map((l) => l.name);
    expect(fp.blocks.filter((b) => b.what === 'membrane').map((b) => b.bytes)).toEqual(spiking.map((n) => neurons(n) * 4));
    const [, H, W] = model.layers.find((l) => l.name === 'lif1')!.outShape;
    expect(fp.parts.sam).toBe(neurons('lif1') * 4 + H * W * 4);
    // recorded spikes and membranes are kept by the host, not the arena
    expect(fp.outputs.record).toBe(recordAll(model, { kind: 'pixels' }).reduce((a, n) => a + 8 * neurons(n) * (model.layers.find((l) => l.name === n)!.op === 'li' ? 4 : 5), 0));
    expect(footprint(model, { sam: ['lif1'] }).arena).toBe(fp.arena);
    // windows: frames of every layer's output but flatten's, at batch 2 twice batch 1's
    expect(footprint(model, { batch: 2 }).parts.windows).toBe(2 * footprint(model).parts.windows);
  });

  it('refuses what a run would refuse, with the same words', () => {
    const model = bundled('mnist-lif-bptt');
    expect(() => footprint(model, { sam: ['fc1'] })).toThrow(/--sam: layer "fc1" \(linear\) is not a spiking layer/);
    expect(() => footprint(model, { record: ['nope'] })).toThrow(/--record: the model has no layer "nope"/);
    expect(() => footprint(model, { batch: 0 })).toThrow(/batch must be a positive integer/);
    expect(() => footprint(model, { threads: 3 })).toThrow(/threads must be 1 or 2/);
    expect(() => footprint(model, { record: ['input'] })).toThrow(/not spikes/);
    const huge = footprint(model, { batch: 100_000 });
    expect(huge.fits).toBe(false);
  });
});

describe('the core module read for its static memory', () => {
  it('gives the heap base and list scratch the instances report, without instantiating', async () => {
    const one = coreStatics(embeddedWasm());
    const core = await createCore();
    expect(one.heapBase).toBe(core.heapBase);
    expect(one.listScratch).toBe(core.exports.scratch_bytes());
    // the one-thread build keeps its list scratch static, below the heap base, with its constants
    expect(one.listScratchStatic).toBe(true);
    expect(one.heapBase).toBeGreaterThanOrEqual(one.listScratch + one.dataBytes);
    expect(one.initialPages * 65536).toBeGreaterThanOrEqual(one.heapBase);
    if (threadsSupported()) {
      const threads = coreStatics(embeddedThreadsWasm(), 'core-threads.wasm');
      const tcore = await createThreadsCore();
      expect(threads.heapBase).toBe(tcore.heapBase);
      expect(threads.listScratch).toBe(tcore.exports.scratch_bytes());
      expect(threads.listScratchStatic).toBe(false);
    }
    expect(() => coreStatics(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).toThrow(/no function export "heap_base"/);
    expect(() => coreStatics(new Uint8Array([1, 2, 3]))).toThrow();
  });

  it('packs conv weights to the length the core computes', async () => {
    const core = await createCore();
    for (const [Cout, cinG, kH, kW, groups] of [[1, 1, 1, 1, 1], [16, 3, 3, 3, 1], [17, 5, 3, 1, 1], [32, 16, 3, 3, 1], [10, 800, 1, 1, 1], [12, 2, 3, 3, 3], [64, 1, 5, 5, 64]])
      expect(conv2dPackedLen(Cout, cinG, kH, kW, groups)).toBe(core.exports.conv2d_packed_len(Cout, cinG, kH, kW, groups));
  });
});
