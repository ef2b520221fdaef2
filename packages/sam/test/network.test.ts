import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { xorshift32 } from '../src/random.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { modelToSafetensors, parseModel } from '../src/formats/index.js';
import type { Model } from '../src/model.js';
import { DEFAULT_EVENT_THRESHOLD, Network, layerEventThreshold, type NetworkInput } from '../src/network.js';
import { Recorder, SamObserver, samFromSpikes } from '../src/observers.js';
import { summarize } from '../src/summary.js';
import { memoryInput, simulate } from '../src/run.js';

/** A small seeded generator, so a failing property names a reproducible model. */
const rng = xorshift32;

/** Random, non-dyadic float32 weights: every rounding in the kernels matters. */
function weights(r: () => number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * scale));
}

interface Spec {
  seed: number;
  encoding: 'poisson' | 'signed-poisson' | 'direct';
  stride: number;
  padding: number;
  dilation: number;
  reset: 'subtract' | 'zero' | 'none';
  resetDelay: boolean;
  pool: 'avgpool2d' | 'sumpool2d' | 'maxpool2d';
  readout: 'final' | 'mean';
  perStepAffine: boolean;
}

function randomModel(s: Spec): Model {
  const r = rng(s.seed);
  const C0 = 2;
  const H = 14;
  const C1 = 6;
  const k = 3;
  const H1 = Math.floor((H + 2 * s.padding - s.dilation * (k - 1) - 1) / s.stride) + 1;
  const H2 = Math.floor(H1 / 2);
  const C2 = 4;
  const H3 = H2;
  const T = 8;
  const graph = {
    format: 'spikelens.model/1',
    name: `random-${s.seed}`,
    input: {
      shape: [C0, H, H],
      preprocess: { scale: 1 / 255, mean: [0.1, 0.2], std: [0.9, 1.1] },
      encoding: { kind: s.encoding, gain: 0.9 },
    },
    timesteps: T,
    readout: s.readout,
    layers: [
      { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', bias: 'conv1.bias', stride: [s.stride, s.stride], padding: [s.padding, s.padding], dilation: [s.dilation, s.dilation] },
      { name: 'bn1', op: 'affine', scale: 'bn1.scale', shift: 'bn1.shift' },
      { name: 'lif1', op: 'lif', beta: 'lif1.beta', threshold: 0.7, reset: s.reset, resetDelay: s.resetDelay, vReset: s.reset === 'zero' ? 0.1 : 0 },
      { name: 'pool1', op: s.pool, kernel: [2, 2] },
      { name: 'conv2', op: 'conv2d', weight: 'conv2.weight', groups: 2, padding: [1, 1] },
      { name: 'if2', op: 'if', threshold: 'if2.threshold', reset: s.reset, resetDelay: !s.resetDelay },
      { name: 'flat', op: 'flatten' },
      { name: 'fc', op: 'linear', weight: 'fc.weight', bias: 'fc.bias' },
      { name: 'out', op: 'li', beta: 0.95 },
    ],
  };
  const rows = s.perStepAffine ? T : 1;
  const affShape = s.perStepAffine ? [T, C1] : [C1];
  const tensors = [
    { name: 'conv1.weight', dtype: 'F32' as const, shape: [C1, C0, k, k], data: weights(r, C1 * C0 * k * k, 0.6) },
    { name: 'conv1.bias', dtype: 'F32' as const, shape: [C1], data: weights(r, C1, 0.1) },
    { name: 'bn1.scale', dtype: 'F32' as const, shape: affShape, data: Float32Array.from({ length: rows * C1 }, () => Math.fround(0.8 + r() * 0.6)) },
    { name: 'bn1.shift', dtype: 'F32' as const, shape: affShape, data: weights(r, rows * C1, 0.2) },
    { name: 'lif1.beta', dtype: 'F32' as const, shape: [C1], data: Float32Array.from({ length: C1 }, () => Math.fround(0.7 + r() * 0.29)) },
    { name: 'conv2.weight', dtype: 'F32' as const, shape: [C2, C1 / 2, k, k], data: weights(r, C2 * (C1 / 2) * k * k, 0.9) },
    { name: 'if2.threshold', dtype: 'F32' as const, shape: [C2, H3, H3], data: Float32Array.from({ length: C2 * H3 * H3 }, () => Math.fround(0.3 + r())) },
    { name: 'fc.weight', dtype: 'F32' as const, shape: [5, C2 * H3 * H3], data: weights(r, 5 * C2 * H3 * H3, 0.5) },
    { name: 'fc.bias', dtype: 'F32' as const, shape: [5], data: weights(r, 5, 0.1) },
  ];
  return parseModel(modelToSafetensors(graph, tensors), 'random.safetensors');
}

/** Values in one sample's input [2, 14, 14]. */
const PER = 2 * 14 * 14;

function pixels(seed: number, n: number): Float32Array {
  const r = rng(seed ^ 0x9e3779b9);
  return Float32Array.from({ length: n }, () => Math.floor(r() * 256));
}

interface Trace {
  spikes: Record<string, Uint8Array | Int8Array | Float32Array>;
  v: Record<string, Float32Array>;
  sam: Record<string, Float32Array>;
  scores: Float32Array;
  eventSteps: number;
}

async function trace(model: Model, input: NetworkInput, batch: number, opts: { eventThreshold?: number; keyOffset?: number; sam?: boolean; seed?: number; threads?: number } = {}): Promise<Trace> {
  const net = await Network.create(model, { batch, seed: opts.seed ?? 3, eventThreshold: opts.eventThreshold, keyOffset: opts.keyOffset, threads: opts.threads, sharedWork: 0 });
  net.setInput(input);
  const names = ['lif1', 'if2', 'out', ...(net.inputIsSpikes ? ['input'] : [])];
  const recs = names.map((n) => new Recorder(net, n, { spikes: true, membrane: true }));
  recs.forEach((r) => net.observe(r));
  const sams = opts.sam === false ? [] : ['lif1', 'if2'].map((n) => new SamObserver(net, n, { gamma: 0.3, ncs: 'strict' }));
  sams.forEach((s) => net.observe(s));
  net.run();
  const out: Trace = { spikes: {}, v: {}, sam: {}, scores: net.scores(), eventSteps: [...net.eventSteps.values()].reduce((a, b) => a + b, 0) };
  for (const r of recs) {
    if (r.spikes) out.spikes[r.layer] = r.spikes.data().slice();
    if (r.membrane) out.v[r.layer] = r.membrane.data().slice();
  }
  for (const s of sams) out.sam[s.layer] = s.maps.data().slice();
  net.close();
  return out;
}

/**
 * The first byte where two arrays differ, or -1 when they are bit-for-bit equal (distinguishes -0; any NaN is a
 * difference unless its bits match). A plain loop: deep-equality matchers are far too slow on these sizes.
 */
function firstDiff(a: Float32Array | Uint8Array | Int8Array, b: Float32Array | Uint8Array | Int8Array): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function expectSame(a: Float32Array | Uint8Array | Int8Array, b: Float32Array | Uint8Array | Int8Array, what = ''): void {
  expect(firstDiff(a, b), `${what}: first differing byte`).toBe(-1);
}

const specArb = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 }),
  encoding: fc.constantFrom('poisson' as const, 'signed-poisson' as const, 'direct' as const),
  stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 2 }),
  dilation: fc.integer({ min: 1, max: 2 }),
  reset: fc.constantFrom('subtract' as const, 'zero' as const, 'none' as const),
  resetDelay: fc.boolean(),
  pool: fc.constantFrom('avgpool2d' as const, 'sumpool2d' as const, 'maxpool2d' as const),
  readout: fc.constantFrom('final' as const, 'mean' as const),
  perStepAffine: fc.boolean(),
});

