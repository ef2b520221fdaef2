/**
 * A NIR file (HDF5) read with h5wasm, the same code in Node and in browsers. h5wasm (4 MB) is imported only when a
 * NIR file is read or written. HDF5's own error printing is replaced by exceptions, so a malformed file gives one
 * message and nothing on stderr.
 *
 * Reading is lazy: the groups are walked once (links only, depth and object count bounded, link cycles refused),
 * and a dataset's values are read only when the importer asks for them, after its shape and type have been checked
 * against LIMITS.tensorBytes and the file's running total against LIMITS.nirBytes (docs/nir.md, "Limits"). A
 * 25 KB file can hold a compressed dataset of gigabytes: it costs nothing unless it is a field spikelens uses.
 */
import { InputError } from '../../errors.js';
import { LIMITS, boundedProduct, formatBytes } from '../../limits.js';

/** One dataset's values: numbers (float32 kept as stored, every other type as float64) or strings, with its shape. */
export type H5Value =
  | { readonly kind: 'number'; readonly dtype: string; readonly shape: number[]; readonly data: Float32Array | Float64Array }
  | { readonly kind: 'string'; readonly shape: number[]; readonly data: string[] };

/** What a dataset holds, from its header alone. */
export type H5Class = 'number' | 'string' | 'other';

/** A dataset not read yet: its shape and class come from its header; `read()` reads (and checks) the values. */
export interface H5Dataset {
  readonly kind: 'dataset';
  /** Its path in the file, for messages. */
  readonly path: string;
  readonly shape: readonly number[];
  readonly class: H5Class;
  /** Elements (the product of the shape), or Infinity when more than any dataset may hold. */
  readonly count: number;
  /** The values, read once; an InputError when they would take more than the limits allow. */
  read(): H5Value;
}

export interface H5Group {
  readonly kind: 'group';
  readonly path: string;
  readonly entries: ReadonlyMap<string, H5Group | H5Dataset>;
}

type H5 = typeof import('h5wasm');
type H5Module = Awaited<H5['ready']>;
type H5Group_ = InstanceType<H5['Group']>;
type H5Dataset_ = InstanceType<H5['Dataset']>;

interface Meta {
  type: number;
  size: number;
  signed?: boolean;
  vlen?: boolean;
  littleEndian?: boolean;
  shape: number[] | null;
  enum_type?: { type: number };
}

// HDF5 datatype classes (H5T_class_t).
const INTEGER = 0;
const FLOAT = 1;
const STRING = 3;
const ENUM = 8;

let loading: Promise<{ h5: H5; module: H5Module }> | null = null;

/** h5wasm, loaded once, with HDF5's errors turned into exceptions. */
export async function hdf5(): Promise<{ h5: H5; module: H5Module }> {
  loading ??= (async () => {
    const h5 = await import('h5wasm');
    const module = await h5.ready;
    (module as unknown as { activate_throwing_error_handler(): void }).activate_throwing_error_handler();
    return { h5, module };
  })();
  try {
    return await loading;
  } catch (err) {
    loading = null;
    throw err;
  }
}

let counter = 0;

/** HDF5's innermost complaint ("file signature not found"), from the error stack h5wasm throws. */
export function hdf5Reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').map((l) => l.trim());
  const frames = lines.filter((l) => /^#\d+:/.test(l));
  const last = frames[frames.length - 1];
  const m = last ? /\):\s*(.*)$/.exec(last) : null;
  return (m ? m[1] : lines.find((l) => l.length > 0) ?? 'unknown error').slice(0, 120);
}

/** A name from the file, short enough for a one-line message. */
export function clip(name: string, max = 40): string {
  const flat = name.replace(/[\u0000-\u001f\u007f]/g, '?');
  return flat.length <= max ? flat : `${flat.slice(0, max - 3)}...`;
}

/** An HDF5 path for a message: its start and its end (the field) when it is long. */
export function clipPath(path: string, max = 80): string {
  const flat = path.replace(/[\u0000-\u001f\u007f]/g, '?');
  if (flat.length <= max) return flat || '/';
  const half = Math.floor((max - 3) / 2);
  return `${flat.slice(0, half)}...${flat.slice(flat.length - half)}`;
}

/** A shape for a message, `[3,100000,100000]`, at most 60 characters. */
export function showShape(shape: readonly number[]): string {
  const text = `[${shape.join(',')}]`;
  return text.length <= 60 ? text : `[${shape.length} dimensions]`;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 files start with this signature at byte 0, 512, 1024, ... (a user block may come first). */
function hasSignature(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2)
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  return false;
}

