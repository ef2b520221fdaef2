/**
 * The @tensorflow/tfjs-backend-wasm peer (js-peer.ts): each segment of stateless layers runs step by step in tfjs's
 * WebAssembly backend (XNNPACK, SIMD, one thread) in NHWC, the neurons in JavaScript.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { SuiteWorkload } from './suite-workloads.js';
import { JsPeer, affineRow, unsupported, type Activation, type Layer } from './js-peer.js';

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

export class TfjsNetwork extends JsPeer {
  private readonly weights = new Map<string, tf.Tensor>();
  readonly supported: boolean;
  readonly why: string;
  private constructor(w: SuiteWorkload) {
    super(w);
    const why = unsupported(w, (l) => (l.op === 'avgpool2d' && (l.padding as number[]).some((p) => p !== 0) ? 'padded pooling' : null));
    this.supported = !why;
    this.why = why ?? '';
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

  protected frame(x: Float32Array, B: number, shape: readonly number[]): Activation {
    if (shape.length !== 3) return { data: x, shape: [B, ...shape] };
    const [C, H, W] = shape;
    const data = new Float32Array(x.length);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++)
        for (let p = 0; p < H * W; p++) data[(b * H * W + p) * C + c] = x[(b * C + c) * H * W + p];
    return { data, shape: [B, H, W, C] };
  }

  protected nchw(a: Activation): Float32Array {
    if (a.shape.length !== 4) return a.data;
    const [B, H, W, C] = a.shape;
    const out = new Float32Array(a.data.length);
    for (let b = 0; b < B; b++)
      for (let p = 0; p < H * W; p++)
        for (let c = 0; c < C; c++) out[(b * C + c) * H * W + p] = a.data[(b * H * W + p) * C + c];
    return out;
  }

  protected forward(k: number, x: Activation, t: number): Activation {
    // tidy returns the tensor, not its data: it would walk a returned typed array element by element.
    const y = tf.tidy(() => {
      let h: tf.Tensor = tf.tensor(x.data, x.shape as number[]);
      for (const l of this.segments[k].layers) h = this.layer(l, h, t);
      return h;
    });
    const out = { data: y.dataSync() as Float32Array, shape: y.shape };
    y.dispose();
    return out;
  }

  private layer(l: Layer, x: tf.Tensor, t: number): tf.Tensor {
    switch (l.op) {
      case 'conv2d': {
        const [pH, pW] = l.padding as number[];
        const padded = pH || pW ? tf.pad(x as tf.Tensor4D, [[0, 0], [pH, pH], [pW, pW], [0, 0]]) : x;
        return tf.conv2d(padded as tf.Tensor4D, this.weights.get(l.name) as tf.Tensor4D, l.stride as [number, number], 'valid', 'NHWC', l.dilation as [number, number]);
      }
      case 'avgpool2d':
        return tf.avgPool(x as tf.Tensor4D, l.kernel as [number, number], l.stride as [number, number], 'valid');
      case 'flatten':
        // spikelens flattens [C, H, W] in C order: back from NHWC first.
        return tf.reshape(x.rank === 4 ? tf.transpose(x, [0, 3, 1, 2]) : x, [x.shape[0], -1]);
      case 'linear':
        return tf.matMul(x as tf.Tensor2D, this.weights.get(l.name) as tf.Tensor2D);
      case 'affine': {
        // Channels are the last axis in NHWC and in [B, N]: a row broadcasts as it is. Mul then add: two roundings.
        const [scale, shift] = affineRow(this.w, l, t);
        return tf.add(tf.mul(x, tf.tensor1d(scale)), tf.tensor1d(shift));
      }
      default:
        throw new Error(`tfjs peer: op ${l.op}`);
    }
  }
}