describe('Network', () => {
  it('event-driven and dense paths give bit-identical networks', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (s) => {
        const model = randomModel(s);
        const input: NetworkInput = { kind: 'pixels', data: pixels(s.seed, 2 * PER) };
        const dense = await trace(model, input, 2, { eventThreshold: 0 });
        const event = await trace(model, input, 2, { eventThreshold: 4 });
        expect(dense.eventSteps).toBe(0);
        expect(event.eventSteps).toBeGreaterThan(0);
        for (const k of Object.keys(dense.spikes)) expectSame(event.spikes[k], dense.spikes[k]);
        for (const k of Object.keys(dense.v)) expectSame(event.v[k], dense.v[k]);
        for (const k of Object.keys(dense.sam)) expectSame(event.sam[k], dense.sam[k]);
        expectSame(event.scores, dense.scores);
      }),
      { numRuns: 25 },
    );
  });

  it('two threads (a helper computing half the rows of every conv) give one thread\'s bits, dense and event paths', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.constantFrom(0, 0.4, 4), async (s, eventThreshold) => {
        const model = randomModel(s);
        const input: NetworkInput = { kind: 'pixels', data: pixels(s.seed, 2 * PER) };
        const one = await trace(model, input, 2, { eventThreshold });
        const two = await trace(model, input, 2, { eventThreshold, threads: 2 });
        for (const k of Object.keys(one.spikes)) expectSame(two.spikes[k], one.spikes[k]);
        for (const k of Object.keys(one.v)) expectSame(two.v[k], one.v[k]);
        for (const k of Object.keys(one.sam)) expectSame(two.sam[k], one.sam[k]);
        expectSame(two.scores, one.scores);
        expect(two.eventSteps).toBe(one.eventSteps);
      }),
      { numRuns: 12 },
    );
  });

  it('takes threads 1 or 2 only, and a core source only with one thread', async () => {
    const model = randomModel(fc.sample(specArb, { numRuns: 1, seed: 5 })[0]);
    await expect(Network.create(model, { threads: 3 })).rejects.toThrow(/threads must be 1 or 2/);
    await expect(Network.create(model, { threads: 0 })).rejects.toThrow(/threads must be 1 or 2/);
    await expect(Network.create(model, { threads: 2, core: new Uint8Array(8) })).rejects.toThrow(/do not give a core/);
    const net = await Network.create(model, { threads: 2 });
    net.close();
    net.close(); // idempotent
  });

  it('a batch of n equals n runs of 1', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.integer({ min: 2, max: 4 }), async (s, B) => {
        const model = randomModel(s);
        const per = PER;
        const data = pixels(s.seed, B * per);
        const whole = await trace(model, { kind: 'pixels', data }, B);
        const T = 8;
        for (let b = 0; b < B; b++) {
          const one = await trace(model, { kind: 'pixels', data: data.slice(b * per, (b + 1) * per) }, 1, { keyOffset: b });
          for (const [k, arr] of Object.entries(one.spikes)) {
            const n = arr.length / T;
            for (let t = 0; t < T; t++)
              expectSame(whole.spikes[k].subarray((t * B + b) * n, (t * B + b + 1) * n), arr.subarray(t * n, (t + 1) * n));
          }
          for (const [k, arr] of Object.entries(one.sam)) {
            const n = arr.length / T;
            for (let t = 0; t < T; t++)
              expectSame(whole.sam[k].subarray((t * B + b) * n, (t * B + b + 1) * n), arr.subarray(t * n, (t + 1) * n));
          }
          const K = one.scores.length;
          expectSame(whole.scores.subarray(b * K, (b + 1) * K), one.scores);
        }
      }),
      { numRuns: 12 },
    );
  });

  it('computing SAM does not change the simulation', async () => {
    const s: Spec = { seed: 11, encoding: 'poisson', stride: 1, padding: 1, dilation: 1, reset: 'subtract', resetDelay: false, pool: 'avgpool2d', readout: 'final', perStepAffine: true };
    const model = randomModel(s);
    const input: NetworkInput = { kind: 'pixels', data: pixels(1, PER) };
    const a = await trace(model, input, 1, { sam: false });
    const b = await trace(model, input, 1);
    for (const k of Object.keys(a.spikes)) expectSame(b.spikes[k], a.spikes[k]);
    expectSame(b.scores, a.scores);
  });

  it('the SAM recursion equals the direct float64 sum over the recorded spikes (all modes)', async () => {
    const s: Spec = { seed: 5, encoding: 'poisson', stride: 1, padding: 1, dilation: 1, reset: 'subtract', resetDelay: false, pool: 'avgpool2d', readout: 'final', perStepAffine: false };
    const model = randomModel(s);
    const gamma = 0.45;
    for (const ncs of ['inclusive', 'strict', 'official'] as const) {
      const net = await Network.create(model, { seed: 9 });
      net.setInput({ kind: 'pixels', data: pixels(2, PER) });
      const rec = new Recorder(net, 'lif1');
      const sam = new SamObserver(net, 'lif1', { gamma, ncs });
      net.observe(rec);
      net.observe(sam);
      net.run();
      const S = rec.spikes!.data();
      const M = sam.maps.data();
      const [C, H, W] = net.layer('lif1').outShape;
      const HW = H * W;
      const T = net.t;
      let active = 0;
      for (let t = 0; t < T; t++)
        for (let p = 0; p < HW; p++) {
          let m = 0;
          for (let c = 0; c < C; c++) {
            if (!S[(t * C + c) * HW + p]) continue;
            let n = 0;
            for (let u = 0; u <= t; u++) {
              const fired = S[(u * C + c) * HW + p] === 1;
              if (ncs === 'official') n += Math.exp(-gamma * (t - (fired ? u : 0)));
              else if (fired && (u < t || ncs === 'inclusive')) n += Math.exp(-gamma * (t - u));
            }
            m += n;
          }
          const got = M[t * HW + p];
          if (m > 0) active++;
          expect(Math.abs(got - m), `${ncs} t=${t} p=${p}`).toBeLessThanOrEqual(Math.max(1e-5 * Math.abs(m), 1e-6));
        }
      expect(active).toBeGreaterThan(10);
    }
  });

  it('samFromSpikes gives a SamObserver\'s maps bit for bit, from the recorded spikes, in every mode and batch', async () => {
    const s: Spec = { seed: 11, encoding: 'poisson', stride: 1, padding: 1, dilation: 1, reset: 'subtract', resetDelay: false, pool: 'avgpool2d', readout: 'mean', perStepAffine: false };
    const model = randomModel(s);
    for (const [ncs, gamma, B] of [['inclusive', 0.5, 1], ['strict', 0.3, 2], ['official', 1.7, 3]] as const) {
      const net = await Network.create(model, { seed: 4, batch: B });
      net.setInput({ kind: 'pixels', data: pixels(2, B * PER) });
      const rec = new Recorder(net, 'lif1');
      const sam = new SamObserver(net, 'lif1', { gamma, ncs });
      net.observe(rec);
      net.observe(sam);
      net.run();
      const [C, H, W] = net.layer('lif1').outShape;
      const again = await samFromSpikes(rec.spikes!.data(), { T: net.t, B, C, H, W }, { gamma, ncs });
      expectSame(again, sam.maps.data(), `${ncs} B=${B}`);
      expect(sam.maps.data().some((v) => v > 0)).toBe(true);
      // Another gamma gives other maps: the function does use its options.
      const other = await samFromSpikes(rec.spikes!.data(), { T: net.t, B, C, H, W }, { gamma: gamma + 0.25, ncs });
      expect(firstDiff(other, sam.maps.data())).not.toBe(-1);
    }
    await expect(samFromSpikes(new Uint8Array(5), { T: 2, B: 1, C: 1, H: 2, W: 2 })).rejects.toThrow(/not 2 steps/);
    await expect(samFromSpikes(new Uint8Array(8), { T: 2, B: 1, C: 1, H: 2, W: 2 }, { gamma: NaN })).rejects.toThrow(/gamma/);
  });

  it('simulate and summarize report the steps taken, the predictions and the firing rates of a stepped Network', async () => {
    const s: Spec = { seed: 12, encoding: 'poisson', stride: 1, padding: 1, dilation: 1, reset: 'subtract', resetDelay: false, pool: 'avgpool2d', readout: 'mean', perStepAffine: false };
    const model = randomModel(s);
    const data = pixels(2, 2 * PER);
    const net = await Network.create(model, { seed: 6, batch: 2, countSops: true });
    net.setInput({ kind: 'pixels', data });
    net.run(5);
    const r = await simulate({ model, source: memoryInput({ kind: 'pixels', data }, 2, 'x.npy'), seed: 6, timesteps: 5, sam: ['lif1'], ncs: 'strict' });
    const sum = summarize(r, { input: 'x.npy', sam: { layers: ['lif1'], gamma: 0.5, ncs: 'strict' } });
    expect(sum.schema).toBe('spikelens.summary/1');
    expect(sum.timesteps).toBe(5);
    expect(sum.seed).toBe(6);
    expect(sum.batch).toBe(2);
    expect(sum.predictions).toEqual(net.predictions());
    expect(sum.scores!.flat()).toEqual(Array.from(net.scores()));
    expect(sum.firingRates).toEqual(net.firingRates());
    expect(sum.sopsPerImage).toBe(net.sops / 2);
    expect(sum.sam).toEqual({ layers: ['lif1'], gamma: 0.5, ncs: 'strict' });
    expect(summarize(r, { input: 'x', sam: null }).sam).toBeNull();
    // in chunks of one sample, the same numbers (each sample keeps its own random stream)
    const one = await simulate({ model, source: memoryInput({ kind: 'pixels', data }, 2), seed: 6, timesteps: 5, chunk: 1, sink: {} });
    expect(one.chunk).toBe(1);
    expect(Array.from(one.scores)).toEqual(Array.from(r.scores));
    expect(one.firingRates).toEqual(r.firingRates);
    expect(one.sopsPerImage).toBe(r.sopsPerImage);
    // scores alone need no sink to come in chunks (a metric's perturbed copies); recorded layers or maps do
    const bare = await simulate({ model, source: memoryInput({ kind: 'pixels', data }, 2), seed: 6, timesteps: 5, chunk: 1 });
    expect(Array.from(bare.scores)).toEqual(Array.from(r.scores));
    await expect(simulate({ model, source: memoryInput({ kind: 'pixels', data }, 2, 'x.npy'), seed: 6, timesteps: 5, chunk: 1, sam: ['lif1'] })).rejects.toThrow(/x\.npy: 2 samples do not fit/);
  });

  it('the same seed gives the same input spikes, another seed other spikes', async () => {
    const s: Spec = { seed: 7, encoding: 'poisson', stride: 1, padding: 0, dilation: 1, reset: 'zero', resetDelay: true, pool: 'maxpool2d', readout: 'mean', perStepAffine: false };
    const model = randomModel(s);
    const input: NetworkInput = { kind: 'pixels', data: pixels(4, PER) };
    const a = await trace(model, input, 1, { seed: 1 });
    const b = await trace(model, input, 1, { seed: 1 });
    const c = await trace(model, input, 1, { seed: 2 });
    expectSame(b.spikes.input, a.spikes.input);
    expect(firstDiff(c.spikes.input, a.spikes.input)).not.toBe(-1);
  });

  it('reset() starts a run over identically', async () => {
    const s: Spec = { seed: 21, encoding: 'signed-poisson', stride: 2, padding: 2, dilation: 2, reset: 'subtract', resetDelay: true, pool: 'sumpool2d', readout: 'final', perStepAffine: true };
    const model = randomModel(s);
    const net = await Network.create(model, { seed: 4 });
    net.setInput({ kind: 'pixels', data: pixels(8, PER) });
    const rec = new Recorder(net, 'if2', { membrane: true });
    net.observe(rec);
    net.run();
    const first = rec.membrane!.data().slice();
    const scores = net.scores();
    net.reset();
    net.run();
    expectSame(rec.membrane!.data(), first);
    expectSame(net.scores(), scores);
  });

  it('records signed input spikes as int8 -1/0/1', async () => {
    const s: Spec = { seed: 3, encoding: 'signed-poisson', stride: 1, padding: 1, dilation: 1, reset: 'subtract', resetDelay: false, pool: 'avgpool2d', readout: 'final', perStepAffine: false };
    const t = await trace(randomModel(s), { kind: 'pixels', data: pixels(5, PER) }, 1);
    const inp = t.spikes.input;
    expect(inp).toBeInstanceOf(Int8Array);
    expect(new Set(inp)).toEqual(new Set([-1, 0, 1]));
  });
});