/** One open file: its name for messages, and the bytes its datasets have taken so far. */
interface Context {
  readonly file: string;
  readonly fileBytes: number;
  used: number;
  open: boolean;
}

/**
 * Opens an HDF5 file, walks its groups and hands the root to `use`; the datasets can be read until `use` returns
 * (or its promise settles), then the file is closed.
 */
export async function readHdf5<T>(bytes: Uint8Array, file: string, use: (root: H5Group) => T | Promise<T>): Promise<T> {
  if (!hasSignature(bytes)) throw new InputError(file, 'not an HDF5 file (no HDF5 signature): a .nir file is HDF5');
  if (bytes.length > LIMITS.fileBytes)
    throw new InputError(file, `${formatBytes(bytes.length)}, more than the ${formatBytes(LIMITS.fileBytes)} a NIR file may take`);
  const { h5, module } = await hdf5();
  const path = `/spikelens-read-${++counter}.h5`;
  module.FS.writeFile(path, bytes);
  const ctx: Context = { file, fileBytes: bytes.length, used: 0, open: true };
  let f: InstanceType<H5['File']> | null = null;
  try {
    try {
      f = new h5.File(path, 'r');
    } catch (err) {
      throw new InputError(file, `malformed HDF5 (${hdf5Reason(err)})`);
    }
    return await use(walk(h5, f, ctx));
  } finally {
    ctx.open = false;
    try {
      f?.close();
    } catch {
      /* closing a file that failed to open */
    }
    module.FS.unlink(path);
  }
}

/**
 * The file's groups, depth first. A group reached again below itself (a hard or soft link to an ancestor) is a
 * cycle: refused by the object's address in the file, and in any case by LIMITS.hdf5Depth and LIMITS.hdf5Objects.
 */
function walk(h5: H5, root: H5Group_, ctx: Context): H5Group {
  const { file } = ctx;
  let objects = 0;
  /** The object's address in the file (an HDF5 object reference), or null if HDF5 cannot give one. */
  const identity = (g: H5Group_): string | null => {
    try {
      return Array.from(g.create_reference().ref_data).join(',');
    } catch {
      return null;
    }
  };
  const visit = (g: H5Group_, where: string, depth: number, ancestors: { id: string | null; path: string }[]): H5Group => {
    if (depth > LIMITS.hdf5Depth) throw new InputError(file, `HDF5 groups nest more than ${LIMITS.hdf5Depth} deep at "${clipPath(where)}"`);
    let keys: string[];
    try {
      keys = g.keys();
    } catch (err) {
      throw new InputError(file, `malformed HDF5 at "${clipPath(where)}" (${hdf5Reason(err)})`);
    }
    objects += keys.length;
    if (objects > LIMITS.hdf5Objects) throw new InputError(file, `more than ${LIMITS.hdf5Objects} HDF5 objects: not a NIR graph`);
    const entries = new Map<string, H5Group | H5Dataset>();
    for (const key of keys) {
      const at = `${where}/${key}`;
      let e: ReturnType<typeof g.get>;
      try {
        e = g.get(key);
      } catch (err) {
        throw new InputError(file, `malformed HDF5 at "${clipPath(at)}" (${hdf5Reason(err)})`);
      }
      if (e instanceof h5.Group) {
        const id = identity(e);
        const loop = id === null ? undefined : ancestors.find((a) => a.id === id);
        if (loop)
          throw new InputError(file, `HDF5 link cycle: "${clipPath(at, 60)}" is the group "${clipPath(loop.path, 60)}" that contains it`);
        entries.set(key, visit(e, at, depth + 1, [...ancestors, { id, path: at }]));
      } else if (e instanceof h5.Dataset) entries.set(key, lazyDataset(e, at, ctx));
      // broken or external links, named datatypes: not part of NIR, skipped
    }
    return { kind: 'group', path: where || '/', entries };
  };
  return visit(root, '', 0, [{ id: identity(root), path: '/' }]);
}

