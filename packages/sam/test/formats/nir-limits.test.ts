/**
 * Hostile NIR files: shapes that ask for gigabytes, small files holding huge compressed datasets, HDF5 link cycles,
 * and a file's time step hint that is no time step. Each fails fast with one InputError naming the file and the
 * node or dataset (docs/nir.md, "Limits"), and only the datasets the graph uses are read.
 */
import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/errors.js';
import { hdf5, readHdf5, type H5Group } from '../../src/formats/nir/hdf5.js';
import { readNir, type NirImportOptions } from '../../src/formats/nir/index.js';
import { LIMITS } from '../../src/limits.js';
import { f32, i64, nirBytes, smallGraph, type Graph } from './nir-helpers.js';

const F = 'm.nir';
type H5 = Awaited<ReturnType<typeof hdf5>>['h5'];
type H5File = InstanceType<H5['File']>;
const group = (f: H5File, path: string) => f.get(path) as InstanceType<H5['Group']>;

let n = 0;
/** `bytes` with `change` applied to the HDF5 file (opened for writing). */
async function patch(bytes: Uint8Array, change: (f: H5File) => void): Promise<Uint8Array> {
  const { h5, module } = await hdf5();
  const path = `/nir-limits-${++n}.nir`;
  module.FS.writeFile(path, bytes);
  const f = new h5.File(path, 'a');
  try {
    change(f);
  } finally {
    f.close();
  }
  const out = new Uint8Array(module.FS.readFile(path));
  module.FS.unlink(path);
  return out;
}

/** The InputError `p` rejects with; it is one line under LIMITS.messageChars, starting with the file's name. */
async function problem(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const m = (err as Error).message;
    expect(m.startsWith(`${F}: `), m).toBe(true);
    expect(m.length).toBeLessThan(LIMITS.messageChars);
    expect(m).not.toMatch(/\n/);
    return m.slice(F.length + 2);
  }
  throw new Error('expected an InputError');
}

const read = async (g: Graph, o: NirImportOptions = {}) => readNir(await nirBytes(g), F, o);

/** A chain Input -> LIF (0-d parameters) -> Output on an input of `shape`. */
function wide(shape: number[]): Graph {
  return {
    nodes: {
      input: { type: 'Input', shape: i64(...shape) },
      lif: { type: 'LIF', tau: 1e-3, r: 10, v_leak: 0, v_threshold: 1, v_reset: 0 },
      output: { type: 'Output', shape: i64(...shape) },
    },
    edges: [['input', 'lif'], ['lif', 'output']],
  };
}

describe('A: every shape from the file is bounded before anything is allocated', () => {
  it('refuses an Input of [3,1e5,1e5] and of [1e8] (a crash and a 6.5 GB hang before), naming the node', async () => {
    const max = LIMITS.layerNeurons;
    expect(await problem(read(wide([3, 100000, 100000])))).toBe(
      `node "input" (Input): field "shape" [3,100000,100000] has more than the ${max} elements per sample a layer may have`,
    );
    const t = performance.now();
    expect(await problem(read(wide([1e8])))).toMatch(/^node "input" \(Input\): field "shape" \[100000000\] has more than/);
    expect(performance.now() - t).toBeLessThan(5000);
    // A shape dataset of a million dimensions is not even read.
    const g = wide([2]);
    g.nodes.input.shape = { i64: Array(1_000_000).fill(1), shape: [1_000_000] };
    expect(await problem(read(g))).toBe(`node "input" (Input): field "shape" has 1000000 values, more than ${LIMITS.rank} dimensions`);
  });

  it('refuses a convolution or pooling whose output would be too large, and parameters of the wrong shape unread', async () => {
    const g = smallGraph();
    g.nodes.conv = { ...g.nodes.conv, padding: i64(1_000_000, 1_000_000) };
    expect(await problem(read(g))).toBe(
      `node "conv" (Conv2d): its output [2,2000004,2000004] has more than the ${LIMITS.layerNeurons} elements per sample a layer may have`,
    );
    const pool = smallGraph();
    pool.nodes.pool = { type: 'SumPool2d', kernel_size: i64(1, 1), stride: i64(1, 1), padding: i64(3_000_000, 0) };
    pool.edges = pool.edges.filter(([a]) => a !== 'lif1').concat([['lif1', 'pool'], ['pool', 'flat']]);
    expect(await problem(read(pool))).toMatch(/^node "pool" \(SumPool2d\): its output \[2,6000006,6\] has more than/);
    // A 2^24-element tau for a layer of 3 neurons (a 20 KB file): refused from its header, never read.
    const g2 = smallGraph();
    delete (g2.nodes.lif2 as Record<string, unknown>).tau;
    const withBig = await patch(await nirBytes(g2), (f) => {
      const d = group(f, 'node/nodes/lif2').create_dataset({ name: 'tau', data: new Float32Array(16).fill(1e-3), shape: [16], dtype: '<f', maxshape: [null], chunks: [1 << 16], compression: 'gzip', compression_opts: 4 });
      d.resize([2 ** 24]);
    });
    expect(withBig.length).toBeLessThan(200_000);
    expect(await problem(readNir(withBig, F))).toBe(`node "lif2" (LIF): field "tau" has shape [16777216], expected [] or the layer's [3]`);
  });

  it('checks a Linear weight against its input from the header, and its output size', async () => {
    const g = smallGraph();
    g.nodes.fc = { type: 'Linear', weight: f32([3, 70], () => 0) };
    expect(await problem(read(g))).toBe('node "fc" (Linear): field "weight" has shape [3,70], expected [out, 72]');
  });
});