describe('counting synaptic operations', () => {
  it('equals a brute-force count: every nonzero input times the outputs whose window holds it', async () => {
    const s: Spec = { seed: 13, encoding: 'poisson', stride: 2, padding: 2, dilation: 2, reset: 'subtract', resetDelay: false, pool: 'avgpool2d', readout: 'final', perStepAffine: false };
    const model = randomModel(s);
    const net = await Network.create(model, { seed: 1, countSops: true });
    net.setInput({ kind: 'pixels', data: pixels(3, PER) });
    const inputs = new Map<string, Float32Array[]>();
    const synaptic = model.layers.filter((l) => l.op === 'conv2d' || l.op === 'linear');
    const sources = synaptic.map((l) => model.layers[model.layers.indexOf(l) - 1]?.name ?? 'input');
    net.observe({ onStep: (n) => sources.forEach((src) => inputs.set(src, [...(inputs.get(src) ?? []), n.output(src).slice()])) });
    // the input of the first layer is the encoder's output, which the observer sees after the step as well
    net.run();
    let brute = 0;
    synaptic.forEach((l, i) => {
      for (const x of inputs.get(sources[i])!) {
        if (l.op === 'linear') {
          brute += x.filter((v) => v !== 0).length * l.outShape[0];
          continue;
        }
        if (l.op !== 'conv2d') continue;
        const [C, H, W] = l.inShape;
        const [Cout, Ho, Wo] = l.outShape;
        const [, , kH, kW] = l.weight.shape;
        for (let c = 0; c < C; c++)
          for (let iy = 0; iy < H; iy++)
            for (let ix = 0; ix < W; ix++) {
              if (x[(c * H + iy) * W + ix] === 0) continue;
              for (let oy = 0; oy < Ho; oy++)
                for (let ox = 0; ox < Wo; ox++)
                  for (let ky = 0; ky < kH; ky++)
                    for (let kx = 0; kx < kW; kx++)
                      if (oy * l.stride[0] - l.padding[0] + ky * l.dilation[0] === iy && ox * l.stride[1] - l.padding[1] + kx * l.dilation[1] === ix)
                        brute += Cout / l.groups;
            }
      }
    });
    expect(brute).toBeGreaterThan(0);
    expect(net.sops).toBe(brute);
  });
});

