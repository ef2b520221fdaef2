import { xorshift32 } from '../../src/random.js';
import { describe, expect, it } from 'vitest';
import { modelToSafetensors, parseModel } from '../../src/formats/index.js';
import { Network } from '../../src/network.js';
import { DiffNetwork } from '../../src/diff/network.js';
import { Recorder } from '../../src/observers.js';
import { softmaxCrossEntropy } from '../../src/train/loss.js';

const rng = xorshift32;

/** conv -> affine [T,C] -> lif -> avgpool -> conv -> relu -> flatten -> linear -> lif -> linear -> li, on [2,8,8]. */
function model(o: { encoding: 'direct' | 'poisson'; reset: 'subtract' | 'zero'; readout: 'final' | 'mean'; T: number; seed: number }) {
  const r = rng(o.seed);
  const w = (n: number, s: number) => Float32Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * s));
  const graph = {
    format: 'spikelens.model/1',
    name: 'grad',
    input: { shape: [2, 8, 8], preprocess: { scale: 1 / 255, mean: [0.2], std: [0.5] }, encoding: { kind: o.encoding, gain: 1 } },
    timesteps: o.T,
    readout: o.readout,
    layers: [
      { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', bias: 'conv1.bias', padding: [1, 1] },
      { name: 'bn1', op: 'affine', scale: 'bn1.scale', shift: 'bn1.shift' },
      { name: 'lif1', op: 'lif', beta: 0.8, threshold: 0.6, reset: o.reset, vReset: 0.05 },
      { name: 'pool1', op: 'avgpool2d', kernel: [2, 2] },
      { name: 'conv2', op: 'conv2d', weight: 'conv2.weight', stride: [2, 2] },
      { name: 'act', op: 'relu' },
      { name: 'flat', op: 'flatten' },
      { name: 'fc1', op: 'linear', weight: 'fc1.weight', bias: 'fc1.bias' },
      { name: 'lif2', op: 'lif', beta: 0.9, threshold: 0.5, reset: o.reset },
      { name: 'fc2', op: 'linear', weight: 'fc2.weight' },
      { name: 'out', op: 'li', beta: 0.95 },
    ],
  };
  const tensors = [
    { name: 'conv1.weight', dtype: 'F32' as const, shape: [4, 2, 3, 3], data: w(72, 0.7) },
    { name: 'conv1.bias', dtype: 'F32' as const, shape: [4], data: w(4, 0.2) },
    { name: 'bn1.scale', dtype: 'F32' as const, shape: [o.T, 4], data: Float32Array.from({ length: 4 * o.T }, () => Math.fround(0.7 + r() * 0.6)) },
    { name: 'bn1.shift', dtype: 'F32' as const, shape: [o.T, 4], data: w(4 * o.T, 0.2) },
    { name: 'conv2.weight', dtype: 'F32' as const, shape: [3, 4, 2, 2], data: w(48, 0.9) },
    { name: 'fc1.weight', dtype: 'F32' as const, shape: [6, 12], data: w(72, 0.8) },
    { name: 'fc1.bias', dtype: 'F32' as const, shape: [6], data: w(6, 0.2) },
    { name: 'fc2.weight', dtype: 'F32' as const, shape: [3, 6], data: w(18, 0.9) },
  ];
  return parseModel(modelToSafetensors(graph, tensors), 'grad.safetensors');
}

const B = 3;
const pixels = (seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: B * 128 }, () => Math.floor(r() * 256));
};
const labels = Uint8Array.of(0, 2, 1);
const keys = [0, 1, 2];

