import { encode as twinEncode, rngSeed } from '@spikelens/core-wasm/twin';
import { describe, expect, it } from 'vitest';
import { explain } from '../../src/explain/index.js';
import { modelToSafetensors, parseModel } from '../../src/formats/index.js';
import type { Model } from '../../src/model.js';
import { xorshift32 } from '../../src/random.js';

/**
 * Grad-CAM against a float64 brute-force reference written from the definition (docs/explain.md), on small random
 * networks conv1 -> n1 (the explained layer) -> conv2 -> lif2 -> flatten -> fc -> li, readout final:
 * y = v_T / T, so dy/dA2[t] = beta_o^(T-1-t) W^T e_c / T; back through lif2 with the atan surrogate and its reset
 * detached, du2[t] = dy/dA2[t] sg(u2[t]) + beta2 du2[t+1]; dy/dA1[t] = conv2^T du2[t]. Then alpha and G by loops.
 */
const Cin = 2, H = 6, W = 6, C1 = 3, C2 = 2, K = 3;

function build(o: { seed: number; neuron: 'lif' | 'if'; encoding: 'direct' | 'poisson'; T: number }) {
  const r = xorshift32(o.seed);
  const w = (n: number, s: number) => Float32Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * s));
  const t = {
    conv1: w(C1 * Cin * 9, 0.9), b1: w(C1, 0.3), conv2: w(C2 * C1 * 9, 0.8), fc: w(K * C2 * H * W, 0.7),
  };
  const n1 = o.neuron === 'lif' ? { name: 'n1', op: 'lif', beta: 0.85, threshold: 0.7 } : { name: 'n1', op: 'if', threshold: 0.9 };
  const graph = {
    format: 'spikelens.model/1', name: 'gc',
    input: { shape: [Cin, H, W], preprocess: { scale: 1 / 255 }, encoding: { kind: o.encoding, gain: 1 } },
    timesteps: o.T, readout: 'final',
    layers: [
      { name: 'conv1', op: 'conv2d', weight: 'conv1.w', bias: 'conv1.b', padding: [1, 1] }, n1,
      { name: 'conv2', op: 'conv2d', weight: 'conv2.w', padding: [1, 1] },
      { name: 'lif2', op: 'lif', beta: 0.9, threshold: 0.5 },
      { name: 'flat', op: 'flatten' }, { name: 'fc', op: 'linear', weight: 'fc.w' }, { name: 'out', op: 'li', beta: 0.95 },
    ],
  };
  const tensors = [
    { name: 'conv1.w', dtype: 'F32' as const, shape: [C1, Cin, 3, 3], data: t.conv1 },
    { name: 'conv1.b', dtype: 'F32' as const, shape: [C1], data: t.b1 },
    { name: 'conv2.w', dtype: 'F32' as const, shape: [C2, C1, 3, 3], data: t.conv2 },
    { name: 'fc.w', dtype: 'F32' as const, shape: [K, C2 * H * W], data: t.fc },
  ];
  return { model: parseModel(modelToSafetensors(graph, tensors), 'gc.safetensors'), t };
}

/** 3x3 conv with padding 1 in float64: out[co][y][x] = sum_ci,ky,kx w * in. */
function conv(inp: Float64Array, wt: Float32Array, cin: number, cout: number, bias?: Float32Array): Float64Array {
  const out = new Float64Array(cout * H * W);
  for (let co = 0; co < cout; co++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let s = bias ? bias[co] : 0;
        for (let ci = 0; ci < cin; ci++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1, ix = x + kx - 1;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += wt[((co * cin + ci) * 3 + ky) * 3 + kx] * inp[(ci * H + iy) * W + ix];
            }
        out[(co * H + y) * W + x] = s;
      }
  return out;
}

/** The transposed conv: d in from d out. */
function convT(dout: Float64Array, wt: Float32Array, cin: number, cout: number): Float64Array {
  const din = new Float64Array(cin * H * W);
  for (let co = 0; co < cout; co++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let ci = 0; ci < cin; ci++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1, ix = x + kx - 1;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W) din[(ci * H + iy) * W + ix] += wt[((co * cin + ci) * 3 + ky) * 3 + kx] * dout[(co * H + y) * W + x];
            }
  return din;
}