describe('fireAtThreshold (docs/semantics.md §3)', () => {
  // One neuron: direct input fl(0.3) at every step into a lif with beta 1, threshold fl(0.3), subtract reset.
  const oneNeuron = async (layer: Record<string, unknown>, T = 4) => {
    const model = parseModel(modelToSafetensors({
      format: 'spikelens.model/1', input: { shape: [1], encoding: { kind: 'direct' } }, timesteps: T, readout: 'count',
      layers: [{ name: 'n', op: 'lif', beta: 1, threshold: 0.3, reset: 'subtract', ...layer }],
    }, []), 'one.safetensors');
    const net = await Network.create(model, { batch: 1 });
    net.setInput({ kind: 'pixels', data: Float32Array.of(0.3) });
    const rec = new Recorder(net, 'n', { spikes: true, membrane: true });
    net.observe(rec);
    net.run();
    return { s: Array.from(rec.spikes!.data()), v: Array.from(rec.membrane!.data()), layer: model.layers[0] };
  };

  it('a membrane exactly at the threshold fires with fireAtThreshold, not without; the subtract leaves v - thr exactly', async () => {
    const t = Math.fround(0.3);
    // v = 0 + fl(0.3) = thr at step 0: v >= thr fires, and v - thr is exactly 0 (v - below(thr) would be 2^-25).
    const at = await oneNeuron({ fireAtThreshold: true });
    expect(at.layer).toMatchObject({ fireAtThreshold: true, threshold: { data: Float32Array.of(t) } });
    expect(at.s).toEqual([1, 1, 1, 1]);
    expect(at.v.map((v) => Object.is(v, 0))).toEqual([true, true, true, true]);
    // v > thr: thr does not fire; 2*thr does (exact), and leaves thr.
    const strict = await oneNeuron({});
    expect(strict.layer).toMatchObject({ fireAtThreshold: false });
    expect(strict.s).toEqual([0, 1, 1, 1]);
    expect(strict.v).toEqual([t, t, t, t]);
    expect(await oneNeuron({ fireAtThreshold: false })).toEqual(strict);
  });

  it('with a zero reset and with a delayed subtract too', async () => {
    const t = Math.fround(0.3);
    expect(await oneNeuron({ fireAtThreshold: true, reset: 'zero' })).toMatchObject({ s: [1, 1, 1, 1], v: [0, 0, 0, 0] });
    expect(await oneNeuron({ reset: 'zero' })).toMatchObject({ s: [0, 1, 0, 1], v: [t, 0, t, 0] });
    // delayed: v_t = v_{t-1} + I - thr*s_{t-1}, so the membrane stays on thr and fires at every step
    expect(await oneNeuron({ fireAtThreshold: true, resetDelay: true })).toMatchObject({ s: [1, 1, 1, 1], v: [t, t, t, t] });
    // v > thr: 2*thr fires at step 1 and, less thr plus thr, stays there
    expect(await oneNeuron({ resetDelay: true })).toMatchObject({ s: [0, 1, 1, 1], v: [t, 2 * t, 2 * t, 2 * t] });
  });
});

