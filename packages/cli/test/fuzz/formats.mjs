// Byte-level writers and readers for the formats the fuzzer crafts: safetensors containers, .npy arrays, PNG chunks
// and HDF5 (NIR) files. They check nothing, so they can write anything a hostile file might hold.
import { deflateSync } from 'node:zlib';

const enc = new TextEncoder();
const dec = new TextDecoder();

export const utf8 = (s) => enc.encode(s);

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const u64le = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
  return b;
};

// ---------------------------------------------------------------------------------------------------- safetensors

/** A safetensors file split into its JSON header (parsed) and its data bytes. */
export function splitSafetensors(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(dec.decode(bytes.subarray(8, 8 + n))), data: bytes.slice(8 + n) };
}

/** A container from header text (any string or bytes) and data; `length` overrides the u64 length field. */
export function safetensorsRaw(headerText, data, length) {
  const h = typeof headerText === 'string' ? utf8(headerText) : headerText;
  return concat(u64le(length ?? h.length), h, data);
}

export const safetensors = (header, data) => safetensorsRaw(JSON.stringify(header), data);

/** The tensors of a spikelens model as { name, dtype, shape, data: Uint8Array } in file order, and its graph. */
export function modelParts(bytes) {
  const { header, data } = splitSafetensors(bytes);
  const graph = JSON.parse(header.__metadata__.spikelens);
  const tensors = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: data.slice(t.data_offsets[0], t.data_offsets[1]) }));
  return { graph, tensors };
}

/** A model file from a graph (object, or raw JSON text) and tensors; offsets are packed in order. */
export function modelBytes(graph, tensors, extraMeta = {}) {
  const header = { __metadata__: { spikelens: typeof graph === 'string' ? graph : JSON.stringify(graph), ...extraMeta } };
  let at = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.length] };
    at += t.data.length;
  }
  return safetensors(header, concat(...tensors.map((t) => t.data)));
}

export const f32bytes = (values) => new Uint8Array(Float32Array.from(values).buffer);

// ------------------------------------------------------------------------------------------------------------ npy

/**
 * A .npy file with the header dict text `dict` as given (padded with spaces and a newline to 64 bytes unless `raw`),
 * format version `[major, minor]` and data bytes. `headerLength` overrides the length field.
 */
