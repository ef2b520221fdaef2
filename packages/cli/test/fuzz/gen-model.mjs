// Model files: the safetensors container mutated (length field, header text, tensor entries), the graph JSON mutated
// (fields, layers, limits), the weights mutated, and valid synthetic models of any size.
import fc from 'fast-check';
import { MODELS, modelOf, repoFile } from './bases.mjs';
import { concat, f32bytes, modelBytes, safetensorsRaw, splitSafetensors, utf8 } from './formats.mjs';
import { anyNumber, anyPair, anyShape, anyString, anyValue, few, frac, idx, jsonText, raw, show, sometimes } from './values.mjs';

const modelKey = fc.constantFrom('c01', 'c01', 'mnist', 'untrained', 'mnistIf');

// ------------------------------------------------------------------------------------------------ container level

const DTYPES = ['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'];
const WEIRD_DTYPES = ['f32', 'F32 ', 'Q8', '', 'F128', 'C64', 'U1', 'I4', 32, null, ['F32'], { dtype: 'F32' }];

const lengthField = fc.oneof(
  fc.constantFrom(0, 1, 2, 7, 8, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2n ** 63n, 2n ** 64n - 1n, 100_000_000, 100_000_001, 2 ** 40),
  fc.constantFrom('header-1', 'header+1', 'file', 'file-8', 'file-7', 'file+1').map((s) => s),
);