describe('cubalif layers', () => {
  it('equal an li layer (the synaptic current) feeding a lif layer, bit for bit', async () => {
    const r = rng(77);
    const C = 3, H = 6, W = 6, T = 10;
    const w = weights(r, C * 1 * 9, 0.9);
    const alpha = weights(r, C, 0.5).map((v) => Math.fround(0.6 + Math.abs(v)));
    const tensors = [
      { name: 'w', dtype: 'F32' as const, shape: [C, 1, 3, 3], data: w },
      { name: 'alpha', dtype: 'F32' as const, shape: [C], data: alpha },
    ];
    const input = { shape: [1, H, W], encoding: { kind: 'poisson', gain: 1 } };
    const fused = parseModel(modelToSafetensors({ format: 'spikelens.model/1', input, timesteps: T, layers: [
      { name: 'conv', op: 'conv2d', weight: 'w', padding: [1, 1] },
      { name: 'syn', op: 'cubalif', alpha: 'alpha', beta: 0.85, threshold: 0.5, reset: 'zero', resetDelay: true },
    ] }, tensors), 'fused');
    const split = parseModel(modelToSafetensors({ format: 'spikelens.model/1', input, timesteps: T, layers: [
      { name: 'conv', op: 'conv2d', weight: 'w', padding: [1, 1] },
      { name: 'i', op: 'li', beta: 'alpha' },
      { name: 'syn', op: 'lif', beta: 0.85, threshold: 0.5, reset: 'zero', resetDelay: true },
    ] }, tensors), 'split');
    const run = async (m: Model) => {
      const net = await Network.create(m, { seed: 5, batch: 2 });
      net.setInput({ kind: 'pixels', data: pixels(3, 2 * H * W).map((v) => v * 0.8) });
      const rec = new Recorder(net, 'syn', { spikes: true, membrane: true });
      net.observe(rec);
      net.run();
      return { s: rec.spikes!.data().slice(), v: rec.membrane!.data().slice(), rates: net.firingRates() };
    };
    const a = await run(fused);
    const b = await run(split);
    expectSame(a.s, b.s, 'spikes');
    expectSame(a.v, b.v, 'membrane');
    expect(a.s.some((x) => x === 1)).toBe(true);
    expect(fused.layers[1].op).toBe('cubalif');
  });
});