export function npyRaw(dict, data, { version = [1, 0], raw = false, headerLength, magic } = {}) {
  const [major, minor] = version;
  const prefix = major >= 2 && major !== 0 ? 12 : 10;
  let text = utf8(dict);
  if (!raw) {
    const total = prefix + text.length + 1;
    const pad = (64 - (total % 64)) % 64;
    text = concat(text, utf8(' '.repeat(pad) + '\n'));
  }
  const head = new Uint8Array(prefix);
  head.set(magic ?? [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  head[6] = major;
  head[7] = minor;
  const view = new DataView(head.buffer);
  const len = headerLength ?? text.length;
  if (prefix === 10) view.setUint16(8, len & 0xffff, true);
  else view.setUint32(8, len >>> 0, true);
  return concat(head, text, data);
}

export const npyDict = (descr, shape, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;

const TYPED = { '<f4': Float32Array, '<f8': Float64Array, '|u1': Uint8Array, '|i1': Int8Array, '|b1': Uint8Array };

/** A well-formed .npy of `descr` and `shape` whose element i is `fill(i)`. */
export function npy(descr, shape, fill = () => 0, opts = {}) {
  const n = shape.reduce((a, b) => a * b, 1);
  const Arr = TYPED[descr];
  const a = new Arr(n);
  for (let i = 0; i < n; i++) a[i] = fill(i);
  return npyRaw(npyDict(descr, shape), new Uint8Array(a.buffer), opts);
}

// ------------------------------------------------------------------------------------------------------------ PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** The chunks of a PNG as { type, data }; stops at the end or at anything that does not parse. */
export function pngChunks(bytes) {
  const chunks = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 12 <= bytes.length) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (at + 12 + len > bytes.length) break;
    chunks.push({ type, data: bytes.slice(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return chunks;
}

/** One chunk; `crc` false writes a wrong CRC, `length` overrides the length field. */
export function pngChunk(type, data, { crc = true, length } = {}) {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, length ?? data.length);
  out.set(utf8(type).subarray(0, 4), 4);
  out.set(data, 8);
  const c = crc32(out.subarray(4, 8 + data.length));
  view.setUint32(8 + data.length, crc ? c : (c ^ 0xdeadbeef) >>> 0);
  return out;
}

export const pngFromChunks = (chunks) => concat(PNG_SIGNATURE, ...chunks.map((c) => pngChunk(c.type, c.data, c)));

export function ihdr({ width, height, depth = 8, colorType = 0, compression = 0, filter = 0, interlace = 0 }) {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width >>> 0);
  v.setUint32(4, height >>> 0);
  d.set([depth, colorType, compression, filter, interlace], 8);
  return d;
}

const SAMPLES = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * A well-formed PNG (non-interlaced) of the given size and format; `pixel(x, y)` gives the first sample of each
 * pixel (the others copy it), so a big image of one colour compresses to almost nothing.
 */
export function pngImage({ width, height, depth = 8, colorType = 0, pixel = () => 0, palette = 16 }) {
  const samples = SAMPLES[colorType] ?? 1;
  const rowBytes = Math.ceil((width * samples * depth) / 8);
  const raw = new Uint8Array(height * (rowBytes + 1));
  const constant = pixel.length === 0;
  for (let y = 0; y < height; y++) {
    const row = y * (rowBytes + 1) + 1;
    if (constant && pixel() === 0) continue;
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y) & ((1 << Math.min(depth, 8)) - 1);
      if (depth === 8) for (let s = 0; s < samples; s++) raw[row + x * samples + s] = v;
      else if (depth === 16) for (let s = 0; s < samples; s++) raw[row + 2 * (x * samples + s)] = v;
      else {
        const bit = x * depth;
        raw[row + (bit >> 3)] |= v << (8 - depth - (bit & 7));
      }
    }
  }
  const chunks = [{ type: 'IHDR', data: ihdr({ width, height, depth, colorType }) }];
  if (colorType === 3) chunks.push({ type: 'PLTE', data: Uint8Array.from({ length: 3 * palette }, (_, i) => (i * 37) & 255) });
  chunks.push({ type: 'IDAT', data: deflateSync(raw, { level: 9 }) }, { type: 'IEND', data: new Uint8Array(0) });
  return pngFromChunks(chunks);
}

// -------------------------------------------------------------------------------------------------- HDF5 (NIR)

let h5load = null;
let fileCounter = 0;

async function h5() {
  h5load ??= (async () => {
    const h5 = await import('h5wasm/node');
    const module = await h5.ready;
    return { h5, module };
  })();
  return h5load;
}

/**
 * A NIR file from a graph spec: `{ nodes: { name: node }, edges: [[a, b], ...] }`, each node `{ type, field: value }`
 * where a value is a number (float32 0-d), a number[] (float32 1-d), a string or string[], `{ f32 | f64 | i64 | i32 |
 * u8: numbers, shape }`, `{ huge: shape, dtype }` (a chunked dataset of that shape whose data is never written: the
 * fill value, a few bytes on disk), a nested graph (type NIRGraph), or `{ hardlink: path }` / `{ softlink: path }`.
 * Edges may be `{ raw: value }` for a malformed edges dataset. Also `metadata: { key: value }` per node.
 */
export async function nirFile(graph, { version = '0.5.0', gzip = false, userBlock = false } = {}) {
  const { h5: lib, module } = await h5();
  const path = `/fuzz-${process.pid}-${++fileCounter}.nir`;
  const f = new lib.File(path, 'w');
  try {
    const put = (g, name, v) => {
      if (v && typeof v === 'object' && 'hardlink' in v) return void g.create_hard_link(v.hardlink, name);
      if (v && typeof v === 'object' && 'softlink' in v) return void g.create_soft_link(v.softlink, name);
      if (v && typeof v === 'object' && 'group' in v) {
        const sub = g.create_group(name);
        for (const [k, x] of Object.entries(v.group)) put(sub, k, x);
        return;
      }
      if (typeof v === 'string' || (Array.isArray(v) && typeof v[0] === 'string')) return void g.create_dataset({ name, data: v });
      if (v && typeof v === 'object' && 'huge' in v) {
        const shape = v.huge;
        const one = shape.map(() => 1);
        const dtype = v.dtype ?? '<f';
        const data = dtype === '<q' ? new BigInt64Array(1) : dtype === '<d' ? new Float64Array(1) : new Float32Array(1);
        const d = g.create_dataset({ name, data, shape: one, dtype, maxshape: shape.map(() => null), chunks: shape.map((s) => Math.max(1, Math.min(s, 64))), ...(v.gzip ? { compression: 'gzip', compression_opts: 4 } : {}) });
        d.resize(shape);
        return;
      }
      let data;
      let shape;
      let dtype;
      if (typeof v === 'number') [data, shape, dtype] = [Float32Array.of(v), [], '<f'];
      else if (typeof v === 'boolean') [data, shape, dtype] = [Uint8Array.of(v ? 1 : 0), [], '<B'];
      else if (Array.isArray(v)) [data, shape, dtype] = [Float32Array.from(v), [v.length], '<f'];
      else if ('f32' in v) [data, shape, dtype] = [Float32Array.from(v.f32), v.shape, '<f'];
      else if ('f64' in v) [data, shape, dtype] = [Float64Array.from(v.f64), v.shape, '<d'];
      else if ('i32' in v) [data, shape, dtype] = [Int32Array.from(v.i32), v.shape, '<i'];
      else if ('u8' in v) [data, shape, dtype] = [Uint8Array.from(v.u8), v.shape, '<B'];
      else [data, shape, dtype] = [BigInt64Array.from(v.i64, (x) => BigInt(x)), v.shape, '<q'];
      const count = shape.reduce((a, b) => a * b, 1);
      const gz = gzip && shape.length > 0 && count > 0;
      g.create_dataset({ name, data, shape, dtype, ...(gz ? { chunks: shape, compression: 'gzip', compression_opts: 4 } : {}) });
    };
    const writeGraph = (g, spec) => {
      if (spec.type !== undefined) put(g, 'type', spec.type);
      if (spec.edges !== undefined) {
        if (spec.edges && typeof spec.edges === 'object' && 'raw' in spec.edges) put(g, 'edges', spec.edges.raw);
        else if (spec.edges.length) g.create_dataset({ name: 'edges', data: spec.edges.flat(), shape: [spec.edges.length, 2] });
        else put(g, 'edges', { i64: [], shape: [0, 2] });
      }
      const nodes = g.create_group('nodes');
      for (const [name, node] of Object.entries(spec.nodes ?? {})) {
        if (node && typeof node === 'object' && ('hardlink' in node || 'softlink' in node)) {
          put(nodes, name, node);
          continue;
        }
        const ng = nodes.create_group(name);
        if (node.type === 'NIRGraph' && node.nodes) {
          writeGraph(ng, node);
          continue;
        }
        for (const [k, v] of Object.entries(node)) {
          if (v === undefined) continue;
          if (k === 'metadata') {
            const m = ng.create_group('metadata');
            for (const [mk, mv] of Object.entries(v)) put(m, mk, mv);
          } else put(ng, k, v);
        }
      }
      for (const [k, v] of Object.entries(spec.extra ?? {})) put(g, k, v);
    };
    if (version !== null) put(f, 'version', version);
    writeGraph(f.create_group('node'), graph);
    f.close();
    const bytes = new Uint8Array(module.FS.readFile(path));
    if (!userBlock) return bytes;
    return concat(new Uint8Array(512), bytes);
  } catch (err) {
    try {
      f.close();
    } catch {
      /* closed */
    }
    throw err;
  } finally {
    try {
      module.FS.unlink(path);
    } catch {
      /* not written */
    }
  }
}
