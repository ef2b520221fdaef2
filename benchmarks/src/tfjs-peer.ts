/**
 * The @tensorflow/tfjs-backend-wasm peer: what a JavaScript user would write today. The convolutions, pools and
 * linears run step by step in tfjs's WebAssembly backend (XNNPACK, SIMD, one thread), the neuron update in
 * JavaScript (float32, Math.fround after every operation: SPEC §3). Layers: conv2d, avgpool2d, flatten, linear, lif, li.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { SuiteWorkload } from './suite-workloads.js';

const f = Math.fround;
let ready: Promise<void> | null = null;

async function init(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    setWasmPaths(`${join(dist, '/')}`);
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return ready;
}

type Layer = SuiteWorkload['graph']['layers'][number];

export class TfjsNetwork {
  private readonly weights = new Map<string, tf.Tensor>();
  readonly supported: boolean;
  readonly why: string;
  private constructor(private readonly w: SuiteWorkload) {
    const ops = new Set(['conv2d', 'avgpool2d', 'flatten', 'linear', 'lif', 'li']);
    const bad = w.graph.layers.find((l) => !ops.has(l.op) || (l.op === 'conv2d' && (l.groups ?? 1) !== 1));
    this.supported = !bad;
    this.why = bad ? `layer ${bad.name} (${bad.op}) is not in the tfjs peer` : '';
    if (!this.supported) return;
    const byName = new Map(w.tensors.map((t) => [t.name, t]));
    for (const l of w.graph.layers) {
      if (l.op === 'conv2d') {
        const t = byName.get(l.weight as string)!;
        // [Cout, Cin, kH, kW] -> tfjs's [kH, kW, Cin, Cout]
        this.weights.set(l.name, tf.tidy(() => tf.transpose(tf.tensor4d(t.data, t.shape as [number, number, number, number]), [2, 3, 1, 0])));
      } else if (l.op === 'linear') {
        const t = byName.get(l.weight as string)!;
        this.weights.set(l.name, tf.tidy(() => tf.transpose(tf.tensor2d(t.data, t.shape as [number, number]))));
      }
    }
  }

  static async create(w: SuiteWorkload): Promise<TfjsNetwork> {
    await init();
    return new TfjsNetwork(w);
  }

  /** Runs all T steps; returns each spiking layer's spikes [T, B, ...] in C-order (NCHW), when `record`. */
  run(record: boolean): Map<string, Uint8Array> {
    const { w } = this;
    const T = w.timesteps;
    const B = w.batch;
    const shape = w.model.input.shape;
    const per = shape.reduce((a, b) => a * b, 1);
    const state = new Map<string, Float32Array>();
    const out = new Map<string, Uint8Array>();
    for (let t = 0; t < T; t++) {
      const slice = Float32Array.from(w.inputTrain.subarray(t * B * per, (t + 1) * B * per));
      let x: tf.Tensor = shape.length === 3 ? tf.tidy(() => tf.transpose(tf.tensor4d(slice, [B, shape[0], shape[1], shape[2]]), [0, 2, 3, 1])) : tf.tensor2d(slice, [B, per]);
      for (const l of w.graph.layers) {
        const next = this.layer(l, x, state, record ? out : null, t);
        if (next !== x) x.dispose();
        x = next;
      }
      x.dispose();
    }
    return out;
  }

  private layer(l: Layer, x: tf.Tensor, state: Map<string, Float32Array>, rec: Map<string, Uint8Array> | null, t: number): tf.Tensor {
    switch (l.op) {
      case 'conv2d': {
        const [pH, pW] = l.padding as number[];
        const padded = pH || pW ? tf.pad(x as tf.Tensor4D, [[0, 0], [pH, pH], [pW, pW], [0, 0]]) : x;
        const y = tf.conv2d(padded as tf.Tensor4D, this.weights.get(l.name) as tf.Tensor4D, l.stride as [number, number], 'valid', 'NHWC', l.dilation as [number, number]);
        if (padded !== x) padded.dispose();
        return y;
      }
      case 'avgpool2d':
        return tf.avgPool(x as tf.Tensor4D, l.kernel as [number, number], l.stride as [number, number], 'valid');
      case 'flatten':
        // spikelens flattens [C, H, W] in C order: back from NHWC first.
        return tf.tidy(() => tf.reshape(x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x, [x.shape[0], -1]));
      case 'linear':
        return tf.matMul(x as tf.Tensor2D, this.weights.get(l.name) as tf.Tensor2D);
      case 'lif': {
        const I = x.dataSync() as Float32Array;
        let v = state.get(l.name);
        if (!v) state.set(l.name, (v = new Float32Array(I.length)));
        const beta = f(l.beta as number);
        const thr = f((l.threshold as number | undefined) ?? 1);
        const s = new Float32Array(I.length);
        for (let i = 0; i < I.length; i++) {
          const u = f(f(beta * v[i]) + I[i]);
          const fired = u > thr;
          s[i] = fired ? 1 : 0;
          v[i] = fired ? f(u - thr) : u;
        }
        if (rec) this.record(rec, l.name, s, x.shape, t);
        return tf.tensor(s, x.shape);
      }
      case 'li': {
        const I = x.dataSync() as Float32Array;
        let v = state.get(l.name);
        if (!v) state.set(l.name, (v = new Float32Array(I.length)));
        const beta = f((l.beta as number | undefined) ?? 1);
        for (let i = 0; i < I.length; i++) v[i] = f(f(beta * v[i]) + I[i]);
        return tf.tensor(v, x.shape);
      }
      default:
        throw new Error(`tfjs peer: op ${l.op}`);
    }
  }

  private record(rec: Map<string, Uint8Array>, name: string, s: Float32Array, shape: number[], t: number): void {
    const T = this.w.timesteps;
    let buf = rec.get(name);
    if (!buf) rec.set(name, (buf = new Uint8Array(T * s.length)));
    const base = t * s.length;
    if (shape.length !== 4) {
      for (let i = 0; i < s.length; i++) buf[base + i] = s[i];
      return;
    }
    const [B, H, W, C] = shape;
    for (let b = 0; b < B; b++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let c = 0; c < C; c++) buf[base + ((b * C + c) * H + y) * W + x] = s[((b * H + y) * W + x) * C + c];
  }
}