/** An MLP whose first layer is fed by the input (through a flatten): the layer that computes blocks of steps. */
function mlpModel(seed: number, encoding: 'poisson' | 'signed-poisson' | 'direct', T: number): Model {
  const r = rng(seed);
  const graph = {
    format: 'spikelens.model/1',
    name: `mlp-${seed}`,
    input: { shape: [2, 5, 5], preprocess: { scale: 1 / 255, mean: [0.3], std: [0.8] }, encoding: { kind: encoding, gain: 0.7 } },
    timesteps: T,
    readout: 'mean',
    layers: [
      { name: 'flat', op: 'flatten' },
      { name: 'fc1', op: 'linear', weight: 'fc1.weight', bias: 'fc1.bias' },
      { name: 'lif1', op: 'lif', beta: 0.9, threshold: 0.8, reset: 'subtract', resetDelay: false },
      { name: 'fc2', op: 'linear', weight: 'fc2.weight' },
      { name: 'out', op: 'li', beta: 0.95 },
    ],
  };
  const tensors = [
    { name: 'fc1.weight', dtype: 'F32' as const, shape: [40, 50], data: weights(r, 40 * 50, 0.5) },
    { name: 'fc1.bias', dtype: 'F32' as const, shape: [40], data: weights(r, 40, 0.2) },
    { name: 'fc2.weight', dtype: 'F32' as const, shape: [6, 40], data: weights(r, 6 * 40, 0.6) },
  ];
  return parseModel(modelToSafetensors(graph, tensors), 'mlp.safetensors');
}

interface StepTrace {
  /** Per step: the input, fc1's currents, lif1's spikes, out's membrane, SOPs so far, event steps so far. */
  steps: { input: Float32Array; fc1: Float32Array; lif1: Float32Array; out: Float32Array; sops: number; events: number }[];
  scores: Float32Array;
}

/** Steps a network one by one (run() for the first `viaRun` steps), keeping every step's outputs. */
async function stepTrace(model: Model, input: NetworkInput, B: number, steps: number, o: { blockSteps?: number; threads?: number; eventThreshold?: number; viaRun?: number }): Promise<StepTrace> {
  const net = await Network.create(model, { batch: B, seed: 11, countSops: true, sharedWork: 0, ...o });
  net.setInput(input);
  const out: StepTrace = { steps: [], scores: new Float32Array() };
  const keep = (): void => {
    out.steps.push({
      input: net.output('input').slice(), fc1: net.output('fc1').slice(), lif1: net.output('lif1').slice(), out: net.output('out').slice(),
      sops: net.sops, events: [...net.eventSteps.values()].reduce((a, b) => a + b, 0),
    });
  };
  net.observe({ onStep: keep });
  if (o.viaRun) net.run(o.viaRun);
  while (net.t < steps) net.step();
  out.scores = net.scores();
  net.close();
  return out;
}

