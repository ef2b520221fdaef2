// NIR graphs (HDF5 written with h5wasm): node types and fields mutated, huge Input shapes, huge datasets that take no
// space on disk (chunked, never written), hint metadata, cyclic edges, hard and soft links making group cycles, deep
// subgraph nesting; and byte-level damage to valid files.
import fc from 'fast-check';
import { GRAPH_LAYERS, NIR_BASES, convGraph, f32, flatGraph, i64, i64s, repoFile } from './bases.mjs';
import { nirFile } from './formats.mjs';
import { few, frac, idx, show, sometimes } from './values.mjs';

const TYPES = ['Input', 'Output', 'Conv2d', 'Linear', 'Affine', 'AvgPool2d', 'SumPool2d', 'Flatten', 'LIF', 'IF', 'LI', 'I', 'CubaLIF', 'Scale', 'Threshold', 'NIRGraph', 'Delay', 'Conv1d', 'MaxPool2d', '', 'lif', 'x'.repeat(1000)];

/** NIR dataset values: numbers of every storage type, NaN and huge values, strings, never-written huge datasets. */
const nirValue = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, -1, 1e-300, 1e38, NaN, Infinity, -Infinity, 1, 2, 0.5).map((v) => ({ f32: [v], shape: [] })) },
  { weight: 2, arbitrary: fc.constantFrom([0, 0], [1000, 1000], [2 ** 31, 2 ** 31], [-1, -1], [1], [1, 1, 1], [100000, 100000], [0, 1]).map((v) => ({ i64: v, shape: [v.length] })) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 53 - 1, -(2 ** 62), 2 ** 62).map((v) => ({ i64: [v], shape: [] })) },
  { weight: 1, arbitrary: fc.constantFrom('same', 'valid', 'foo', '', 'x'.repeat(100000)).map((s) => s) },
  { weight: 1, arbitrary: fc.constantFrom(['a', 'b'], ['same']).map((s) => s) },
  { weight: 1, arbitrary: fc.constantFrom([NaN, 1], [1e39, 1], [0, 0, 0]).map((v) => ({ f64: v, shape: [v.length] })) },
  { weight: 2, arbitrary: fc.constantFrom([16384, 16384], [2 ** 20, 2 ** 20], [2 ** 28], [2 ** 27, 2], [8, 2 ** 25], [1, 1, 16384, 16384], [2 ** 40]).chain((shape) => fc.constantFrom('<f', '<d', '<q').map((dtype) => ({ huge: shape, dtype, gzip: shape.length > 1 }))) },
  { weight: 1, arbitrary: fc.constant({ u8: [1, 2, 3], shape: [3] }) },
  { weight: 1, arbitrary: fc.constant({ i32: [3, 3], shape: [2] }) },
);

const nodeOf = (g, i) => {
  const names = Object.keys(g.nodes).filter((n) => !('hardlink' in g.nodes[n] || 'softlink' in g.nodes[n]));
  return names[i % names.length];
};