describe('B: only the datasets the graph uses are read, each and all bounded in bytes', () => {
  it('accepts a small file with an unused 2^28-element float32 dataset without reading it (3.2 GB before)', async () => {
    const bytes = await patch(await nirBytes(smallGraph()), (f) => {
      const d = group(f, 'node/nodes/lif1').create_dataset({ name: 'unused', data: new Float32Array(1024), shape: [1024], dtype: '<f', maxshape: [null], chunks: [1 << 20], compression: 'gzip', compression_opts: 4 });
      d.resize([2 ** 28]);
    });
    expect(bytes.length).toBeLessThan(100_000);
    const before = process.memoryUsage();
    const t = performance.now();
    const { model } = await readNir(bytes, F);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(process.memoryUsage().rss - before.rss).toBeLessThan(256 * 2 ** 20);
    expect(model.layers.map((l) => l.name)).toEqual(['conv', 'lif1', 'flat', 'fc', 'lif2']);
    // The dataset is there, with its shape, unread.
    const header = await readHdf5(bytes, F, (root) => {
      const lif1 = ((root.entries.get('node') as H5Group).entries.get('nodes') as H5Group).entries.get('lif1') as H5Group;
      const unused = lif1.entries.get('unused')!;
      return unused.kind === 'dataset' && [unused.shape, unused.count, unused.class];
    });
    expect(header).toEqual([[2 ** 28], 2 ** 28, 'number']);
  });

  it('refuses a used 2^27-element float64 weight from its header (a V8 out-of-heap crash before)', async () => {
    const g = smallGraph();
    delete (g.nodes.fc as Record<string, unknown>).weight;
    const bytes = await patch(await nirBytes(g), (f) => {
      const d = group(f, 'node/nodes/fc').create_dataset({ name: 'weight', data: new Float64Array(72), shape: [1, 72], dtype: '<d', maxshape: [null, 72], chunks: [4096, 72], compression: 'gzip', compression_opts: 4 });
      d.resize([2 ** 21, 72]);
    });
    expect(bytes.length).toBeLessThan(100_000);
    const t = performance.now();
    expect(await problem(readNir(bytes, F))).toBe(
      `dataset "/node/nodes/fc/weight" [2097152,72] would take 1.1 GiB once read, more than the ${256} MiB one dataset may take`,
    );
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it("counts every dataset read against the file's total (LIMITS.nirBytes)", async () => {
    const limits = LIMITS as { nirBytes: number };
    const saved = limits.nirBytes;
    limits.nirBytes = 600; // the Conv2d weight (72 bytes) and the Affine weight (864 bytes) do not fit together
    try {
      expect(await problem(read(smallGraph()))).toMatch(
        /^dataset "\/node\/nodes\/[a-z0-9]+\/[a-z_]+" \[[0-9,]*\] would bring the datasets read to more than the 600 bytes one NIR file may take$/,
      );
    } finally {
      limits.nirBytes = saved;
    }
    expect((await read(smallGraph())).warnings).toEqual([]);
  });

  it('bounds a string dataset by its count, and reads edges as before', async () => {
    const g = smallGraph();
    const bytes = await patch(await nirBytes(g), (f) => {
      const node = group(f, 'node');
      const names = Array.from({ length: 2 * (LIMITS.hdf5Strings / 2 + 1) }, () => 'input');
      node.create_dataset({ name: 'edges2', data: names, shape: [names.length / 2, 2] });
    });
    const refused = await readHdf5(bytes, F, (root) => {
      const e = (root.entries.get('node') as H5Group).entries.get('edges2')!;
      return e.kind === 'dataset' ? [e.count, (() => { try { e.read(); return 'read'; } catch (err) { return (err as Error).message; } })()] : [];
    });
    expect(refused).toEqual([LIMITS.hdf5Strings + 2, `m.nir: dataset "/node/edges2" [${LIMITS.hdf5Strings / 2 + 1},2] holds more than the ${LIMITS.hdf5Strings} strings one dataset may hold`]);
    expect((await readNir(bytes, F)).model.layers).toHaveLength(5);
  });
});

describe('C: HDF5 link cycles fail fast', () => {
  it('refuses a group hard-linked into its own subtree (a hang of info and run before)', async () => {
    for (const [at, target] of [['node/nodes/lif1', '/node'], ['node/nodes', '/node/nodes'], ['node/nodes/conv', '/']] as const) {
      const bytes = await patch(await nirBytes(smallGraph()), (f) => group(f, at).create_hard_link(target, 'loop'));
      const t = performance.now();
      const m = await problem(readNir(bytes, F));
      expect(m).toBe(`HDF5 link cycle: "/${at}/loop" is the group "${target === '/' ? '/' : target}" that contains it`);
      expect(performance.now() - t).toBeLessThan(5000);
    }
  });

  it('refuses a soft-link cycle the same way', async () => {
    const bytes = await patch(await nirBytes(smallGraph()), (f) => group(f, 'node/nodes/fc').create_soft_link('/node/nodes', 'back'));
    expect(await problem(readNir(bytes, F))).toBe('HDF5 link cycle: "/node/nodes/fc/back" is the group "/node/nodes" that contains it');
  });

  it('refuses groups nested deeper than LIMITS.hdf5Depth, and accepts a group linked twice (no cycle)', async () => {
    const deep = await patch(await nirBytes(smallGraph()), (f) => {
      let g = group(f, 'node/nodes/lif1');
      for (let i = 0; i < LIMITS.hdf5Depth + 2; i++) g = g.create_group('d');
    });
    expect(await problem(readNir(deep, F))).toMatch(new RegExp(`^HDF5 groups nest more than ${LIMITS.hdf5Depth} deep at "/node/nodes/lif1/d/d/.*"$`));
    const shared = await patch(await nirBytes(smallGraph()), (f) => {
      const extra = group(f, '/').create_group('extra');
      extra.create_dataset({ name: 'x', data: Float32Array.of(1), shape: [1], dtype: '<f' });
      group(f, 'node/nodes/lif1').create_hard_link('/extra', 'same1');
      group(f, 'node/nodes/lif2').create_hard_link('/extra', 'same2');
    });
    expect((await readNir(shared, F)).model.layers).toHaveLength(5);
  });
});

describe("D: a file's time step hint that is no time step is the file's problem", () => {
  const withDt = async (dt: Float64Array | Float32Array) =>
    patch(await nirBytes(smallGraph()), (f) => {
      for (const node of ['lif1', 'lif2']) {
        const m = group(f, `node/nodes/${node}`).create_group('metadata');
        m.create_dataset({ name: 'dt', data: dt, shape: dt.length === 1 ? [] : [dt.length], dtype: dt instanceof Float64Array ? '<d' : '<f' });
      }
    });

  it('NaN, -1, 0 or an array as metadata dt: InputError (exit 3) naming the file and the node (exit 2 without the file before)', async () => {
    for (const [dt, says] of [[NaN, 'NaN'], [-1, '-1'], [0, '0'], [Infinity, 'Infinity']] as const) {
      const bytes = await withDt(Float64Array.of(dt));
      const err = await readNir(bytes, F).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode).toBe(3);
      expect((err as Error).message).toBe(`m.nir: node "lif1" (LIF): metadata "dt" is ${says}, expected a time step > 0`);
    }
    expect(await problem(readNir(await withDt(Float32Array.of(1e-4, 1e-4)), F))).toBe(
      'node "lif1" (LIF): metadata "dt" is a [2] array, expected one time step > 0',
    );
    // A good hint is used.
    const ok = await readNir(await withDt(Float64Array.of(1e-4)), F);
    expect(ok.warnings[0]).toMatch(/no preset given: using the time step \(0\.0001\)/);
  });

  it('a --dt given by the user stays a usage error, and the file hint is then not consulted', async () => {
    const bytes = await withDt(Float64Array.of(NaN));
    await expect(readNir(bytes, F, { dt: -1 })).rejects.toThrow(UsageError);
    await expect(readNir(bytes, F, { dt: -1 })).rejects.toThrow(/^dt must be a number > 0, not -1$/);
    expect((await readNir(bytes, F, { dt: 1e-4 })).model.layers).toHaveLength(5);
  });
});
