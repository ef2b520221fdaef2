/** Writes hand-made NIR files (HDF5) for tests, with h5wasm, in the layout nir.write uses. */
import { hdf5 } from '../../src/formats/nir/hdf5.js';

export type Value = number | number[] | string | string[] | { f32: number[]; shape: number[] } | { i64: number[]; shape: number[] };
export interface NodeSpec {
  type: string;
  [field: string]: Value | Graph | undefined;
}
export interface Graph {
  nodes: Record<string, NodeSpec>;
  edges: [string, string][];
}

let n = 0;

/** A NIR file of `graph`; numbers are float32 unless given as { i64 }. `gzip` compresses every numeric dataset. */
export async function nirBytes(graph: Graph, opts: { gzip?: boolean; version?: string } = {}): Promise<Uint8Array> {
  const { h5, module } = await hdf5();
  const path = `/test-${++n}.nir`;
  const f = new h5.File(path, 'w');
  const put = (g: InstanceType<typeof h5.Group>, name: string, v: Value) => {
    if (typeof v === 'string' || (Array.isArray(v) && typeof v[0] === 'string')) {
      g.create_dataset({ name, data: v as string | string[] });
      return;
    }
    let data: Float32Array | BigInt64Array;
    let shape: number[];
    if (typeof v === 'number') [data, shape] = [Float32Array.of(v), []];
    else if (Array.isArray(v)) [data, shape] = [Float32Array.from(v as number[]), [v.length]];
    else if ('f32' in v) [data, shape] = [Float32Array.from(v.f32), v.shape];
    else [data, shape] = [BigInt64Array.from(v.i64, (x) => BigInt(x)), v.shape];
    const gz = opts.gzip && shape.length > 0;
    g.create_dataset({ name, data, shape, dtype: data instanceof Float32Array ? '<f' : '<q', ...(gz ? { chunks: shape, compression: 'gzip' as const, compression_opts: 4 } : {}) });
  };
  const writeGraph = (g: InstanceType<typeof h5.Group>, graphSpec: Graph) => {
    g.create_dataset({ name: 'type', data: 'NIRGraph' });
    g.create_dataset({ name: 'edges', data: graphSpec.edges.flat(), shape: [graphSpec.edges.length, 2] });
    const nodes = g.create_group('nodes');
    for (const [name, spec] of Object.entries(graphSpec.nodes)) {
      const ng = nodes.create_group(name);
      if (spec.type === 'NIRGraph') {
        writeGraph(ng, spec as unknown as Graph);
        continue;
      }
      ng.create_dataset({ name: 'type', data: spec.type });
      for (const [k, v] of Object.entries(spec)) if (k !== 'type' && v !== undefined) put(ng, k, v as Value);
    }
  };
  if (opts.version !== undefined) f.create_dataset({ name: 'version', data: opts.version });
  writeGraph(f.create_group('node'), graph);
  f.close();
  const bytes = new Uint8Array(module.FS.readFile(path));
  module.FS.unlink(path);
  return bytes;
}

export const i64 = (...v: number[]) => ({ i64: v, shape: [v.length] });
export const i64s = (v: number) => ({ i64: [v], shape: [] });
export const f32 = (shape: number[], fill: (i: number) => number) => {
  const size = shape.reduce((a, b) => a * b, 1);
  return { f32: Array.from({ length: size }, (_, i) => fill(i)), shape };
};

/** A small valid chain: Input [1,6,6] -> Conv2d 1->2 3x3 p1 -> LIF -> Flatten -> Affine 72->3 -> LIF -> Output. */
export function smallGraph(): Graph {
  const lif = (shape: number[]) => ({
    type: 'LIF',
    tau: f32(shape, () => 1e-3),
    r: f32(shape, () => 10),
    v_leak: f32(shape, () => 0),
    v_threshold: f32(shape, () => 1),
    v_reset: f32(shape, () => 0),
  });
  return {
    nodes: {
      input: { type: 'Input', shape: i64(1, 6, 6) },
      conv: { type: 'Conv2d', weight: f32([2, 1, 3, 3], (i) => ((i * 37) % 17) / 16 - 0.25), bias: [0.125, -0.0625], stride: i64(1, 1), padding: i64(1, 1), dilation: i64(1, 1), groups: i64s(1), input_shape: i64(6, 6) },
      lif1: lif([2, 6, 6]),
      flat: { type: 'Flatten', start_dim: i64s(0), end_dim: i64s(-1), input_type: i64(2, 6, 6) },
      fc: { type: 'Affine', weight: f32([3, 72], (i) => ((i * 13) % 11) / 8 - 0.5), bias: [0.25, 0, -0.25] },
      lif2: lif([3]),
      output: { type: 'Output', shape: i64(3) },
    },
    // stored out of order, as NIR files do
    edges: [['lif2', 'output'], ['conv', 'lif1'], ['fc', 'lif2'], ['input', 'conv'], ['flat', 'fc'], ['lif1', 'flat']],
  };
}
