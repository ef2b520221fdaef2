/**
 * A NIR file (HDF5) read into plain objects with h5wasm, the same code in Node and in browsers. h5wasm (4 MB) is
 * imported only when a NIR file is read or written. HDF5's own error printing is replaced by exceptions, so a
 * malformed file gives one message and nothing on stderr.
 */
import { InputError } from '../../errors.js';

/** One dataset: numbers (float32 kept as stored, every other type as float64) or strings, with its shape. */
export type H5Value =
  | { readonly kind: 'number'; readonly dtype: string; readonly shape: number[]; readonly data: Float32Array | Float64Array }
  | { readonly kind: 'string'; readonly shape: number[]; readonly data: string[] };

export interface H5Group {
  readonly kind: 'group';
  readonly entries: Map<string, H5Group | H5Value>;
}

/** Refuse datasets above this many elements (1 GiB of float32) before reading them. */
export const MAX_DATASET_ELEMENTS = 2 ** 28;
/** Refuse files with more objects than this (a NIR graph has tens). */
export const MAX_OBJECTS = 100_000;

type H5 = typeof import('h5wasm');
type H5Module = Awaited<H5['ready']>;

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
  return (m ? m[1] : lines.find((l) => l.length > 0) ?? 'unknown error').slice(0, 200);
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 files start with this signature at byte 0, 512, 1024, ... (a user block may come first). */
function hasSignature(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2)
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  return false;
}

/** Reads a whole HDF5 file into memory as groups and datasets. */
export async function readHdf5(bytes: Uint8Array, file: string): Promise<H5Group> {
  if (!hasSignature(bytes)) throw new InputError(file, 'not an HDF5 file (no HDF5 signature): a .nir file is HDF5');
  const { h5, module } = await hdf5();
  const path = `/spikelens-read-${++counter}.h5`;
  module.FS.writeFile(path, bytes);
  let f: InstanceType<H5['File']> | null = null;
  try {
    try {
      f = new h5.File(path, 'r');
    } catch (err) {
      throw new InputError(file, `malformed HDF5 (${hdf5Reason(err)})`);
    }
    let objects = 0;
    const walk = (g: InstanceType<H5['Group']>, where: string): H5Group => {
      const entries = new Map<string, H5Group | H5Value>();
      let keys: string[];
      try {
        keys = g.keys();
      } catch (err) {
        throw new InputError(file, `malformed HDF5 at "${where || '/'}" (${hdf5Reason(err)})`);
      }
      for (const key of keys) {
        if (++objects > MAX_OBJECTS) throw new InputError(file, `more than ${MAX_OBJECTS} HDF5 objects: not a NIR graph`);
        const at = `${where}/${key}`;
        let e: ReturnType<typeof g.get>;
        try {
          e = g.get(key);
        } catch (err) {
          throw new InputError(file, `malformed HDF5 at "${at}" (${hdf5Reason(err)})`);
        }
        if (e instanceof h5.Group) entries.set(key, walk(e, at));
        else if (e instanceof h5.Dataset) entries.set(key, dataset(e, at, file));
        // links, datatypes and references are not part of NIR: skipped
      }
      return { kind: 'group', entries };
    };
    return walk(f, '');
  } finally {
    try {
      f?.close();
    } catch {
      /* closing a file that failed to open */
    }
    module.FS.unlink(path);
  }
}

function dataset(d: InstanceType<H5['Dataset']>, at: string, file: string): H5Value {
  let shape: number[];
  let meta: { type: number; size: number; signed?: boolean };
  try {
    shape = d.shape ?? [];
    meta = d.metadata as unknown as { type: number; size: number; signed?: boolean };
  } catch (err) {
    throw new InputError(file, `malformed HDF5 dataset "${at}" (${hdf5Reason(err)})`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > MAX_DATASET_ELEMENTS) throw new InputError(file, `dataset "${at}" has ${count} elements, more than the ${MAX_DATASET_ELEMENTS} accepted`);
  let value: unknown;
  try {
    value = d.value;
  } catch (err) {
    throw new InputError(file, `dataset "${at}" cannot be read (${hdf5Reason(err)})`);
  }
  const strings = (v: unknown): string[] | null => {
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    return null;
  };
  const s = strings(value);
  if (s) return { kind: 'string', shape, data: s };
  if (value instanceof Float32Array) return { kind: 'number', dtype: 'f4', shape, data: value.slice() };
  const dtype = `${meta.type === 1 ? 'f' : meta.signed === false ? 'u' : 'i'}${meta.size}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return { kind: 'number', dtype, shape, data: Float64Array.of(Number(value)) };
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const src = value as unknown as ArrayLike<number | bigint>;
    const out = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
    return { kind: 'number', dtype, shape, data: out };
  }
  throw new InputError(file, `dataset "${at}" has a type NIR does not use (HDF5 class ${meta.type})`);
}