describe('DiffNetwork', () => {
  it('runs pixels the same when it was built for spike trains too (direct input is copied into every step)', async () => {
    const m = model({ encoding: 'direct', reset: 'subtract', readout: 'final', T: 4, seed: 5 });
    const px = pixels(2);
    const plain = await DiffNetwork.create(m, { batch: B, timesteps: 4 });
    const both = await DiffNetwork.create(m, { batch: B, timesteps: 4, spikeInput: true });
    const want = Array.from(plain.forward(px, keys, 0));
    expect(want.some((v) => v !== 0)).toBe(true);
    expect(Array.from(both.forward(px, keys, 0))).toEqual(want);
  });

  it('keeps its parameter views live when the memory grows after layout', async () => {
    const m = model({ encoding: 'direct', reset: 'subtract', readout: 'final', T: 2, seed: 5 });
    const g = await DiffNetwork.create(m, { batch: 1, timesteps: 2 });
    const before = g.core.memory.buffer.byteLength;
    g.core.reserve(g.arena.size + 64 * 2 ** 20);
    expect(g.core.memory.buffer.byteLength).toBeGreaterThan(before);
    const p = g.params[0];
    p.data[0] = 0.125;
    p.grad[1] = 2;
    expect(g.params[0].data[0]).toBe(0.125);
    expect(g.params[0].grad[1]).toBe(2);
    expect(p.data.buffer).toBe(g.core.memory.buffer);
  });

  it('computes the same forward pass as the inference Network, bit for bit', async () => {
    for (const encoding of ['direct', 'poisson'] as const) {
      const m = model({ encoding, reset: 'subtract', readout: 'final', T: 5, seed: 4 });
      const g = await DiffNetwork.create(m, { batch: B, timesteps: 5 });
      const px = pixels(1);
      const scores = g.forward(px, keys, 9);
      const net = await Network.create(m, { batch: B, seed: 9 });
      net.setInput({ kind: 'pixels', data: px });
      net.run();
      expect(Array.from(scores)).toEqual(Array.from(net.scores()));
      expect(g.spikeCounts.get('lif1')).toBe(net.spikeCounts.get('lif1'));
      expect(g.spikeCounts.get('lif1')).toBeGreaterThan(0);
    }
  });

  it('gives gradients that match central finite differences (smooth spikes, reset path kept)', async () => {
    for (const [reset, readout] of [['subtract', 'final'], ['zero', 'mean']] as const) {
      const m = model({ encoding: 'direct', reset, readout, T: 4, seed: 7 });
      const g = await DiffNetwork.create(m, { batch: B, timesteps: 4, surrogate: 'smooth', keepReset: true, trainBeta: true, inputGrad: true });
      const px = pixels(3);
      const loss = (): number => softmaxCrossEntropy(g.forward(px, keys, 0), labels);
      const scores = g.forward(px, keys, 0);
      const dScores = new Float32Array(scores.length);
      softmaxCrossEntropy(scores, labels, dScores);
      g.zeroGrad();
      g.backward(dScores);
      let checked = 0;
      for (const p of g.params) {
        const analytic = Float64Array.from(p.grad);
        const scale = Math.max(...analytic.map(Math.abs));
        expect(scale, `${p.name}: some gradient`).toBeGreaterThan(0);
        for (let i = 0; i < p.data.length; i += Math.max(1, Math.floor(p.data.length / 6))) {
          const keep = p.data[i];
          const h = 1e-2 * Math.max(1, Math.abs(keep));
          p.data[i] = keep + h;
          g.syncWeights();
          const up = loss();
          p.data[i] = keep - h;
          g.syncWeights();
          const down = loss();
          p.data[i] = keep;
          g.syncWeights();
          const numeric = (up - down) / (2 * h);
          expect(Math.abs(numeric - analytic[i]), `${reset}/${readout} ${p.name}[${i}]: ${numeric} vs ${analytic[i]}`).toBeLessThanOrEqual(
            0.05 * scale + 0.05 * Math.abs(numeric),
          );
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(30);
      expect(g.params.map((p) => p.name)).toContain('lif1.beta');
      // the input gradient, summed over steps (direct input is the same current at every step), through
      // preprocessing x = (pixel/255 - 0.2)/0.5, against finite differences on pixel values
      g.forward(px, keys, 0);
      g.zeroGrad();
      g.backward(dScores);
      const dx = new Float64Array(px.length);
      for (let t = 0; t < 4; t++) g.inputGradient(t).forEach((v, i) => (dx[i] += v));
      const top = Math.max(...dx.map(Math.abs));
      expect(top).toBeGreaterThan(0);
      // pixelGradient carries the same sum through the preprocessing
      const dPixel = g.pixelGradient();
      for (let i = 0; i < px.length; i++) expect(Math.abs(dPixel[i] - dx[i] / 255 / 0.5)).toBeLessThanOrEqual(1e-6 * (top / 255 / 0.5));
      for (let i = 5; i < px.length; i += 37) {
        const keep = px[i];
        px[i] = keep + 0.5;
        const up = loss();
        px[i] = keep - 0.5;
        const down = loss();
        px[i] = keep;
        const numeric = (up - down) / 1;
        const analytic = dx[i] / 255 / 0.5;
        expect(Math.abs(numeric - analytic), `pixel ${i}: ${numeric} vs ${analytic}`).toBeLessThanOrEqual(0.05 * (top / 255 / 0.5) + 0.05 * Math.abs(numeric));
      }
    }
  });
});

describe('DiffNetwork pixel gradients', () => {
  it('takes Poisson spikes straight through: gain*scale/std where the probability is inside (0, 1), else 0', async () => {
    const m = model({ encoding: 'poisson', reset: 'subtract', readout: 'final', T: 3, seed: 8 });
    const g = await DiffNetwork.create(m, { batch: B, timesteps: 3, inputGrad: true });
    // pixels at 0 and 255 give probabilities clamped to 0 and 1 (x = (p/255 - 0.2)/0.5): no gradient there
    const px = pixels(6);
    px[0] = 0;
    px[1] = 255;
    const scores = g.forward(px, keys, 4);
    const d = new Float32Array(scores.length);
    softmaxCrossEntropy(scores, labels, d);
    g.zeroGrad();
    g.backward(d);
    const dPixel = g.pixelGradient();
    let inside = 0;
    for (let i = 0; i < px.length; i++) {
      const x = Math.fround(Math.fround(Math.fround(px[i] * Math.fround(1 / 255)) - Math.fround(0.2)) / Math.fround(0.5));
      let sum = 0;
      for (let t = 0; t < 3; t++) sum += g.inputGradient(t)[i];
      const want = x > 0 && x < 1 ? (sum * (1 / 255)) / 0.5 : 0;
      if (x > 0 && x < 1) inside++;
      expect(Math.abs(dPixel[i] - want), `pixel ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1e-3, Math.abs(want)));
    }
    expect(dPixel[0]).toBe(0);
    expect(dPixel[1]).toBe(0);
    expect(inside).toBeGreaterThan(100);
    expect(dPixel.some((v) => v !== 0)).toBe(true);
  });

  it('refuses a pixel gradient after a spike-train input', async () => {
    const m = model({ encoding: 'direct', reset: 'subtract', readout: 'final', T: 2, seed: 8 });
    const g = await DiffNetwork.create(m, { batch: B, timesteps: 2, spikeInput: true, inputGrad: true });
    g.forwardTrain(new Uint8Array(2 * B * 128).fill(1));
    g.backward(new Float32Array(B * 3).fill(1));
    expect(() => g.pixelGradient()).toThrow(/spike train/);
  });
});

describe('DiffNetwork gradients at every step', () => {
  it('records the gradient of a layer output and of a spike-train input; the input one is the adjoint of conv1', async () => {
    const m = model({ encoding: 'poisson', reset: 'subtract', readout: 'final', T: 3, seed: 2 });
    const g = await DiffNetwork.create(m, { batch: B, timesteps: 3, spikeInput: true, inputGrad: true, gradLayers: ['lif1', 'conv1'] });
    const r = rng(5);
    const train = Float32Array.from({ length: 3 * B * 128 }, () => (r() < 0.3 ? 1 : 0));
    const scores = g.forwardTrain(train);
    const net = await Network.create(m, { batch: B });
    net.setInput({ kind: 'train', data: Uint8Array.from(train), timesteps: 3 });
    net.run();
    expect(Array.from(scores)).toEqual(Array.from(net.scores()));
    const d = new Float32Array(scores.length);
    softmaxCrossEntropy(scores, labels, d);
    g.zeroGrad();
    g.backward(d);
    // final readout: only the last step sees the loss directly, but the membranes carry it back to step 0
    for (let t = 0; t < 3; t++) expect(g.layerGradient('lif1', t).some((v) => v !== 0), `lif1 at ${t}`).toBe(true);
    // <dL/dconv1_out, conv1(x)> = <dL/dx, x> for the bias-free part: conv1 is linear in its input
    const w = m.layers[0];
    if (w.op !== 'conv2d') throw new Error('conv1 expected');
    let lhs = 0;
    let rhs = 0;
    for (let t = 0; t < 3; t++) {
      const gy = g.layerGradient('conv1', t);
      const gx = g.inputGradient(t);
      const x = train.subarray(t * B * 128, (t + 1) * B * 128);
      for (let i = 0; i < gx.length; i++) rhs += gx[i] * x[i];
      // conv1(x) without its bias, from the core's own forward: Network's conv1 output minus the bias
      for (let b = 0; b < B; b++)
        for (let c = 0; c < 4; c++)
          for (let p = 0; p < 64; p++) {
            let y = 0;
            for (let ci = 0; ci < 2; ci++)
              for (let ky = 0; ky < 3; ky++)
                for (let kx = 0; kx < 3; kx++) {
                  const iy = Math.floor(p / 8) + ky - 1;
                  const ix = (p % 8) + kx - 1;
                  if (iy < 0 || iy >= 8 || ix < 0 || ix >= 8) continue;
                  y += w.weight.data[((c * 2 + ci) * 3 + ky) * 3 + kx] * x[(b * 2 + ci) * 64 + iy * 8 + ix];
                }
            lhs += gy[(b * 4 + c) * 64 + p] * y;
          }
    }
    expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(lhs)));
    expect(Math.abs(rhs)).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// resetDelay true and cubalif (docs/training.md): conv -> neuron -> avgpool -> flatten -> linear -> neuron ->
// linear -> li on [2,6,6], both neuron layers of the kind under test. `per`: 'channel' ([C] tensors, so beta is
// trainable), 'neuron' (beta and vReset per neuron, threshold and alpha per channel: the kernels get them expanded),
// 'alpha' (cubalif only: alpha per neuron, the rest per channel). `fire`: the layers fire at v >= threshold
// (fireAtThreshold); such models are built on a dyadic grid (weights, thresholds, vReset multiples of 1/8, beta and
// alpha 1/2 or 3/4, pixels scaled by 1/256), so membranes land exactly on their thresholds.
type NeuronKind = {
  op: 'lif' | 'if' | 'cubalif';
  reset: 'subtract' | 'zero' | 'none';
  resetDelay: boolean;
  per: 'channel' | 'neuron' | 'alpha';
  fire?: boolean;
};

function neuronModel(o: NeuronKind & { encoding: 'direct' | 'poisson'; readout: 'final' | 'mean'; T: number; seed: number; dyadic?: boolean }) {
  const r = rng(o.seed);
  const dyadic = o.dyadic ?? o.fire === true;
  const grid = (x: number) => (dyadic ? Math.round(x * 8) / 8 : Math.fround(x));
  const w = (n: number, s: number) => Float32Array.from({ length: n }, () => grid((r() * 2 - 1) * s));
  const u = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => grid(lo + r() * (hi - lo)));
  // a decay: 1/2 or 3/4 on the dyadic grid
  const decay = (n: number, lo: number, hi: number) => (dyadic ? Float32Array.from({ length: n }, () => [0.5, 0.75][Math.floor(r() * 2)]) : u(n, lo, hi));
  const tensors: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[] = [
    { name: 'conv1.weight', dtype: 'F32', shape: [3, 2, 3, 3], data: w(54, 0.8) },
    { name: 'conv1.bias', dtype: 'F32', shape: [3], data: w(3, 0.2) },
    { name: 'fc1.weight', dtype: 'F32', shape: [8, 27], data: w(216, 0.9) },
    { name: 'fc1.bias', dtype: 'F32', shape: [8], data: w(8, 0.3) },
    { name: 'fc2.weight', dtype: 'F32', shape: [3, 8], data: w(24, 0.9) },
  ];
  const neuron = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const param = (field: string, perNeuron: boolean, lo: number, hi: number, gen = u): string => {
      const sh = perNeuron ? shape : [shape[0]];
      tensors.push({ name: `${name}.${field}`, dtype: 'F32', shape: sh, data: gen(perNeuron ? size : shape[0], lo, hi) });
      return `${name}.${field}`;
    };
    const layer: Record<string, unknown> = {
      name,
      op: o.op,
      reset: o.reset,
      resetDelay: o.resetDelay,
      threshold: param('threshold', false, 0.35, 0.7),
      vReset: param('vReset', o.per === 'neuron', -0.1, 0.15),
      ...(o.fire ? { fireAtThreshold: true } : {}),
    };
    if (o.op !== 'if') layer.beta = param('beta', o.per === 'neuron', 0.6, 0.95, decay);
    if (o.op === 'cubalif') layer.alpha = param('alpha', o.per === 'alpha', 0.3, 0.8, decay);
    return layer;
  };
  const graph = {
    format: 'spikelens.model/1',
    name: 'neurons',
    input: { shape: [2, 6, 6], preprocess: dyadic ? { scale: 1 / 256, mean: [0.25], std: [0.5] } : { scale: 1 / 255, mean: [0.2], std: [0.5] }, encoding: { kind: o.encoding, gain: 1 } },
    timesteps: o.T,
    readout: o.readout,
    layers: [
      { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', bias: 'conv1.bias', padding: [1, 1] },
      neuron('n1', [3, 6, 6]),
      { name: 'pool1', op: 'avgpool2d', kernel: [2, 2] },
      { name: 'flat', op: 'flatten' },
      { name: 'fc1', op: 'linear', weight: 'fc1.weight', bias: 'fc1.bias' },
      neuron('n2', [8]),
      { name: 'fc2', op: 'linear', weight: 'fc2.weight' },
      { name: 'out', op: 'li', beta: 0.9 },
    ],
  };
  return parseModel(modelToSafetensors(graph, tensors), 'neurons.safetensors');
}

const smallPixels = (seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: B * 72 }, () => Math.floor(r() * 256));
};

const kindName = (k: NeuronKind) => `${k.op} ${k.reset} resetDelay ${k.resetDelay} per ${k.per}${k.fire ? ' fireAtThreshold' : ''}`;

describe('DiffNetwork with resetDelay true and cubalif', () => {
  it('computes the same forward pass as the inference Network, bit for bit (step surrogates), fireAtThreshold too', async () => {
    const kinds: NeuronKind[] = [];
    for (const per of ['channel', 'neuron'] as const) {
      for (const reset of ['subtract', 'zero', 'none'] as const) {
        kinds.push({ op: 'lif', reset, resetDelay: true, per });
        for (const resetDelay of [false, true]) kinds.push({ op: 'cubalif', reset, resetDelay, per });
      }
      kinds.push({ op: 'if', reset: 'subtract', resetDelay: true, per });
    }
    kinds.push({ op: 'cubalif', reset: 'subtract', resetDelay: true, per: 'alpha' });
    kinds.push({ op: 'cubalif', reset: 'zero', resetDelay: false, per: 'alpha' });
    // v >= threshold, on dyadic models whose membranes land exactly on their thresholds: every reset and timing
    const fires: NeuronKind[] = [];
    for (const per of ['channel', 'neuron'] as const)
      for (const reset of ['subtract', 'zero', 'none'] as const) for (const resetDelay of [false, true]) fires.push({ op: 'lif', reset, resetDelay, per, fire: true });
    fires.push({ op: 'if', reset: 'subtract', resetDelay: false, per: 'channel', fire: true });
    fires.push({ op: 'if', reset: 'zero', resetDelay: true, per: 'neuron', fire: true });
    fires.push({ op: 'cubalif', reset: 'subtract', resetDelay: true, per: 'alpha', fire: true });
    fires.push({ op: 'cubalif', reset: 'zero', resetDelay: false, per: 'neuron', fire: true });
    kinds.push(...fires);
    // how many fireAtThreshold models spike differently from the same model firing at v > threshold
    let differs = 0;
    let i = 0;
    for (const kind of kinds) {
      const encoding = i % 3 === 2 ? 'poisson' : 'direct';
      const surrogate = (['triangle', 'atan', 'fast-sigmoid'] as const)[i % 3];
      const readout = i % 2 ? 'mean' : 'final';
      i++;
      const T = 6;
      const m = neuronModel({ ...kind, encoding, readout, T, seed: 11 + i });
      const g = await DiffNetwork.create(m, { batch: B, timesteps: T, surrogate });
      // on the dyadic grid, pixels 0, 64, 128 or 192: inputs -0.5, 0, 0.5 or 1
      const px = kind.fire ? smallPixels(i).map((v) => v & 0xc0) : smallPixels(i);
      const scores = g.forward(px, keys, 3);
      const net = await Network.create(m, { batch: B, seed: 3 });
      net.setInput({ kind: 'pixels', data: px });
      net.run();
      const what = `${kindName(kind)}, ${encoding}, ${surrogate}`;
      expect(Array.from(scores), what).toEqual(Array.from(net.scores()));
      for (const [layer, size] of [['n1', 108], ['n2', 8]] as const) {
        const count = g.spikeCounts.get(layer)!;
        expect(count, `${what}: ${layer}`).toBe(net.spikeCounts.get(layer));
        expect(count, `${what}: ${layer} spikes`).toBeGreaterThan(0);
        expect(count, `${what}: ${layer} not saturated`).toBeLessThan(B * T * size);
      }
      // the same DiffNetwork runs again from the start (state reset between passes)
      expect(Array.from(g.forward(px, keys, 3)), `${what}: second pass`).toEqual(Array.from(scores));
      if (kind.fire) {
        // the spike trains of n1 and n2 with v >= threshold and with v > threshold
        const trains = async (fire: boolean) => {
          const n = await Network.create(neuronModel({ ...kind, fire, dyadic: true, encoding, readout, T, seed: 11 + i }), { batch: B, seed: 3 });
          n.setInput({ kind: 'pixels', data: px });
          const recs = ['n1', 'n2'].map((l) => new Recorder(n, l));
          recs.forEach((r) => n.observe(r));
          n.run();
          return recs.flatMap((r) => Array.from(r.spikes!.data()));
        };
        const a = await trains(true);
        const b = await trains(false);
        if (a.some((x, k) => x !== b[k])) differs++;
      }
    }
    expect(differs).toBe(fires.length);
  });

  it('gives gradients that match central differences (smooth spikes, reset path kept), parameters and input', async () => {
    const kinds: NeuronKind[] = [
      { op: 'lif', reset: 'subtract', resetDelay: true, per: 'channel' },
      { op: 'lif', reset: 'zero', resetDelay: true, per: 'channel' },
      { op: 'cubalif', reset: 'subtract', resetDelay: false, per: 'channel' },
      { op: 'cubalif', reset: 'subtract', resetDelay: true, per: 'channel' },
      { op: 'cubalif', reset: 'zero', resetDelay: true, per: 'channel' },
    ];
    for (const [k, kind] of kinds.entries()) {
      const T = 5;
      const readout = k % 2 ? 'mean' : 'final';
      const m = neuronModel({ ...kind, encoding: 'direct', readout, T, seed: 40 + k });
      const g = await DiffNetwork.create(m, { batch: B, timesteps: T, surrogate: 'smooth', keepReset: true, trainBeta: true, inputGrad: true });
      const what = kindName(kind);
      expect(g.params.map((p) => p.name), what).toEqual(expect.arrayContaining(['n1.beta', 'n2.beta']));
      const px = smallPixels(30 + k);
      const loss = (): number => softmaxCrossEntropy(g.forward(px, keys, 0), labels);
      const scores = g.forward(px, keys, 0);
      const dScores = new Float32Array(scores.length);
      softmaxCrossEntropy(scores, labels, dScores);
      g.zeroGrad();
      g.backward(dScores);
      const dx = new Float64Array(px.length);
      for (let t = 0; t < T; t++) g.inputGradient(t).forEach((v, i) => (dx[i] += v));
      let checked = 0;
      for (const p of g.params) {
        const analytic = Float64Array.from(p.grad);
        const scale = Math.max(...analytic.map(Math.abs));
        expect(scale, `${what}: ${p.name} some gradient`).toBeGreaterThan(0);
        for (let i = 0; i < p.data.length; i += Math.max(1, Math.floor(p.data.length / 5))) {
          const keep = p.data[i];
          const h = 1e-2 * Math.max(1, Math.abs(keep));
          p.data[i] = keep + h;
          g.syncWeights();
          const up = loss();
          p.data[i] = keep - h;
          g.syncWeights();
          const down = loss();
          p.data[i] = keep;
          g.syncWeights();
          const numeric = (up - down) / (2 * h);
          expect(Math.abs(numeric - analytic[i]), `${what} ${p.name}[${i}]: ${numeric} vs ${analytic[i]}`).toBeLessThanOrEqual(
            0.05 * scale + 0.05 * Math.abs(numeric),
          );
          checked++;
        }
      }
      expect(checked, what).toBeGreaterThan(25);
      // the input: direct input is the same current at every step, so the sum over steps, through the preprocessing
      const top = Math.max(...dx.map(Math.abs));
      expect(top, what).toBeGreaterThan(0);
      for (let i = 3; i < px.length; i += 19) {
        const keep = px[i];
        px[i] = keep + 0.5;
        const up = loss();
        px[i] = keep - 0.5;
        const down = loss();
        px[i] = keep;
        const numeric = up - down;
        const analytic = dx[i] / 255 / 0.5;
        expect(Math.abs(numeric - analytic), `${what} pixel ${i}: ${numeric} vs ${analytic}`).toBeLessThanOrEqual(
          0.05 * (top / 255 / 0.5) + 0.05 * Math.abs(numeric),
        );
      }
    }
  });

  it('gives finite, nonzero gradients with the step surrogates and the reset detached (the default)', async () => {
    for (const [k, surrogate] of (['atan', 'triangle', 'fast-sigmoid'] as const).entries()) {
      for (const kind of [
        { op: 'lif', reset: 'subtract', resetDelay: true, per: 'channel' },
        { op: 'cubalif', reset: 'subtract', resetDelay: true, per: 'neuron' },
        { op: 'cubalif', reset: 'zero', resetDelay: false, per: 'channel' },
      ] as const) {
        const m = neuronModel({ ...kind, encoding: 'direct', readout: 'final', T: 4, seed: 60 + k });
        const g = await DiffNetwork.create(m, { batch: B, timesteps: 4, surrogate, trainBeta: true, inputGrad: true });
        const scores = g.forward(smallPixels(7 + k), keys, 0);
        const d = new Float32Array(scores.length);
        softmaxCrossEntropy(scores, labels, d);
        g.zeroGrad();
        g.backward(d);
        const what = `${kindName(kind)}, ${surrogate}`;
        for (const p of g.params) {
          expect(p.grad.every(Number.isFinite), `${what}: ${p.name} finite`).toBe(true);
          expect(p.grad.some((v) => v !== 0), `${what}: ${p.name} nonzero`).toBe(true);
        }
        expect(g.params.some((p) => p.name === 'n1.beta'), what).toBe(kind.per === 'channel');
        const dPixel = g.pixelGradient();
        expect(dPixel.every(Number.isFinite), what).toBe(true);
        expect(dPixel.some((v) => v !== 0), what).toBe(true);
      }
    }
  });
});
