/**
 * The onnxruntime-node peer (js-peer.ts): each segment of stateless layers is one ONNX model (written by onnx.ts)
 * run step by step in an InferenceSession on the CPU execution provider with 2 intra-op threads, NCHW, the neurons
 * in JavaScript. A per-step affine's rows are session inputs, so one session serves every step.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { SuiteWorkload } from './suite-workloads.js';
import { JsPeer, affineRow, unsupported, type Activation, type Layer } from './js-peer.js';
import { onnxModel, type OnnxGraph, type OnnxNode } from './onnx.js';

type Ort = typeof import('onnxruntime-node');

let ort: Promise<Ort | string> | null = null;

/** The module, or why it cannot be loaded (the peer is then skipped with that line). */
export function loadOrt(): Promise<Ort | string> {
  ort ??= import('onnxruntime-node').then(
    (m) => (m as unknown as { default?: Ort }).default ?? m,
    (e: unknown) => `onnxruntime-node cannot be loaded: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
  );
  return ort;
}

interface Compiled {
  readonly session: InferenceSession;
  /** Affine layers of the segment whose rows are fed per step: input names, the rows' dims, the layer. */
  readonly rows: readonly { readonly scale: string; readonly shift: string; readonly dims: number[]; readonly layer: Layer }[];
  readonly outShape: readonly number[];
}

export class OrtNetwork extends JsPeer {
  private compiled: Compiled[] = [];
  readonly supported: boolean;
  readonly why: string;
  readonly version: string;

  private constructor(w: SuiteWorkload, private readonly ort: Ort) {
    super(w);
    const why = unsupported(w);
    this.supported = !why;
    this.why = why ?? '';
    this.version = ort.env.versions?.common ?? '?';
  }

  static async create(w: SuiteWorkload, threads = 2): Promise<OrtNetwork | string> {
    const m = await loadOrt();
    if (typeof m === 'string') return m;
    const net = new OrtNetwork(w, m);
    if (!net.supported) return net;
    for (let k = 0; k < net.segments.length; k++) net.compiled.push(await net.compile(k, threads));
    return net;
  }

  /** The ONNX graph of segment k: input "x" [B, ...], output "y". */
  private async compile(k: number, threads: number): Promise<Compiled> {
    const { w } = this;
    const B = w.batch;
    const shapes = new Map(w.model.layers.map((l) => [l.name, [B, ...l.outShape]]));
    const seg = this.segments[k];
    const first = w.graph.layers.indexOf(seg.layers[0] ?? seg.neuron!);
    const inShape = first === 0 ? [B, ...w.model.input.shape] : shapes.get(w.graph.layers[first - 1].name)!;
    const nodes: OnnxNode[] = [];
    const initializers: OnnxGraph['initializers'][number][] = [];
    const inputs = [{ name: 'x', dims: inShape }];
    const rows: Compiled['rows'][number][] = [];
    const byName = new Map(w.tensors.map((t) => [t.name, t]));
    let cur = 'x';
    seg.layers.forEach((l, i) => {
      const out = i === seg.layers.length - 1 ? 'y' : `h${i}`;
      const lShape = shapes.get(l.name)!;
      switch (l.op) {
        case 'conv2d': {
          const t = byName.get(l.weight as string)!;
          initializers.push({ name: `${l.name}.w`, dims: t.shape, data: t.data });
          const [pH, pW] = l.padding as number[];
          const ins = [cur, `${l.name}.w`];
          if (l.bias) {
            const b = byName.get(l.bias as string)!;
            initializers.push({ name: `${l.name}.b`, dims: b.shape, data: b.data });
            ins.push(`${l.name}.b`);
          }
          nodes.push({
            op: 'Conv',
            inputs: ins,
            outputs: [out],
            attrs: { strides: l.stride as number[], pads: [pH, pW, pH, pW], dilations: l.dilation as number[], group: 1 },
          });
          break;
        }
        case 'avgpool2d': {
          const [pH, pW] = l.padding as number[];
          // spikelens counts padding in the average (docs/semantics.md §2): count_include_pad.
          nodes.push({
            op: 'AveragePool',
            inputs: [cur],
            outputs: [out],
            attrs: { kernel_shape: l.kernel as number[], strides: l.stride as number[], pads: [pH, pW, pH, pW], count_include_pad: 1 },
          });
          break;
        }
        case 'flatten':
          nodes.push({ op: 'Flatten', inputs: [cur], outputs: [out], attrs: { axis: 1 } });
          break;
        case 'linear': {
          const t = byName.get(l.weight as string)!;
          initializers.push({ name: `${l.name}.w`, dims: t.shape, data: t.data });
          const ins = [cur, `${l.name}.w`];
          if (l.bias) {
            const b = byName.get(l.bias as string)!;
            initializers.push({ name: `${l.name}.b`, dims: b.shape, data: b.data });
            ins.push(`${l.name}.b`);
          }
          nodes.push({ op: 'Gemm', inputs: ins, outputs: [out], attrs: { transB: 1 } });
          break;
        }
        case 'affine': {
          // Rows broadcast over [B, C, H, W] as [1, C, 1, 1] (or [1, C] on flat activity). Mul then Add.
          const C = lShape[1];
          const dims = lShape.length === 4 ? [1, C, 1, 1] : [1, C];
          const [sc, sh] = [`${l.name}.scale`, `${l.name}.shift`];
          inputs.push({ name: sc, dims }, { name: sh, dims });
          rows.push({ scale: sc, shift: sh, dims, layer: l });
          nodes.push({ op: 'Mul', inputs: [cur, sc], outputs: [`${l.name}.m`] }, { op: 'Add', inputs: [`${l.name}.m`, sh], outputs: [out] });
          break;
        }
        default:
          throw new Error(`onnxruntime peer: op ${l.op}`);
      }
      cur = out;
    });
    const outShape = seg.layers.length ? shapes.get(seg.layers[seg.layers.length - 1].name)! : inShape;
    if (!seg.layers.length) nodes.push({ op: 'Identity', inputs: ['x'], outputs: ['y'] });
    const bytes = onnxModel({ name: `segment${k}`, nodes, initializers, inputs, outputs: [{ name: 'y', dims: outShape }] });
    const session = await this.ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return { session, rows, outShape };
  }

  protected frame(x: Float32Array, B: number, shape: readonly number[]): Activation {
    return { data: x, shape: [B, ...shape] };
  }

  protected nchw(a: Activation): Float32Array {
    return a.data;
  }

  protected async forward(k: number, x: Activation, t: number): Promise<Activation> {
    const c = this.compiled[k];
    const T = this.ort.Tensor;
    const feeds: Record<string, Tensor> = { x: new T('float32', x.data, x.shape as number[]) };
    for (const r of c.rows) {
      const [scale, shift] = affineRow(this.w, r.layer, t);
      feeds[r.scale] = new T('float32', scale, r.dims);
      feeds[r.shift] = new T('float32', shift, r.dims);
    }
    const out = await c.session.run(feeds);
    return { data: out.y.data as Float32Array, shape: c.outShape };
  }
}