function lazyDataset(d: H5Dataset_, at: string, ctx: Context): H5Dataset {
  const { file } = ctx;
  let meta: Meta | null = null;
  let value: H5Value | null = null;
  const header = (): Meta => {
    if (meta) return meta;
    try {
      meta = d.metadata as unknown as Meta;
    } catch (err) {
      throw new InputError(file, `malformed HDF5 dataset "${clipPath(at)}" (${hdf5Reason(err)})`);
    }
    return meta;
  };
  const classOf = (m: Meta): H5Class =>
    m.type === STRING
      ? 'string'
      : (m.type === FLOAT && (m.size === 4 || m.size === 8)) ||
          ((m.type === INTEGER || (m.type === ENUM && m.enum_type?.type === INTEGER)) && [1, 2, 4, 8].includes(m.size))
        ? 'number'
        : 'other';
  const shapeOf = (m: Meta): number[] => {
    if (m.shape === null) throw new InputError(file, `dataset "${clipPath(at)}" has no dataspace (an empty HDF5 dataset)`);
    return m.shape;
  };
  return {
    kind: 'dataset',
    path: at,
    get shape() {
      return shapeOf(header());
    },
    get class() {
      return classOf(header());
    },
    get count() {
      const n = boundedProduct(shapeOf(header()), LIMITS.tensorBytes);
      return Number.isNaN(n) ? Infinity : n;
    },
    read(): H5Value {
      if (value) return value;
      if (!ctx.open) throw new Error(`dataset "${at}" read after its HDF5 file was closed`);
      const m = header();
      value = readValues(d, m, classOf(m), shapeOf(m), at, ctx);
      return value;
    },
  };
}

/** Fails unless `bytes` more fit in one dataset and in the file's total. */
function charge(ctx: Context, at: string, shape: readonly number[], bytes: number): void {
  const what = `dataset "${clipPath(at)}" ${showShape(shape)}`;
  if (!(bytes <= LIMITS.tensorBytes))
    throw new InputError(
      ctx.file,
      `${what} would take ${Number.isFinite(bytes) ? formatBytes(bytes) : 'more than any limit'} once read, more than the ${formatBytes(LIMITS.tensorBytes)} one dataset may take`,
    );
  if (ctx.used + bytes > LIMITS.nirBytes)
    throw new InputError(ctx.file, `${what} would bring the datasets read to more than the ${formatBytes(LIMITS.nirBytes)} one NIR file may take`);
  ctx.used += bytes;
}

function readValues(d: H5Dataset_, m: Meta, cls: H5Class, shape: number[], at: string, ctx: Context): H5Value {
  const { file } = ctx;
  if (cls === 'other') throw new InputError(file, `dataset "${clipPath(at)}" has a type NIR does not use (HDF5 class ${m.type}, ${m.size} bytes)`);
  const n = boundedProduct(shape, LIMITS.tensorBytes);
  const count = Number.isNaN(n) ? Infinity : n;
  const cannot = (err: unknown) => new InputError(file, `dataset "${clipPath(at)}" cannot be read (${hdf5Reason(err)})`);
  if (cls === 'string') {
    if (!m.vlen) {
      // Fixed-length strings: the header says how many bytes.
      charge(ctx, at, shape, count * Math.max(m.size, 1));
      if (count === 0) return { kind: 'string', shape, data: [] };
      let v: unknown;
      try {
        v = d.value;
      } catch (err) {
        throw cannot(err);
      }
      return { kind: 'string', shape, data: strings(v, at, file) };
    }
    return { kind: 'string', shape, data: variableStrings(d, shape, count, at, ctx) };
  }
  const float32 = m.type === FLOAT && m.size === 4;
  charge(ctx, at, shape, count * (float32 ? 4 : 8));
  if (count === 0) return { kind: 'number', dtype: dtypeOf(m), shape, data: float32 ? new Float32Array(0) : new Float64Array(0) };
  let v: unknown;
  try {
    v = d.value;
  } catch (err) {
    throw cannot(err);
  }
  return { kind: 'number', dtype: dtypeOf(m), shape, data: numbers(v, m, count, at, file) };
}

function dtypeOf(m: Meta): string {
  return `${m.type === FLOAT ? 'f' : m.signed === false ? 'u' : 'i'}${m.size}`;
}

function strings(v: unknown, at: string, file: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new InputError(file, `dataset "${clipPath(at)}" is a string dataset h5wasm could not decode`);
}

/**
 * Variable-length strings live in the file's heap and their lengths are not in the header: any one is at most the
 * file's size, so they are read in slices of at most LIMITS.tensorBytes / (file bytes) strings, the running total
 * checked after each.
 */