/** Reference Grad-CAM maps [T, H, W] of one sample, its inputs per step given (pixels preprocessed, or spikes). */
function reference(
  m: Model, t: ReturnType<typeof build>['t'], inputs: Float64Array[], c: number, alphaMode: 'summed' | 'per-step', neuron: 'lif' | 'if',
): { maps: Float64Array; pred: number } {
  const T = inputs.length;
  const beta1 = neuron === 'lif' ? Math.fround(0.85) : 1, thr1 = neuron === 'lif' ? Math.fround(0.7) : Math.fround(0.9);
  const beta2 = Math.fround(0.9), thr2 = 0.5, betaO = Math.fround(0.95);
  const n = C1 * H * W, n2 = C2 * H * W;
  const v1 = new Float64Array(n), v2 = new Float64Array(n2), vo = new Float64Array(K);
  const A1: Float64Array[] = [], U2: Float64Array[] = [];
  for (let s = 0; s < T; s++) {
    const i1 = conv(inputs[s], t.conv1, Cin, C1, t.b1);
    const a1 = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const u = beta1 * v1[j] + i1[j];
      a1[j] = u > thr1 ? 1 : 0;
      v1[j] = u - thr1 * a1[j];
    }
    const i2 = conv(a1, t.conv2, C1, C2);
    const u2 = new Float64Array(n2), a2 = new Float64Array(n2);
    for (let j = 0; j < n2; j++) {
      u2[j] = beta2 * v2[j] + i2[j];
      a2[j] = u2[j] > thr2 ? 1 : 0;
      v2[j] = u2[j] - thr2 * a2[j];
    }
    for (let k = 0; k < K; k++) {
      let z = 0;
      for (let j = 0; j < n2; j++) z += t.fc[k * n2 + j] * a2[j];
      vo[k] = betaO * vo[k] + z;
    }
    A1.push(a1);
    U2.push(u2);
  }
  let pred = 0;
  for (let k = 1; k < K; k++) if (vo[k] > vo[pred]) pred = k;
  void m;
  // backward
  const dA1: Float64Array[] = new Array(T);
  let du2next = new Float64Array(n2);
  for (let s = T - 1; s >= 0; s--) {
    const du2 = new Float64Array(n2);
    for (let j = 0; j < n2; j++) {
      const gA2 = (betaO ** (T - 1 - s) * t.fc[c * n2 + j]) / T;
      const k = Math.PI * (U2[s][j] - thr2);
      du2[j] = gA2 / (1 + k * k) + beta2 * du2next[j];
    }
    dA1[s] = convT(du2, t.conv2, C1, C2);
    du2next = du2;
  }
  const maps = new Float64Array(T * H * W);
  const alpha = new Float64Array(C1);
  const weigh = (s: number) => {
    for (let p = 0; p < H * W; p++) {
      let g = 0;
      for (let k = 0; k < C1; k++) g += (alpha[k] / (H * W)) * A1[s][k * H * W + p];
      maps[s * H * W + p] = Math.max(0, g);
    }
  };
  if (alphaMode === 'summed') {
    for (let s = 0; s < T; s++) for (let k = 0; k < C1; k++) for (let p = 0; p < H * W; p++) alpha[k] += dA1[s][k * H * W + p];
    for (let s = 0; s < T; s++) weigh(s);
  } else
    for (let s = 0; s < T; s++) {
      alpha.fill(0);
      for (let k = 0; k < C1; k++) for (let p = 0; p < H * W; p++) alpha[k] += dA1[s][k * H * W + p];
      weigh(s);
    }
  return { maps, pred };
}

describe('gradcam against a float64 reference from the definition', () => {
  for (const neuron of ['lif', 'if'] as const)
    for (const encoding of ['direct', 'poisson'] as const)
      for (const alpha of ['summed', 'per-step'] as const)
        it(`${neuron}, ${encoding} input, alpha ${alpha}`, async () => {
          const T = 5, B = 2, seed = 3;
          let checkedMaps = 0;
          for (const s of [1, 2, 3]) {
            const { model, t } = build({ seed: s * 17 + (neuron === 'if' ? 5 : 0), neuron, encoding, T });
            const r = xorshift32(s + 100);
            const px = Float32Array.from({ length: B * Cin * H * W }, () => Math.floor(r() * 256));
            const got = await explain('gradcam', model, { kind: 'pixels', data: px }, B, { layer: 'n1', alpha, seed, target: 'pred' });
            expect([got.T, got.B, got.H, got.W]).toEqual([T, B, H, W]);
            for (let b = 0; b < B; b++) {
              const n = Cin * H * W;
              const pre = Float32Array.from(px.subarray(b * n, (b + 1) * n), (p) => Math.fround(p * Math.fround(1 / 255)));
              const inputs: Float64Array[] = [];
              if (encoding === 'direct') for (let s2 = 0; s2 < T; s2++) inputs.push(Float64Array.from(pre));
              else {
                const state = new Uint32Array(4);
                rngSeed(state, 1, seed, b);
                for (let s2 = 0; s2 < T; s2++) {
                  const out = new Float32Array(n);
                  twinEncode(pre, out, state, 1, n, 1, 0);
                  inputs.push(Float64Array.from(out));
                }
              }
              const ref = reference(model, t, inputs, got.predictions[b], alpha, neuron);
              expect(got.predictions[b]).toBe(ref.pred);
              const mine = new Float64Array(T * H * W);
              for (let s2 = 0; s2 < T; s2++) mine.set(got.maps.subarray((s2 * B + b) * H * W, (s2 * B + b + 1) * H * W), s2 * H * W);
              const top = Math.max(...ref.maps);
              if (top > 0) checkedMaps++;
              for (let i = 0; i < mine.length; i++)
                expect(Math.abs(mine[i] - ref.maps[i]), `sample ${b} value ${i}: ${mine[i]} vs ${ref.maps[i]}`).toBeLessThanOrEqual(1e-4 * top + 1e-12);
            }
          }
          expect(checkedMaps).toBeGreaterThan(0);
        });
});