const edit = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(idx, fc.constantFrom(...TYPES)).map(([i, t]) => ({ what: `node#${i}.type=${show(t)}`, f: (g) => (g.nodes[nodeOf(g, i)].type = t) })) },
  {
    weight: 4,
    arbitrary: fc.tuple(idx, idx, nirValue).map(([i, j, v]) => ({
      what: `node#${i}.field#${j}=${show(v)}`,
      f: (g) => {
        const node = g.nodes[nodeOf(g, i)];
        const fields = Object.keys(node).filter((k) => k !== 'type');
        if (fields.length) node[fields[j % fields.length]] = v;
      },
    })),
  },
  { weight: 1, arbitrary: fc.tuple(idx, idx).map(([i, j]) => ({ what: `node#${i} field#${j} removed`, f: (g) => { const node = g.nodes[nodeOf(g, i)]; const fields = Object.keys(node).filter((k) => k !== 'type'); if (fields.length) delete node[fields[j % fields.length]]; } })) },
  { weight: 1, arbitrary: fc.tuple(idx, fc.constantFrom('extra', 'tau', 'weight', 'metadata'), nirValue).map(([i, k, v]) => ({ what: `node#${i}.${k}=${show(v)} added`, f: (g) => (g.nodes[nodeOf(g, i)][k] = k === 'metadata' ? { spikelens_op: 'lif' } : v) })) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom([1, 100000, 100000], [2 ** 31], [0], [], [1, 1, 6, 6], [-1, 6, 6], [1, 16384, 16384], [4096, 4096, 1], [2 ** 24], [1, 6], [1, 2, 3, 4, 5])
      .map((s) => ({ what: `Input.shape=${show(s)}`, f: (g) => { g.nodes.input.shape = i64(...s); if (g.nodes.conv) g.nodes.conv.input_shape = i64(...s.slice(-2)); if (g.nodes.flat) delete g.nodes.flat.input_type; } })),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(NaN, -1, 0, 1e308, 5e-324, Infinity).chain((dt) =>
      fc.constantFrom('subtract', 'zero', 'none', 'x', '').chain((reset) =>
        fc.constantFrom(0, 1, 2, -1).map((delay) => ({
          what: `hints dt ${dt} reset ${show(reset)} reset_delay ${delay}`,
          f: (g) => {
            for (const n of Object.values(g.nodes))
              if (['LIF', 'IF', 'LI', 'CubaLIF'].includes(n.type)) n.metadata = { spikelens_op: n.type === 'LI' ? 'li' : n.type === 'IF' ? 'if' : n.type === 'CubaLIF' ? 'cubalif' : 'lif', dt: { f64: [dt], shape: [] }, reset, reset_delay: { u8: [delay & 255], shape: [] }, beta: { f32: [dt > 1 ? 3e38 : 0.9], shape: [] } };
          },
        })),
      ),
    ),
  },
  { weight: 2, arbitrary: fc.constant({ what: 'edge cycle back to the first node', f: (g) => g.edges.push([g.edges.find((e) => e[1] === 'output')?.[0] ?? 'output', Object.keys(g.nodes)[1]]) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'self loop', f: (g) => g.edges.push([Object.keys(g.nodes)[1], Object.keys(g.nodes)[1]]) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'duplicate edges', f: (g) => g.edges.push(...g.edges) }) },
  { weight: 1, arbitrary: fc.constantFrom('nope', '', 'input.x', 'x'.repeat(5000)).map((n) => ({ what: `edge to ${show(n)}`, f: (g) => g.edges.push(['input', n]) })) },
  { weight: 1, arbitrary: fc.constant({ what: 'no edges', f: (g) => (g.edges = []) }) },
  { weight: 1, arbitrary: fc.constantFrom({ raw: { i64: [1, 2, 3], shape: [1, 3] } }, { raw: 'input' }, { raw: ['input', 'conv', 'lif1'] }, { raw: { f32: [0, 1], shape: [1, 2] } }, { raw: { huge: [2 ** 28, 2] } }).map((e) => ({ what: `edges=${show(e.raw)}`, f: (g) => (g.edges = e) })) },
  { weight: 1, arbitrary: fc.constant({ what: 'edges missing', f: (g) => delete g.edges }) },
  { weight: 1, arbitrary: fc.constant({ what: 'two Input nodes', f: (g) => { g.nodes.input2 = { ...g.nodes.input }; g.edges.push(['input2', Object.keys(g.nodes)[1]]); } }) },
  { weight: 1, arbitrary: fc.constant({ what: 'Output removed', f: (g) => delete g.nodes.output }) },
  { weight: 2, arbitrary: fc.constantFrom('/node', '/node/nodes', '/', '/node/nodes/input').map((t) => ({ what: `hard link nodes/loop -> ${t}`, f: (g) => (g.nodes.loop = { hardlink: t }) })) },
  { weight: 1, arbitrary: fc.constantFrom('/node', '/', '/nope').map((t) => ({ what: `soft link nodes/loop -> ${t}`, f: (g) => (g.nodes.loop = { softlink: t }) })) },
  { weight: 1, arbitrary: fc.constantFrom('/node', '/').map((t) => ({ what: `hard link inside a node -> ${t}`, f: (g) => (g.nodes[Object.keys(g.nodes)[1]].sub = { hardlink: t }) })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2, 31, 34).map((depth) => ({
      what: `subgraph nested ${depth} deep`,
      f: (g) => {
        let inner = { type: 'NIRGraph', nodes: { in: { type: 'Input', shape: i64(3) }, out: { type: 'Output', shape: i64(3) } }, edges: [['in', 'out']] };
        for (let d = 0; d < depth; d++) inner = { type: 'NIRGraph', nodes: { in: { type: 'Input', shape: i64(3) }, block: inner, out: { type: 'Output', shape: i64(3) } }, edges: [['in', 'block'], ['block', 'out']] };
        const last = g.edges.find((e) => e[1] === 'output');
        if (last) {
          g.nodes.block = inner;
          g.edges = g.edges.filter((e) => e !== last).concat([[last[0], 'block'], ['block', 'output']]);
        }
      },
    })),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(1, 3, 15, 101, 1001), fc.constantFrom(0, 1, 500, 1e5), fc.constantFrom(1, 4, 100)).map(([k, pad, stride]) => ({
      what: `conv kernel ${k} padding ${pad} stride ${stride}`,
      f: (g) => {
        if (!g.nodes.conv) return;
        g.nodes.conv.weight = k * k * 2 > 1e6 ? { huge: [2, 1, k, k] } : f32([2, 1, k, k], (i) => (i % 3) / 3);
        g.nodes.conv.padding = i64(pad, pad);
        g.nodes.conv.stride = i64(stride, stride);
        delete g.nodes.flat?.input_type;
      },
    })),
  },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1, 5).map((d) => ({ what: `Flatten start_dim ${d}`, f: (g) => { if (g.nodes.flat) g.nodes.flat.start_dim = i64s(d); } })) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, 0, -1e-3, 1e-300, 1e300).map((tau) => ({ what: `every tau ${tau}`, f: (g) => { for (const n of Object.values(g.nodes)) for (const k of ['tau', 'tau_mem', 'tau_syn']) if (n[k]) n[k] = { f32: n[k].f32.map(() => tau), shape: n[k].shape }; } })) },
);