/** One edit of the parsed header object; returns a description. */
const headerEdit = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(idx, fc.constantFrom(...DTYPES, ...WEIRD_DTYPES)).map(([i, v]) => ({ what: `tensor#${i}.dtype=${show(v)}`, f: (h, t) => (h[t(i)].dtype = v) })) },
  { weight: 3, arbitrary: fc.tuple(idx, anyShape).map(([i, v]) => ({ what: `tensor#${i}.shape=${show(v)}`, f: (h, t) => (h[t(i)].shape = v) })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(idx, fc.oneof(fc.tuple(fc.constantFrom(0, 1, 100, 4896, 2 ** 31, 2 ** 32, 2 ** 53, -1, 1.5), fc.constantFrom(0, 288, 4896, 27936, 81960, 2 ** 32, 2 ** 53 - 1, 1e300, -8)), fc.constantFrom([], [0], [0, 0, 0], null, 'x', [raw('1e400'), 0], ['0', '288'])))
      .map(([i, v]) => ({ what: `tensor#${i}.data_offsets=${show(v)}`, f: (h, t) => (h[t(i)].data_offsets = v) })),
  },
  { weight: 1, arbitrary: fc.tuple(idx, fc.constantFrom('dtype', 'shape', 'data_offsets')).map(([i, k]) => ({ what: `tensor#${i} without ${k}`, f: (h, t) => delete h[t(i)][k] })) },
  { weight: 1, arbitrary: fc.tuple(idx, anyValue).map(([i, v]) => ({ what: `tensor#${i}=${show(v)}`, f: (h, t) => (h[t(i)] = v) })) },
  { weight: 1, arbitrary: fc.tuple(idx, anyString, anyValue).map(([i, k, v]) => ({ what: `tensor#${i}.${show(k)}=${show(v)}`, f: (h, t) => (h[t(i)][k] = v) })) },
  { weight: 1, arbitrary: idx.map((i) => ({ what: `tensor#${i} removed`, f: (h, t) => delete h[t(i)] })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(null, [], 'x', 5, {}, { spikelens: 5 }, { spikelens: 'not json' }, { spikelens: '{' }, { spikelens: '[]' }, { spikelens: 'null' }, { other: 'x' }, { spikelens: '{}', extra: { nested: 1 } }, { spikelens: raw('"' + '\\u0000'.repeat(10) + '"') })
      .map((v) => ({ what: `__metadata__=${show(v)}`, f: (h) => (h.__metadata__ = v) })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(10, 1000, 20000).map((n) => ({
      what: `${n} extra empty tensors`,
      f: (h) => {
        for (let i = 0; i < n; i++) h[`extra.${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
      },
    })),
  },
  { weight: 1, arbitrary: anyShape.map((s) => ({ what: `extra unnamed tensor shape ${show(s)}`, f: (h) => (h['zz.unused'] = { dtype: 'F32', shape: s, data_offsets: [0, 4] }) })) },
);

/** Whole-text edits of the header JSON (after the object edits). */
const textEdit = fc.oneof(
  fc.constant({ what: 'BOM before header', f: (s) => '\ufeff' + s }),
  fc.constant({ what: 'trailing spaces (legal padding)', f: (s) => s + '        ' }),
  fc.constant({ what: 'trailing NUL', f: (s) => s + '\u0000' }),
  fc.constant({ what: 'trailing garbage', f: (s) => s + '}{' }),
  fc.constant({ what: 'duplicate key', f: (s) => s.replace('{', '{"__metadata__":{"spikelens":"{}"},') }),
  frac.map((x) => ({ what: `cut header at ${x}`, f: (s) => s.slice(0, Math.floor(x * s.length)) })),
  fc.tuple(frac, fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\u0000', '\ud800', 'x', ' ')).map(([x, c]) => ({ what: `header char at ${x} := ${JSON.stringify(c)}`, f: (s) => { const i = Math.floor(x * (s.length - 1)); return s.slice(0, i) + c + s.slice(i + 1); } })),
  fc.constantFrom(100, 10000, 1000000).map((d) => ({ what: `header is [..${d} deep..]`, f: () => '['.repeat(d) + ']'.repeat(d) })),
  fc.constantFrom(100, 100000).map((d) => ({ what: `metadata spikelens value nested ${d} deep`, f: (s) => s.replace('"__metadata__":{', `"__metadata__":{"deep":${'['.repeat(d)}${']'.repeat(d)},`) })),
  fc.constant({ what: 'header is a JSON array', f: () => '[]' }),
  fc.constant({ what: 'header is a JSON string', f: () => '"x"' }),
  fc.constant({ what: 'header is null', f: () => 'null' }),
);

const byteEdit = fc.tuple(frac, fc.integer({ min: 0, max: 255 }));

/** One change to a container: an edit of the header object or text, the length field, bytes, the file's end. */
const containerOp = fc.oneof(
  { weight: 6, arbitrary: headerEdit.map((e) => ({ header: e, what: e.what })) },
  { weight: 2, arbitrary: textEdit.map((e) => ({ text: e, what: e.what })) },
  { weight: 2, arbitrary: lengthField.map((v) => ({ length: v, what: `length field ${String(v)}` })) },
  { weight: 1, arbitrary: fc.array(byteEdit, { minLength: 1, maxLength: 4 }).map((flips) => ({ flips, what: `${flips.length} byte flips` })) },
  { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 0, max: 16 }), frac).map((cut) => ({ cut, what: `cut at ${cut}` })) },
  { weight: 1, arbitrary: fc.constantFrom(1, 7, 100, 65536).map((append) => ({ append, what: `append ${append} bytes` })) },
);

const layersOf = (key) => ({ spiking: MODELS[key].spiking, maps: MODELS[key].maps, input: MODELS[key].input });

export const containerCase = fc.record({ model: modelKey, ops: few(containerOp, 3) }).map((r) => ({
  what: [`base ${r.model}`, ...r.ops.map((o) => o.what)],
  layers: layersOf(r.model),
  build: () => {
    const { header, data } = splitSafetensors(repoFile(MODELS[r.model].file));
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    const t = (i) => names[i % names.length];
    for (const o of r.ops) {
      try {
        o.header?.f(header, t);
      } catch {
        /* edit of a value that an earlier edit replaced by a scalar */
      }
    }
    let text = jsonText(header);
    for (const o of r.ops) if (o.text) text = o.text.f(text);
    const h = utf8(text);
    const file = 8 + h.length + data.length;
    let length;
    for (const o of r.ops) {
      if (o.length === undefined) continue;
      length = typeof o.length === 'string' ? { 'header-1': h.length - 1, 'header+1': h.length + 1, file, 'file-8': file - 8, 'file-7': file - 7, 'file+1': file + 1 }[o.length] : o.length;
    }
    let bytes = safetensorsRaw(h, data, length);
    for (const o of r.ops) {
      for (const [at, v] of o.flips ?? []) bytes[Math.floor(at * (bytes.length - 1))] = v;
      if (o.cut !== undefined) bytes = bytes.slice(0, o.cut > 0 && o.cut < 1 ? Math.floor(o.cut * bytes.length) : o.cut);
      if (o.append !== undefined) bytes = concat(bytes, new Uint8Array(o.append).fill(0x20));
    }
    return bytes;
  },
}));

// ---------------------------------------------------------------------------------------------------- graph level

/** Every path into a JSON value, as key lists. */
function paths(v, at = [], out = []) {
  out.push(at);
  if (v && typeof v === 'object') for (const k of Object.keys(v)) paths(v[k], [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function setAt(root, path, value) {
  if (path.length === 0) return value;
  let o = root;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]] = value;
  return root;
}

function deleteAt(root, path) {
  if (path.length === 0) return root;
  let o = root;
  for (const k of path.slice(0, -1)) o = o[k];
  const k = path[path.length - 1];
  if (Array.isArray(o)) o.splice(k, 1);
  else delete o[k];
  return root;
}

const conv = (g) => g.layers.find((l) => l.op === 'conv2d') ?? g.layers[0];
const pool = (g) => g.layers.find((l) => l.op.endsWith('pool2d')) ?? g.layers[0];
const neuron = (g) => g.layers.find((l) => l.op === 'lif') ?? g.layers[0];

/** Targeted edits: the fields and limits a hostile model would go for. */
const targeted = fc.oneof(
  anyNumber.map((v) => ({ what: `timesteps=${show(v)}`, f: (g) => (g.timesteps = v) })),
  fc.constantFrom(1e6, 2 ** 53 - 1, 100000, 100001, 0, null).map((v) => ({ what: `timesteps=${v}`, f: (g) => (g.timesteps = v) })),
  fc.constantFrom([1, 100000, 100000], [3, 4096, 4096], [1, 2 ** 31, 1], [0, 28, 28], [2000000000], [], [1, 28], [1, 28, 28, 1], [1, 4096, 4096], [1, 28.5, 28], [2 ** 24], [1, -28, 28], [1, 16384, 16384])
    .map((v) => ({ what: `input.shape=${show(v)}`, f: (g) => (g.input.shape = v) })),
  anyPair.map((v) => ({ what: `conv.padding=${show(v)}`, f: (g) => (conv(g).padding = v) })),
  anyPair.map((v) => ({ what: `conv.stride=${show(v)}`, f: (g) => (conv(g).stride = v) })),
  anyPair.map((v) => ({ what: `conv.dilation=${show(v)}`, f: (g) => (conv(g).dilation = v) })),
  fc.constantFrom(0, -1, 2, 3, 8, 16, 1.5, 2 ** 31, '1', null).map((v) => ({ what: `conv.groups=${show(v)}`, f: (g) => (conv(g).groups = v) })),
  anyPair.map((v) => ({ what: `pool.kernel=${show(v)}`, f: (g) => (pool(g).kernel = v) })),
  anyPair.map((v) => ({ what: `pool.stride=${show(v)}`, f: (g) => (pool(g).stride = v) })),
  anyPair.map((v) => ({ what: `pool.padding=${show(v)}`, f: (g) => (pool(g).padding = v) })),
  fc.constantFrom('softmax', 'conv3d', '', 'LIF', 'maxpool2d', 'sumpool2d', 'relu', 'li', 'if', 'cubalif', 'flatten', 'affine', 'linear', null, 5)
    .chain((op) => idx.map((i) => ({ what: `layers[${i}].op=${show(op)}`, f: (g) => (g.layers[i % g.layers.length].op = op) }))),
  fc.constantFrom(1e308, -1e308, 1e39, 3e38, raw('1e400'), raw('NaN'), 0, -1, 2, 1e-45, 'x', null, [0.9], 'lif1.beta')
    .chain((v) => fc.constantFrom('beta', 'threshold', 'vReset', 'alpha').map((k) => ({ what: `lif.${k}=${show(v)}`, f: (g) => (neuron(g)[k] = v) }))),
  fc.constantFrom('x', 'zero', 'none', null, 1).map((v) => ({ what: `lif.reset=${show(v)}`, f: (g) => (neuron(g).reset = v) })),
  fc.constantFrom('yes', 1, null, 'true').map((v) => ({ what: `lif.resetDelay=${show(v)}`, f: (g) => (neuron(g).resetDelay = v) })),
  fc.constantFrom('final', 'mean', 'count', 'max', '', null, 5).map((v) => ({ what: `readout=${show(v)}`, f: (g) => (g.readout = v) })),
  fc.constantFrom(1e308, 0, -1, raw('1e400'), raw('NaN'), 'x', null).map((v) => ({ what: `encoding.gain=${show(v)}`, f: (g) => ((g.input.encoding ??= {}).gain = v) })),
  fc.constantFrom('rate', 'direct', 'signed-poisson', 'poisson', null, 1).map((v) => ({ what: `encoding.kind=${show(v)}`, f: (g) => ((g.input.encoding ??= {}).kind = v) })),
  fc.constantFrom([0], [1e-308], [1e308], [], [1, 1], [1, 2, 3], Array(10000).fill(1), [raw('1e400')], 'x', null)
    .chain((v) => fc.constantFrom('mean', 'std').map((k) => ({ what: `preprocess.${k}=${show(v)}`, f: (g) => ((g.input.preprocess ??= {})[k] = v) }))),
  fc.constantFrom(1e308, 0, -1, raw('1e400'), 'x').map((v) => ({ what: `preprocess.scale=${show(v)}`, f: (g) => ((g.input.preprocess ??= {}).scale = v) })),
  fc.constantFrom(Array.from({ length: 10000 }, (_, i) => `c${i}`), Array(10).fill('x'.repeat(100000)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], Array(10).fill('a\nb'), Array(10).fill(''), null, 'x', [])
    .map((v) => ({ what: `labels=${show(v)}`, f: (g) => (g.input.labels = v) })),
  fc.constantFrom('x'.repeat(100000), 'a\nb', '', 5, null, '\u0000', '../../etc/passwd').map((v) => ({ what: `name=${show(v)}`, f: (g) => (g.name = v) })),
  fc.constantFrom('conv 1', '.x', '-x', 'input', 'lif1', '../x', 'a/b', 'x'.repeat(300), 'x'.repeat(5000), 'a\nb', '\u00e9', 'CON', '', 5, null)
    .chain((v) => idx.map((i) => ({ what: `layers[${i}].name=${show(v)}`, f: (g) => (g.layers[i % g.layers.length].name = v) }))),
  fc.constantFrom(0, 1, 1025, 5000, 100000).map((n) => ({
    what: `${n} extra flatten layers`,
    f: (g) => {
      const at = g.layers.findIndex((l) => l.op === 'flatten');
      const extra = Array.from({ length: n }, (_, i) => ({ name: `f${i}`, op: 'flatten' }));
      g.layers.splice(at + 1, 0, ...extra);
    },
  })),
  fc.constant({ what: 'layers=[]', f: (g) => (g.layers = []) }),
  fc.constant({ what: 'layers is an object', f: (g) => (g.layers = { 0: g.layers[0] }) }),
  idx.map((i) => ({ what: `layers[${i}] removed`, f: (g) => g.layers.splice(i % g.layers.length, 1) })),
  idx.map((i) => ({ what: `layers[${i}] duplicated`, f: (g) => g.layers.splice(i % g.layers.length, 0, { ...g.layers[i % g.layers.length] }) })),
  fc.tuple(idx, idx).map(([i, j]) => ({
    what: `layers[${i}] <-> layers[${j}]`,
    f: (g) => {
      const a = i % g.layers.length;
      const b = j % g.layers.length;
      [g.layers[a], g.layers[b]] = [g.layers[b], g.layers[a]];
    },
  })),
  fc.constantFrom(raw('{"a":'.repeat(10000) + '1' + '}'.repeat(10000), 'meta nested 10000 deep'), { big: 'x'.repeat(500000) }, [], 'x').map((v) => ({ what: `meta=${show(v)}`, f: (g) => (g.meta = v) })),
  fc.constantFrom('spikelens.model/2', '', null, 1).map((v) => ({ what: `format=${show(v)}`, f: (g) => (g.format = v) })),
  fc.constant({ what: 'affine per-step layer with 1 row', f: (g, t) => {
    g.layers.splice(1, 0, { name: 'bn', op: 'affine', scale: 'bn.scale', shift: 0 });
    t.push({ name: 'bn.scale', dtype: 'F32', shape: [1, 8], data: f32bytes(Array(8).fill(1)) });
  } }),
  fc.constantFrom('conv1.weight', 'missing', '', null, 5).map((v) => ({ what: `linear.weight=${show(v)}`, f: (g) => (g.layers.find((l) => l.op === 'linear').weight = v) })),
  fc.constantFrom('fc.weight', 'conv2.weight', 'missing', 5).map((v) => ({ what: `conv.bias=${show(v)}`, f: (g) => (conv(g).bias = v) })),
);

/** Generic edits anywhere in the graph. */
const generic = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(idx, anyValue).map(([i, v]) => ({ what: `path#${i}=${show(v)}`, f: (g) => { const ps = paths(g); return setAt(g, ps[1 + (i % (ps.length - 1))], v); } })) },
  { weight: 1, arbitrary: idx.map((i) => ({ what: `path#${i} deleted`, f: (g) => { const ps = paths(g); return deleteAt(g, ps[1 + (i % (ps.length - 1))]); } })) },
  { weight: 1, arbitrary: fc.tuple(idx, anyString, anyValue).map(([i, k, v]) => ({ what: `object#${i}.${show(k)}=${show(v)}`, f: (g) => { const objs = paths(g).filter((p) => { let o = g; for (const x of p) o = o[x]; return o && typeof o === 'object' && !Array.isArray(o); }); let o = g; for (const x of objs[i % objs.length]) o = o[x]; o[k] = v; return g; } })) },
);

/** Weight edits: NaN, infinities, huge values, denormals, or a tensor reshaped (with its data resized). */
const weightEdit = fc.oneof(
  fc.tuple(idx, idx, fc.constantFrom(NaN, Infinity, -Infinity, 3e38, -3.4e38, 1e-45, -0)).map(([ti, ei, v]) => ({
    what: `tensor#${ti}[${ei}]=${v}`,
    f: (_g, t) => {
      const x = t[ti % t.length];
      const a = new Float32Array(x.data.buffer.slice(x.data.byteOffset, x.data.byteOffset + x.data.byteLength));
      if (a.length) a[ei % a.length] = v;
      x.data = new Uint8Array(a.buffer);
    },
  })),
  fc.tuple(idx, fc.constantFrom(3e38, NaN, 1e30)).map(([ti, v]) => ({ what: `tensor#${ti} all ${v}`, f: (_g, t) => { const x = t[ti % t.length]; x.data = f32bytes(Array(x.data.length / 4).fill(v)); } })),
  fc.tuple(idx, fc.constantFrom([8, 1, 28, 28], [8, 1, 1, 1], [1, 1, 3, 3], [8, 1, 3, 3, 1], [8, 2, 3, 3], [10, 577], [0, 1, 3, 3], [16, 8, 100, 100], [10], []))
    .map(([ti, shape]) => ({ what: `tensor#${ti}.shape=${show(shape)} (data resized)`, f: (_g, t) => { const x = t[ti % t.length]; x.shape = shape; x.data = new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)); } })),
  fc.tuple(idx, fc.constantFrom('F64', 'F16', 'I32', 'U8', 'BOOL')).map(([ti, dtype]) => ({ what: `tensor#${ti}.dtype=${dtype} (data kept)`, f: (_g, t) => (t[ti % t.length].dtype = dtype) })),
);

export const graphCase = fc
  .record({
    model: modelKey,
    edits: few(fc.oneof({ weight: 5, arbitrary: targeted }, { weight: 2, arbitrary: generic }, { weight: 2, arbitrary: weightEdit }), 3),
  })
  .map((r) => ({
    what: [`base ${r.model}`, ...r.edits.map((e) => e.what)],
    layers: layersOf(r.model),
    build: () => {
      let { graph, tensors } = modelOf(r.model);
      for (const e of r.edits) {
        try {
          const g = e.f(graph, tensors);
          if (e.what.startsWith('path#') && g !== undefined) graph = g;
        } catch {
          /* an edit whose target an earlier edit removed */
        }
      }
      return modelBytes(jsonText(graph), tensors);
    },
  }));

// ------------------------------------------------------------------------------------------- synthetic valid models

/**
 * A valid model of any size: input [C, H, W] -> conv (k, stride, padding, dilation, groups) -> lif|if -> global
 * avgpool -> flatten -> linear(10) -> lif|li. Small files (weights few), possibly enormous work.
 */
export const synthModel = fc
  .record({
    C: fc.constantFrom(1, 1, 3),
    H: fc.constantFrom(1, 2, 5, 28, 64, 256, 1024, 4096),
    W: fc.constantFrom(1, 3, 28, 64, 512, 1024, 4096, 16384),
    cout: fc.constantFrom(1, 2, 8, 16, 64),
    k: fc.constantFrom(1, 2, 3, 7),
    stride: fc.constantFrom(1, 1, 2, 5),
    pad: fc.constantFrom(0, 0, 1, 3),
    dil: fc.constantFrom(1, 1, 2),
    neuron: fc.constantFrom('lif', 'if'),
    last: fc.constantFrom('lif', 'li'),
    T: fc.constantFrom(1, 2, 8, 20, 100, 1000, 100000, null),
    encoding: fc.constantFrom('poisson', 'direct', 'signed-poisson'),
    beta: fc.constantFrom(0.9, 1, 0, 1.5, -0.5, 3e38),
    threshold: fc.constantFrom(1, 0, -1, 1e-30, 3e38),
    resetDelay: fc.boolean(),
  })
  .map((m) => {
    const Ho = Math.floor((m.H + 2 * m.pad - m.dil * (m.k - 1) - 1) / m.stride) + 1;
    const Wo = Math.floor((m.W + 2 * m.pad - m.dil * (m.k - 1) - 1) / m.stride) + 1;
    const graph = {
      format: 'spikelens.model/1',
      name: 'synth',
      input: { shape: [m.C, m.H, m.W], preprocess: { scale: 1 / 255 }, encoding: { kind: m.encoding } },
      timesteps: m.T,
      layers: [
        { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', stride: [m.stride, m.stride], padding: [m.pad, m.pad], dilation: [m.dil, m.dil] },
        { name: 'lif1', op: m.neuron, ...(m.neuron === 'lif' ? { beta: m.beta } : {}), threshold: m.threshold, resetDelay: m.resetDelay },
        { name: 'pool1', op: 'avgpool2d', kernel: [Math.max(1, Ho), Math.max(1, Wo)] },
        { name: 'flat', op: 'flatten' },
        { name: 'fc', op: 'linear', weight: 'fc.weight' },
        m.last === 'lif' ? { name: 'out', op: 'lif', beta: 0.9 } : { name: 'out', op: 'li', beta: 1 },
      ],
    };
    const nW = m.cout * m.C * m.k * m.k;
    const tensors = [
      { name: 'conv1.weight', dtype: 'F32', shape: [m.cout, m.C, m.k, m.k], data: f32bytes(Array.from({ length: nW }, (_, i) => ((i * 7919) % 13) / 6 - 0.5)) },
      { name: 'fc.weight', dtype: 'F32', shape: [10, m.cout], data: f32bytes(Array.from({ length: 10 * m.cout }, (_, i) => ((i * 31) % 7) / 3 - 1)) },
    ];
    const macs = m.cout * Math.max(Ho, 0) * Math.max(Wo, 0) * m.C * m.k * m.k;
    return {
      what: [`synthetic [${m.C},${m.H},${m.W}] conv ${m.cout}x${m.k}x${m.k} s${m.stride} p${m.pad} d${m.dil} -> [${m.cout},${Ho},${Wo}], ${m.neuron}/${m.last}, T ${m.T}, ${m.encoding}, beta ${m.beta}, thr ${m.threshold}`],
      layers: { spiking: ['lif1', ...(m.last === 'lif' ? ['out'] : [])], maps: ['lif1'], input: [m.C, m.H, m.W] },
      T: m.T,
      macsPerStep: macs,
      build: () => modelBytes(graph, tensors),
    };
  });