describe('blocks of steps through a linear network', () => {
  it('with the bits, SOP counts and path counts of stepping one by one, at every block size, input and thread count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.constantFrom('poisson' as const, 'signed-poisson' as const, 'direct' as const, 'train-u8' as const, 'train-i8' as const, 'train-f32' as const),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 2, max: 40 }),
        fc.constantFrom(0, 0.4, 4),
        fc.constantFrom(1, 2),
        fc.integer({ min: 0, max: 12 }),
        async (seed, kind, B, blockSteps, eventThreshold, threads, viaRun) => {
          const T = 13;
          const model = mlpModel(seed, kind.startsWith('train') ? 'poisson' : (kind as 'poisson'), T);
          const r = rng(seed ^ 0x5bd1e995);
          const n = B * 50;
          const input: NetworkInput = kind === 'train-u8'
            ? { kind: 'train', data: Uint8Array.from({ length: T * n }, () => (r() < 0.2 ? 1 : 0)), timesteps: T }
            : kind === 'train-i8'
              ? { kind: 'train', data: Int8Array.from({ length: T * n }, () => (r() < 0.1 ? -1 : r() < 0.2 ? 1 : 0)), timesteps: T }
              : kind === 'train-f32'
                ? { kind: 'train', data: Float32Array.from({ length: T * n }, () => (r() < 0.3 ? Math.fround(r() * 3) : 0)), timesteps: T }
                : { kind: 'pixels', data: pixels(seed, n) };
          const one = await stepTrace(model, input, B, T, { blockSteps: 1, eventThreshold });
          const blocked = await stepTrace(model, input, B, T, { blockSteps, eventThreshold, threads, viaRun });
          expect(blocked.steps.length).toBe(T);
          blocked.steps.forEach((s, t) => {
            const want = one.steps[t];
            for (const k of ['input', 'fc1', 'lif1', 'out'] as const) expectSame(s[k], want[k], `step ${t} ${k}`);
            expect(s.sops, `SOPs after step ${t}`).toBe(want.sops);
            // The path is chosen per block (by the block's density), so at a threshold between 0 and 1 the count
            // of event-path steps may differ; forced paths count alike.
            if (eventThreshold !== 0.4) expect(s.events, `event-path steps after step ${t}`).toBe(want.events);
          });
          expectSame(blocked.scores, one.scores, 'scores');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('starts over on setInput in the middle of a block, and steps on past the model\'s timesteps', async () => {
    const model = mlpModel(7, 'poisson', 6);
    const data = pixels(7, 50);
    const net = await Network.create(model, { seed: 1, blockSteps: 32 });
    const ref = await Network.create(model, { seed: 1, blockSteps: 1 });
    for (const n of [net, ref]) {
      n.setInput({ kind: 'pixels', data });
      n.step();
      n.step();
      n.setInput({ kind: 'pixels', data }); // a reset after 2 of a block's steps
    }
    for (let t = 0; t < 40; t++) {
      net.step();
      ref.step();
      expectSame(net.output('input'), ref.output('input'), `input at step ${t}`);
      expectSame(net.output('out'), ref.output('out'), `out at step ${t}`);
    }
  });

  it('takes a positive integer block size only', async () => {
    const model = mlpModel(3, 'poisson', 4);
    for (const bad of [0, -1, 1.5, Number.NaN]) await expect(Network.create(model, { blockSteps: bad })).rejects.toThrow(/blockSteps must be a positive integer/);
    await expect(Network.create(randomModel(fc.sample(specArb, { numRuns: 1, seed: 5 })[0]), { blockSteps: 0 })).rejects.toThrow(/blockSteps must be a positive integer/);
  });

  it('keeps a block within 48 MiB of windows whatever blockSteps asks for', async () => {
    const N = 50_000;
    const graph = {
      format: 'spikelens.model/1', name: 'wide', input: { shape: [N] }, timesteps: 4, readout: 'count',
      layers: [{ name: 'fc', op: 'linear', weight: 'fc.weight' }, { name: 'lif', op: 'lif', beta: 0.9, threshold: 1, reset: 'subtract', resetDelay: false }],
    };
    const model = parseModel(modelToSafetensors(graph, [{ name: 'fc.weight', dtype: 'F32', shape: [8, N], data: weights(rng(9), 8 * N, 0.1) }]), 'wide.safetensors');
    const one = await Network.create(model, { batch: 4, blockSteps: 1 });
    const asked = await Network.create(model, { batch: 4, blockSteps: 1000 });
    expect(one.blockSteps).toBe(1);
    expect(asked.blockSteps).toBeGreaterThan(1);
    expect(asked.blockSteps).toBeLessThan(1000);
    const extra = asked.arena.size - one.arena.size;
    expect(extra).toBeGreaterThan(8 * 4 * N * 4); // it does take a block of several steps
    expect(extra).toBeLessThanOrEqual(48 * 2 ** 20);
  });
});

describe('the event-path threshold of a layer', () => {
  it('is the network\'s, or a third of it under 64 inputs per output; 0 still forces dense and 4 event', () => {
    expect(DEFAULT_EVENT_THRESHOLD).toBe(0.6);
    expect(layerEventThreshold(0.6, 64, 3, 3)).toBe(0.6);
    expect(layerEventThreshold(0.6, 7, 3, 3)).toBeCloseTo(0.2, 12); // 63 inputs per output
    expect(layerEventThreshold(0, 3, 3, 3)).toBe(0);
    expect(layerEventThreshold(4, 1, 1, 1)).toBeGreaterThan(1);
  });

  it('sends a half-active input to the event path with 72 inputs per output and to the dense one with 27', async () => {
    for (const [C, event] of [[3, false], [8, true]] as const) {
      const graph = {
        format: 'spikelens.model/1', name: `half-${C}`, input: { shape: [C, 6, 6] }, timesteps: 4, readout: 'count',
        layers: [
          { name: 'conv', op: 'conv2d', weight: 'conv.weight', padding: [1, 1] },
          { name: 'lif', op: 'lif', beta: 0.9, threshold: 1, reset: 'subtract', resetDelay: false },
        ],
      };
      const model = parseModel(modelToSafetensors(graph, [{ name: 'conv.weight', dtype: 'F32', shape: [4, C, 3, 3], data: weights(rng(C), 4 * C * 9, 0.5) }]), 'half.safetensors');
      const data = Uint8Array.from({ length: 4 * C * 36 }, (_, i) => i % 2); // exactly 50 % nonzero
      const net = await Network.create(model);
      net.setInput({ kind: 'train', data, timesteps: 4 });
      net.run();
      expect(net.eventSteps.get('conv'), `${C} input channels`).toBe(event ? 4 : 0);
    }
  });
});

/** A conv network whose first conv takes many channels: binary inputs of 16 or more channels are summed from bit masks. */
function wideConvModel(seed: number, C: number, Cout: number, k: number, stride: number, padding: number, dilation: number, resetDelay: boolean): Model {
  const r = rng(seed);
  const H = 7;
  const H1 = Math.floor((H + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
  const H2 = Math.floor(H1 / 2);
  const graph = {
    format: 'spikelens.model/1',
    name: `wide-${seed}`,
    input: { shape: [C, H, H], encoding: { kind: 'poisson', gain: 0.4 } },
    timesteps: 9,
    readout: 'mean',
    layers: [
      { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', bias: 'conv1.bias', stride: [stride, stride], padding: [padding, padding], dilation: [dilation, dilation] },
      { name: 'lif1', op: 'lif', beta: 0.9, threshold: 0.5, reset: 'subtract', resetDelay },
      { name: 'pool', op: 'avgpool2d', kernel: [2, 2] },
      { name: 'conv2', op: 'conv2d', weight: 'conv2.weight', padding: [1, 1] },
      { name: 'lif2', op: 'lif', beta: 0.8, threshold: 0.3, reset: 'zero', resetDelay: !resetDelay },
      { name: 'flat', op: 'flatten' },
      { name: 'fc', op: 'linear', weight: 'fc.weight' },
      { name: 'out', op: 'li', beta: 0.9 },
    ],
  };
  const tensors = [
    { name: 'conv1.weight', dtype: 'F32' as const, shape: [Cout, C, k, k], data: weights(r, Cout * C * k * k, 0.4) },
    { name: 'conv1.bias', dtype: 'F32' as const, shape: [Cout], data: weights(r, Cout, 0.1) },
    { name: 'conv2.weight', dtype: 'F32' as const, shape: [5, Cout, 3, 3], data: weights(r, 5 * Cout * 9, 0.8) },
    { name: 'fc.weight', dtype: 'F32' as const, shape: [3, 5 * H2 * H2], data: weights(r, 3 * 5 * H2 * H2, 0.5) },
  ];
  return parseModel(modelToSafetensors(graph, tensors), 'wide.safetensors');
}

describe('blocks of steps through conv layers', () => {
  it('give the bits, SOP counts and firing of a dense step-by-step run, with bit masks, lists, any block, batch and thread count', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer({ min: 1, max: 2 ** 31 }),
          C: fc.constantFrom(16, 23, 64, 70, 130),
          Cout: fc.integer({ min: 1, max: 30 }),
          k: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          padding: fc.integer({ min: 0, max: 1 }),
          dilation: fc.integer({ min: 1, max: 2 }),
          resetDelay: fc.boolean(),
          kind: fc.constantFrom('pixels' as const, 'train-u8' as const, 'train-f32' as const),
          B: fc.integer({ min: 1, max: 3 }),
          blockSteps: fc.integer({ min: 1, max: 12 }),
          threads: fc.constantFrom(1, 2),
          eventThreshold: fc.constantFrom(0.6, 4),
        }),
        async (s) => {
          const model = wideConvModel(s.seed, s.C, s.Cout, s.k, s.stride, s.padding, s.dilation, s.resetDelay);
          const T = 9;
          const n = s.B * s.C * 49;
          const r = rng(s.seed ^ 0x2545f491);
          const input: NetworkInput = s.kind === 'train-u8'
            ? { kind: 'train', data: Uint8Array.from({ length: T * n }, () => (r() < 0.15 ? 1 : 0)), timesteps: T }
            : s.kind === 'train-f32'
              ? { kind: 'train', data: Float32Array.from({ length: T * n }, () => (r() < 0.2 ? Math.fround(r() * 2) : 0)), timesteps: T }
              : { kind: 'pixels', data: Float32Array.from({ length: n }, () => Math.floor(r() * 256)) };
          const names = ['conv1', 'lif1', 'pool', 'conv2', 'lif2', 'out'];
          const collect = async (o: { blockSteps: number; threads: number; eventThreshold: number }) => {
            const net = await Network.create(model, { batch: s.B, seed: 5, countSops: true, sharedWork: 0, ...o });
            net.setInput(input);
            const steps: Float32Array[][] = [];
            const sops: number[] = [];
            net.observe({ onStep: (nn) => { steps.push(names.map((k) => nn.output(k).slice())); sops.push(nn.sops); } });
            net.run();
            const result = { steps, sops, scores: net.scores(), counts: [...net.spikeCounts.values()] };
            net.close();
            return result;
          };
          const want = await collect({ blockSteps: 1, threads: 1, eventThreshold: 0 });
          const got = await collect({ blockSteps: s.blockSteps, threads: s.threads, eventThreshold: s.eventThreshold });
          expect(got.steps.length).toBe(T);
          for (let t = 0; t < T; t++) names.forEach((k, i) => expectSame(got.steps[t][i], want.steps[t][i], `step ${t} ${k}`));
          expect(got.sops).toEqual(want.sops);
          expect(got.counts).toEqual(want.counts);
          expectSame(got.scores, want.scores, 'scores');
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the memory a network takes', () => {
  it('is bounded above by planBytes, before anything is laid out', async () => {
    const { planBytes } = await import('../src/plan.js');
    const models = [
      randomModel(fc.sample(specArb, { numRuns: 1, seed: 3 })[0]),
      mlpModel(4, 'poisson', 6),
      wideConvModel(9, 70, 12, 3, 1, 1, 1, true),
      parseModel(new Uint8Array(readFileSync(join(import.meta.dirname, '..', '..', '..', 'models', 'mnist-lif-bptt.safetensors'))), 'mnist.safetensors'),
    ];
    for (const model of models)
      for (const batch of [1, 5])
        for (const threads of [1, 2]) {
          const net = await Network.create(model, { batch, threads, blockSteps: 7 });
          expect(net.arena.size, `${model.name} at batch ${batch}, ${threads} threads`).toBeLessThanOrEqual(planBytes(model, batch, net.blockSteps));
          net.close();
        }
  });

  it('refuses a batch that would pass the limit with one line naming the file and the size, before growing the memory', async () => {
    const model = parseModel(new Uint8Array(readFileSync(join(import.meta.dirname, '..', '..', '..', 'models', 'mnist-lif-bptt.safetensors'))), 'mnist.safetensors');
    const err = await Network.create(model, { batch: 2_000_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toMatch(/^mnist\.safetensors: at a batch of 2000000, the network needs about [\d.]+ [GT]iB, more than the 3 GiB of memory a network may take$/);
  });
});