function variableStrings(d: H5Dataset_, shape: number[], count: number, at: string, ctx: Context): string[] {
  const { file } = ctx;
  if (!(count <= LIMITS.hdf5Strings))
    throw new InputError(file, `dataset "${clipPath(at)}" ${showShape(shape)} holds more than the ${LIMITS.hdf5Strings} strings one dataset may hold`);
  if (shape.length > 2) throw new InputError(file, `dataset "${clipPath(at)}" is a string array of ${shape.length} dimensions; NIR's are at most [E, 2]`);
  const cannot = (err: unknown) => new InputError(file, `dataset "${clipPath(at)}" cannot be read (${hdf5Reason(err)})`);
  const out: string[] = [];
  let bytes = 0;
  const take = (v: unknown) => {
    for (const s of strings(v, at, file)) {
      out.push(s);
      bytes += 16 + 2 * s.length;
    }
    if (bytes > LIMITS.tensorBytes || ctx.used + bytes > LIMITS.nirBytes) charge(ctx, at, shape, bytes);
  };
  const read = (f: () => unknown) => {
    let v: unknown;
    try {
      v = f();
    } catch (err) {
      throw cannot(err);
    }
    take(v);
  };
  if (count === 0) return out;
  if (shape.length === 0) read(() => d.value);
  else {
    const batch = Math.max(1, Math.min(4096, Math.floor(LIMITS.tensorBytes / Math.max(ctx.fileBytes, 1))));
    const rows = shape[0];
    const cols = shape.length === 2 ? shape[1] : 1;
    if (cols <= batch) {
      const step = Math.floor(batch / cols);
      for (let r = 0; r < rows; r += step) read(() => d.slice([[r, Math.min(rows, r + step)]]));
    } else {
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c += batch) read(() => d.slice([[r, r + 1], [c, Math.min(cols, c + batch)]]));
    }
  }
  if (out.length !== count) throw new InputError(file, `dataset "${clipPath(at)}" gave ${out.length} strings for its ${count} elements`);
  charge(ctx, at, shape, bytes);
  return out;
}

/** h5wasm's numbers (a typed array, or one number for a 0-d dataset) as float32 (float32 data) or float64. */
function numbers(v: unknown, m: Meta, count: number, at: string, file: string): Float32Array | Float64Array {
  const float = m.type === FLOAT;
  const size = m.size;
  let raw: Uint8Array;
  if (ArrayBuffer.isView(v)) raw = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
    // A 0-d dataset comes back as one value decoded in this machine's order: encode it back to its bytes.
    const buf = new ArrayBuffer(size);
    const view = new DataView(buf);
    const le = true;
    if (float) size === 4 ? view.setFloat32(0, Number(v), le) : view.setFloat64(0, Number(v), le);
    else if (size === 8) m.signed === false ? view.setBigUint64(0, BigInt(v), le) : view.setBigInt64(0, BigInt(v), le);
    else if (size === 4) m.signed === false ? view.setUint32(0, Number(v), le) : view.setInt32(0, Number(v), le);
    else if (size === 2) m.signed === false ? view.setUint16(0, Number(v), le) : view.setInt16(0, Number(v), le);
    else m.signed === false ? view.setUint8(0, Number(v)) : view.setInt8(0, Number(v));
    raw = new Uint8Array(buf);
  } else throw new InputError(file, `dataset "${clipPath(at)}" is a number dataset h5wasm could not decode`);
  if (raw.byteLength !== count * size) throw new InputError(file, `dataset "${clipPath(at)}" gave ${raw.byteLength} bytes for ${count} elements of ${size}`);
  const le = m.littleEndian !== false;
  if (float && size === 4 && le && v instanceof Float32Array) return v;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (float && size === 4) {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, le);
    return out;
  }
  const out = new Float64Array(count);
  const signed = m.signed !== false;
  const get: (i: number) => number = float
    ? (i) => view.getFloat64(8 * i, le)
    : size === 8
      ? signed
        ? (i) => Number(view.getBigInt64(8 * i, le))
        : (i) => Number(view.getBigUint64(8 * i, le))
      : size === 4
        ? signed
          ? (i) => view.getInt32(4 * i, le)
          : (i) => view.getUint32(4 * i, le)
        : size === 2
          ? signed
            ? (i) => view.getInt16(2 * i, le)
            : (i) => view.getUint16(2 * i, le)
          : signed
            ? (i) => view.getInt8(i)
            : (i) => view.getUint8(i);
  for (let i = 0; i < count; i++) out[i] = get(i);
  return out;
}
