/**
 * The JavaScript peers compute what spikelens computes: on a small calibrated network with every op the suite uses
 * (conv2d, per-step affine, lif, avgpool2d, flatten, linear, li) and a batch of 2, tfjs-wasm's and onnxruntime's
 * spikes equal spikelens' bit for bit, and the ONNX writer's output is a model onnxruntime accepts.
 */
import { describe, expect, it } from 'vitest';
import { Network, Recorder, isSpiking } from '@spikelens/sam';
import { FITTED, calibrate, type SuiteWorkload } from '../src/suite-workloads.js';
import { OrtNetwork, loadOrt } from '../src/ort-peer.js';
import { TfjsNetwork } from '../src/tfjs-peer.js';
import { segmentsOf } from '../src/js-peer.js';
import { onnxModel } from '../src/onnx.js';
import { Prng } from '../src/prng.js';
import type { GraphLayer } from '../src/model-build.js';

async function small(signed: boolean): Promise<SuiteWorkload> {
  const T = 6;
  const layers: GraphLayer[] = [
    { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', bias: null, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { name: 'bn1', op: 'affine', scale: 'bn1.scale', shift: 'bn1.shift' },
    { name: 'lif1', op: 'lif', beta: 0.9, threshold: 1, reset: 'subtract', resetDelay: false },
    { name: 'pool1', op: 'avgpool2d', kernel: [2, 2], stride: [2, 2], padding: [0, 0] },
    { name: 'conv2', op: 'conv2d', weight: 'conv2.weight', bias: null, stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 },
    { name: 'lif2', op: 'lif', beta: 0.95, threshold: 1, reset: 'subtract', resetDelay: false },
    { name: 'flat', op: 'flatten' },
    { name: 'fc', op: 'linear', weight: 'fc.weight', bias: null },
    { name: 'out', op: 'li', beta: 1 },
  ];
  const rng = new Prng(7);
  const scale = new Float32Array(T * 8).map(() => Math.round((0.75 + 0.5 * rng.uniform()) * 64) / 64);
  const shift = new Float32Array(T * 8).map(() => Math.round((rng.uniform() - 0.5) * 32) / 256);
  const pixels = new Float32Array(2 * 3 * 12 * 12).map(() => Math.floor(rng.uniform() * 256));
  return calibrate({
    id: 'small',
    graph: {
      format: 'spikelens.model/1',
      name: 'peer-check',
      input: { shape: [3, 12, 12], preprocess: { scale: 1 / 255, mean: [0.5], std: [0.5] }, encoding: { kind: signed ? 'signed-poisson' : 'poisson', gain: 1 } },
      timesteps: T,
      readout: 'final',
      layers,
    },
    shapes: { 'conv1.weight': [8, 3, 3, 3], 'conv2.weight': [12, 8, 3, 3], 'fc.weight': [5, 12 * 6 * 6] },
    targets: { lif1: 0.15, lif2: 0.12 },
    fixed: { 'fc.weight': 1 / 32 },
    extra: [
      { name: 'bn1.scale', dtype: 'F32', shape: [T, 8], data: scale },
      { name: 'bn1.shift', dtype: 'F32', shape: [T, 8], data: shift },
    ],
    pixels,
    batch: 2,
    T,
    seed: 3,
    dataSeed: 11,
    sam: [],
  });
}

async function ours(w: SuiteWorkload): Promise<Map<string, Uint8Array>> {
  const net = await Network.create(w.model, { batch: w.batch, seed: w.seed });
  net.setInput({ kind: 'pixels', data: w.pixels });
  const recs = w.model.layers.filter(isSpiking).map((l) => new Recorder(net, l.name));
  recs.forEach((r) => net.observe(r));
  net.run(w.timesteps);
  return new Map(recs.map((r) => [r.layer, Uint8Array.from(r.spikes!.data())]));
}

describe('the workloads\' weight scales', () => {
  it('are taken from FITTED when the network fires at its targets with them, and fitted again otherwise', async () => {
    const fresh = await small(false);
    expect(fresh.scales).toBe('calibrated');
    const scales = Object.fromEntries(fresh.calibration.map((c) => [c.layer, c.scale]));
    try {
      FITTED.small = scales;
      const fitted = await small(false);
      expect(fitted.scales).toBe('fitted');
      expect(fitted.calibration.map((c) => c.scale)).toEqual(fresh.calibration.map((c) => c.scale));
      fitted.tensors.forEach((t, i) => expect(Buffer.from(t.data.buffer).equals(Buffer.from(fresh.tensors[i].data.buffer)), t.name).toBe(true));
      FITTED.small = Object.fromEntries(Object.entries(scales).map(([k, v]) => [k, v * 4]));
      const refitted = await small(false);
      expect(refitted.scales).toBe('calibrated');
      expect(refitted.calibration.map((c) => c.scale)).toEqual(fresh.calibration.map((c) => c.scale));
    } finally {
      delete FITTED.small;
    }
  });
});

describe('segmentsOf', () => {
  it('cuts the layers at every neuron layer', () => {
    const l = (name: string, op: string) => ({ name, op });
    const segs = segmentsOf([l('c', 'conv2d'), l('a', 'affine'), l('s', 'lif'), l('p', 'avgpool2d'), l('f', 'linear'), l('o', 'li'), l('x', 'flatten')]);
    expect(segs.map((s) => [s.layers.map((x) => x.name).join('+'), s.neuron?.name ?? null])).toEqual([['c+a', 's'], ['p+f', 'o'], ['x', null]]);
  });
});

describe('the JavaScript peers', () => {
  for (const signed of [false, true]) {
    it(`give spikelens' spikes bit for bit (${signed ? 'signed ' : ''}Poisson input, batch 2)`, async () => {
      const w = await small(signed);
      const mine = await ours(w);
      for (const n of ['lif1', 'lif2']) {
        const rate = mine.get(n)!.reduce((a, b) => a + b, 0) / mine.get(n)!.length;
        expect(rate, `${n} fires`).toBeGreaterThan(0.02);
      }
      const tf = await TfjsNetwork.create(w);
      expect(tf.why).toBe('');
      const theirs = await tf.run(true);
      for (const [n, s] of mine) expect(theirs.get(n), `tfjs ${n}`).toEqual(s);
      const ort = await OrtNetwork.create(w, 1);
      if (typeof ort === 'string') throw new Error(ort);
      const onnx = await ort.run(true);
      for (const [n, s] of mine) expect(onnx.get(n), `onnxruntime ${n}`).toEqual(s);
    }, 60_000);
  }

  it('refuse what they do not implement, with the layer named', async () => {
    const w = await small(false);
    const graph = { ...w.graph, layers: w.graph.layers.map((l) => (l.name === 'lif2' ? { ...l, reset: 'zero' } : l)) };
    const tf = await TfjsNetwork.create({ ...w, graph });
    expect(tf.supported).toBe(false);
    expect(tf.why).toContain('lif2');
    const ort = await OrtNetwork.create({ ...w, graph });
    expect(typeof ort !== 'string' && ort.why).toContain('lif2');
  });
});

describe('onnxModel', () => {
  it('writes a model onnxruntime runs: Conv with padding, then Gemm', async () => {
    const ort = await loadOrt();
    if (typeof ort === 'string') throw new Error(ort);
    const w = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const bytes = onnxModel({
      name: 'tiny',
      nodes: [
        { op: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1 } },
        { op: 'Flatten', inputs: ['c'], outputs: ['f'], attrs: { axis: 1 } },
        { op: 'Gemm', inputs: ['f', 'g'], outputs: ['y'], attrs: { transB: 1, alpha: { float: 0.5 } } },
      ],
      initializers: [
        { name: 'w', dims: [1, 1, 3, 3], data: w },
        { name: 'g', dims: [1, 4], data: new Float32Array([1, 10, 100, 1000]) },
      ],
      inputs: [{ name: 'x', dims: [1, 1, 2, 2] }],
      outputs: [{ name: 'y', dims: [1, 1] }],
    });
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 0, 0, 0]), [1, 1, 2, 2]) });
    // x has a single 1 at (0, 0): output (oy, ox) sees it through tap (1 - oy, 1 - ox), so the padded 3x3 conv
    // gives w[1][1], w[1][0], w[0][1], w[0][0] = 5, 4, 2, 1.
    expect(Array.from(out.y.data as Float32Array)).toEqual([0.5 * (5 + 40 + 200 + 1000)]);
  });
});