export const nirGraph = fc
  .record({ base: fc.constantFrom('conv', 'conv', 'flat'), edits: few(edit, 3), gzip: fc.boolean(), version: fc.constantFrom('0.5.0', '1.0.0', null, '') })
  .map((r) => ({
    what: [`NIR ${r.base} graph${r.gzip ? ' gzip' : ''} version ${show(r.version)}`, ...r.edits.map((e) => e.what)],
    layers: GRAPH_LAYERS[r.base],
    build: async () => {
      const g = r.base === 'conv' ? convGraph() : flatGraph();
      for (const e of r.edits) {
        try {
          e.f(g);
        } catch {
          /* the edit's target is gone */
        }
      }
      return nirFile(g, { gzip: r.gzip, version: r.version });
    },
  }));

/** Valid NIR files damaged byte by byte (HDF5's own parser on hostile bytes). */
export const damagedNir = fc
  .record({
    base: fc.constantFrom('conv', 'linear', 'generated'),
    flips: fc.array(fc.tuple(frac, fc.integer({ min: 0, max: 255 })), { minLength: 0, maxLength: 6 }),
    region: fc.constantFrom('anywhere', 'superblock', 'first4k'),
    cut: sometimes(frac, 0.25),
    userBlock: fc.constantFrom(false, false, false, false, false, true),
  })
  .map((r) => ({
    what: [`NIR ${r.base} with ${r.flips.length} byte flips (${r.region})${r.cut !== null ? `, cut at ${r.cut.toFixed(3)}` : ''}${r.userBlock ? ', 512 zero bytes in front' : ''}`],
    layers: r.base === 'linear' ? { spiking: ['lif1', 'lif2'], maps: [], input: [40] } : GRAPH_LAYERS.conv,
    build: async () => {
      let bytes = r.base === 'generated' ? await nirFile(convGraph(), { gzip: true }) : repoFile(NIR_BASES[r.base].file).slice();
      const span = r.region === 'superblock' ? Math.min(bytes.length, 96) : r.region === 'first4k' ? Math.min(bytes.length, 4096) : bytes.length;
      for (const [at, v] of r.flips) bytes[Math.floor(at * (span - 1))] = v;
      if (r.cut !== null) bytes = bytes.slice(0, Math.floor(r.cut * bytes.length));
      if (r.userBlock) {
        const b = new Uint8Array(bytes.length + 512);
        b.set(bytes, 512);
        bytes = b;
      }
      return bytes;
    },
  }));

export const validNir = fc.constantFrom('conv', 'linear').map((base) => ({
  what: [`NIR conformance ${base}`],
  layers: base === 'linear' ? { spiking: ['lif1', 'lif2'], maps: [], input: [40] } : { spiking: ['lif1', 'lif2', 'lif3'], maps: ['lif1', 'lif2'], input: [2, 12, 12] },
  input: NIR_BASES[base].input,
  build: () => repoFile(NIR_BASES[base].file),
}));
