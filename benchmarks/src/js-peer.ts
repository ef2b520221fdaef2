/**
 * What a JavaScript user would write today with a tensor library: the stateless layers between two neuron layers
 * (convolutions, pools, linears, per-step affines) run as one "segment" in the library, step by step, and the neuron
 * update runs in JavaScript (float32, Math.fround after every operation: docs/semantics.md §3). The tfjs and onnxruntime peers
 * share this loop and differ only in how a segment runs and in their activation layout.
 */
import type { SuiteWorkload } from './suite-workloads.js';

export type Layer = SuiteWorkload['graph']['layers'][number];

/** Stateless layers, then the neuron layer they feed (null only for a trailing segment without one). */
export interface Segment {
  readonly layers: readonly Layer[];
  readonly neuron: Layer | null;
}

/** One segment's output at one step: values and their shape in the engine's layout. */
export interface Activation {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

const f = Math.fround;
const STATELESS = new Set(['conv2d', 'avgpool2d', 'flatten', 'linear', 'affine']);

export function segmentsOf(layers: readonly Layer[]): Segment[] {
  const out: Segment[] = [];
  let run: Layer[] = [];
  for (const l of layers) {
    if (l.op === 'lif' || l.op === 'li') {
      out.push({ layers: run, neuron: l });
      run = [];
    } else run.push(l);
  }
  if (run.length) out.push({ layers: run, neuron: null });
  return out;
}

/** Why the JS peers cannot run this workload, or null. Only the semantics they implement are accepted. */
export function unsupported(w: SuiteWorkload, extra: (l: Layer) => string | null = () => null): string | null {
  for (const l of w.graph.layers) {
    const why =
      l.op === 'lif'
        ? typeof l.beta !== 'number' || (l.reset ?? 'subtract') !== 'subtract' || l.resetDelay
          ? 'only scalar beta, subtract reset, immediate'
          : null
        : l.op === 'li'
          ? typeof (l.beta ?? 1) !== 'number'
            ? 'only scalar beta'
            : null
          : !STATELESS.has(l.op)
            ? 'op not in the JS peers'
            : l.op === 'conv2d' && (l.groups ?? 1) !== 1
              ? 'grouped convolution'
              : extra(l);
    if (why) return `layer ${l.name} (${l.op}): ${why}`;
  }
  return null;
}

export abstract class JsPeer {
  protected readonly segments: Segment[];

  protected constructor(protected readonly w: SuiteWorkload) {
    this.segments = segmentsOf(w.graph.layers);
  }

  /** Runs segment `k` at step `t` on `x` (the input [B, ...] in NCHW for k = 0, else the previous neuron's output). */
  protected abstract forward(k: number, x: Activation, t: number): Activation | Promise<Activation>;

  /** The input frame [B, C, H, W] (or [B, N]) in the engine's layout. */
  protected abstract frame(x: Float32Array, B: number, shape: readonly number[]): Activation;

  /** Spikes of the engine's layout in C-order NCHW, for the check against spikelens. */
  protected abstract nchw(a: Activation): Float32Array;

  /** Runs all T steps; returns each spiking layer's spikes [T, B, ...] in C-order (NCHW), when `record`. */
  async run(record: boolean): Promise<Map<string, Uint8Array>> {
    const { w } = this;
    const T = w.timesteps;
    const B = w.batch;
    const shape = w.model.input.shape;
    const per = shape.reduce((a, b) => a * b, 1);
    const state = new Map<string, Float32Array>();
    const out = new Map<string, Uint8Array>();
    for (let t = 0; t < T; t++) {
      let x = this.frame(Float32Array.from(w.inputTrain.subarray(t * B * per, (t + 1) * B * per)), B, shape);
      for (let k = 0; k < this.segments.length; k++) {
        const I = await this.forward(k, x, t);
        const neuron = this.segments[k].neuron;
        if (!neuron) {
          x = I;
          continue;
        }
        let v = state.get(neuron.name);
        if (!v) state.set(neuron.name, (v = new Float32Array(I.data.length)));
        if (neuron.op === 'li') {
          const beta = f((neuron.beta as number | undefined) ?? 1);
          for (let i = 0; i < v.length; i++) v[i] = f(f(beta * v[i]) + I.data[i]);
          x = { data: v, shape: I.shape };
          continue;
        }
        const beta = f(neuron.beta as number);
        const thr = f((neuron.threshold as number | undefined) ?? 1);
        const s = new Float32Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const u = f(f(beta * v[i]) + I.data[i]);
          const fired = u > thr;
          s[i] = fired ? 1 : 0;
          v[i] = fired ? f(u - thr) : u;
        }
        x = { data: s, shape: I.shape };
        if (record) {
          const flat = this.nchw(x);
          let buf = out.get(neuron.name);
          if (!buf) out.set(neuron.name, (buf = new Uint8Array(T * flat.length)));
          for (let i = 0; i < flat.length; i++) buf[t * flat.length + i] = flat[i];
        }
      }
    }
    return out;
  }
}

/** The scale and shift rows an affine layer applies at step t: its [C] tensors, or row t of [T, C] ones. */
export function affineRow(w: SuiteWorkload, l: Layer, t: number): [Float32Array, Float32Array] {
  const row = (name: string): Float32Array => {
    const tensor = w.tensors.find((x) => x.name === name);
    if (!tensor) throw new Error(`JS peer: no tensor ${name} for layer ${l.name}`);
    if (tensor.shape.length === 1) return tensor.data;
    const C = tensor.shape[1];
    return tensor.data.subarray(t * C, (t + 1) * C);
  };
  return [row(l.scale as string), row(l.shift as string)];
}
