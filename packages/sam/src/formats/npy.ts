/**
 * NumPy `.npy` (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html), the interchange format for
 * activity (docs/semantics.md §1): versions 1.0, 2.0 and 3.0, little-endian, C-order, dtypes |u1 |i1 |b1 <i4 <f4 <f8 (<i4 for indices, such as the ranked pixels metrics write).
 */
import { InputError } from '../errors.js';
import { LIMITS, MAX_ELEMENTS, boundedProduct } from '../limits.js';
import { describe } from './json.js';
import { notA } from './sniff.js';

export type NpyDtype = 'u1' | 'i1' | 'b1' | 'i4' | 'f4' | 'f8';
export type NpyData = Uint8Array | Int8Array | Int32Array | Float32Array | Float64Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  /** `b1` is a Uint8Array of 0/1. A view into the given bytes when they are aligned, else a copy. */
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
const ITEM_SIZE: Record<NpyDtype, number> = { u1: 1, i1: 1, b1: 1, i4: 4, f4: 4, f8: 8 };
const DESCR: Record<NpyDtype, string> = { u1: '|u1', i1: '|i1', b1: '|b1', i4: '<i4', f4: '<f4', f8: '<f8' };
const SUPPORTED = Object.values(DESCR).join(' ');
/** NumPy's own default `max_header_size`: a real header is a few hundred bytes. */
const MAX_HEADER_BYTES = LIMITS.npyHeaderBytes;

/** Where an array's data lies in a `.npy` file, and what it is: everything but the data itself. */
export interface NpyHeader {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  /** Byte offset of the data in the file, and its length (elements times item size). */
  readonly dataOffset: number;
  readonly dataBytes: number;
}

/** Bytes of a file that always hold a whole `.npy` header (prefix, and the longest header accepted). */
export const NPY_HEADER_READ = 12 + LIMITS.npyHeaderBytes;

/**
 * Reads and checks a `.npy` header from the first bytes of a file (at least NPY_HEADER_READ of them, or the whole
 * file when it is shorter), against the file's full length: a file can then be read in pieces, however large.
 */
export function readNpyHeader(head: Uint8Array, fileLength: number, file: string): NpyHeader {
  const fail = (message: string): never => {
    throw new InputError(file, message);
  };
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) {
    fail(notA('a .npy file', head, 'a NumPy .npy array') ?? 'not a .npy file (bad magic, expected \\x93NUMPY)');
  }
  const major = head[6];
  const minor = head[7];
  if (major < 1 || major > 3 || minor !== 0) {
    fail(`.npy format version ${major}.${minor} is not supported (expected 1.0, 2.0 or 3.0)`);
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const prefix = major === 1 ? 10 : 12;
  if (head.length < prefix) fail(`file is ${head.length} bytes, too short for a .npy ${major}.0 header length`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) {
    fail(`.npy header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (headerLength > Math.min(head.length, fileLength) - prefix) {
    fail(`.npy header length ${headerLength} is larger than the ${fileLength - prefix} bytes that follow it`);
  }
  const raw = head.subarray(prefix, prefix + headerLength);
  let text: string;
  try {
    // Versions 1 and 2 are latin-1 (each byte one code point); 3 is UTF-8.
    text = major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(raw) : latin1(raw);
  } catch {
    return fail('.npy header is not valid UTF-8');
  }
  const header = parseHeader(text, fail);
  const dtype = dtypeOf(header.descr, fail);
  if (header.fortran_order) fail('.npy array is in Fortran order, expected C order (fortran_order: False)');
  const shape = header.shape;
  const dataOffset = prefix + headerLength;
  const dataLength = fileLength - dataOffset;
  // Bounded, so a shape of huge dimensions never becomes a rounded float.
  const size = boundedProduct(shape, MAX_ELEMENTS) * ITEM_SIZE[dtype];
  if (size !== dataLength) {
    const expected = Number.isFinite(size) ? `${size}` : 'more than the file holds';
    const tuple = shape.length <= 8 ? `(${shape.join(', ')})` : `of rank ${shape.length}`;
    fail(`.npy data is ${dataLength} bytes, expected ${expected} for shape ${tuple} of ${DESCR[dtype]}`);
  }
  return { dtype, shape, dataOffset, dataBytes: size };
}

export function readNpy(bytes: Uint8Array, file: string): NpyArray {
  const { dtype, shape, dataOffset } = readNpyHeader(bytes, bytes.length, file);
  return { dtype, shape, data: typedView(bytes.subarray(dataOffset), dtype) };
}

/** A typed array of `dtype` over raw little-endian bytes (copied when they are not aligned for it). */
export function npyData(bytes: Uint8Array, dtype: NpyDtype): NpyData {
  return typedView(bytes, dtype);
}

function latin1(raw: Uint8Array): string {
  let text = '';
  for (const b of raw) text += String.fromCharCode(b);
  return text;
}

function typedView(data: Uint8Array, dtype: NpyDtype): NpyData {
  switch (dtype) {
    case 'u1':
      return data;
    case 'b1':
      // Normalised, because NumPy only promises that a byte is nonzero for True.
      return data.map((b) => (b === 0 ? 0 : 1));
    case 'i1':
      return new Int8Array(data.buffer, data.byteOffset, data.length);
    case 'i4': {
      const a = aligned(data, 4);
      return new Int32Array(a.buffer, a.byteOffset, a.length / 4);
    }
    case 'f4': {
      const a = aligned(data, 4);
      return new Float32Array(a.buffer, a.byteOffset, a.length / 4);
    }
    case 'f8': {
      const a = aligned(data, 8);
      return new Float64Array(a.buffer, a.byteOffset, a.length / 8);
    }
  }
}

/**
 * The bytes themselves when a float view may start there, else a copy (`new Uint8Array(view)` starts a fresh
 * buffer; a Node Buffer's `slice()` would only be a view). Typed arrays read in platform order: the project assumes a little-endian host, as WebAssembly memory is.
 */
function aligned(data: Uint8Array, size: number): Uint8Array {
  return data.byteOffset % size === 0 ? data : new Uint8Array(data);
}

function dtypeOf(descr: string, fail: (m: string) => never): NpyDtype {
  // A single byte has no byte order, so any order mark is accepted there.
  const match = /^([<>|=]?)([uifb])([0-9]+)$/.exec(descr);
  const code = match ? `${match[2]}${match[3]}` : '';
  if (match && (code === 'u1' || code === 'i1' || code === 'b1')) return code;
  descr = descr.slice(0, 20);
  if (match && (code === 'f4' || code === 'f8' || code === 'i4')) {
    if (match[1] === '<') return code;
    if (match[1] === '>') fail(`.npy dtype '${descr}' is big-endian, expected little-endian '<${code}'`);
  }
  return fail(`.npy dtype '${descr}' is not supported (expected one of ${SUPPORTED})`);
}

interface Header {
  descr: string;
  fortran_order: boolean;
  shape: number[];
}

/**
 * The header is a Python dict literal, `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`. It is parsed
 * (not evaluated), accepting only what NumPy writes: string keys, a string, a bool and a tuple of integers.
 */
function parseHeader(text: string, fail: (m: string) => never): Header {
  let i = 0;
  const bad = (what: string): never => fail(`.npy header is not a valid dict: ${what} at character ${i}`);
  const skip = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const expect = (ch: string): void => {
    skip();
    if (text[i] !== ch) bad(`expected '${ch}'`);
    i++;
  };
  const string = (): string => {
    skip();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return bad('expected a string');
    const end = text.indexOf(quote, i + 1);
    if (end < 0) return bad('unterminated string');
    const value = text.slice(i + 1, end);
    if (value.includes('\\')) return bad('escapes are not supported');
    i = end + 1;
    return value;
  };
  const value = (): string | boolean | number[] => {
    skip();
    if (text.startsWith('True', i) || text.startsWith('False', i)) {
      const result = text[i] === 'T';
      i += result ? 4 : 5;
      return result;
    }
    if (text[i] !== '(') return string();
    i++;
    const dims: number[] = [];
    for (;;) {
      skip();
      if (text[i] === ')') break;
      const digits = /^[0-9]+/.exec(text.slice(i, i + 32))?.[0] ?? bad('expected a non-negative integer');
      if (dims.length === LIMITS.rank) fail(`.npy header shape has more than ${LIMITS.rank} dimensions`);
      dims.push(Number(digits));
      i += digits.length;
      skip();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') bad("expected ',' or ')'");
    }
    i++;
    return dims;
  };

  const fields: Record<string, unknown> = {};
  expect('{');
  for (;;) {
    skip();
    if (text[i] === '}') break;
    const key = string();
    if (Object.hasOwn(fields, key)) bad(`key '${key.slice(0, 40)}' repeated`);
    expect(':');
    fields[key] = value();
    skip();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad("expected ',' or '}'");
  }
  i++;
  skip();
  if (i !== text.length) bad('unexpected text after the dict');

  const keys = Object.keys(fields).sort().join(', ');
  if (keys !== 'descr, fortran_order, shape') {
    fail(`.npy header has keys ${keys.slice(0, 80)}, expected descr, fortran_order, shape`);
  }
  const { descr, fortran_order: fortran, shape } = fields;
  if (typeof descr !== 'string') fail(`.npy header descr is ${describe(descr)}, expected a dtype string`);
  if (typeof fortran !== 'boolean') fail(`.npy header fortran_order is ${describe(fortran)}, expected True or False`);
  if (!Array.isArray(shape) || !shape.every(Number.isSafeInteger)) {
    fail(`.npy header shape is ${describe(shape)}, expected a tuple of integers`);
  }
  return { descr: descr as string, fortran_order: fortran as boolean, shape: shape as number[] };
}

/** An array as a whole `.npy` file (format 1.0, see npyHeader). `b1` data is written as given: only 0 and 1. */
export function writeNpy(data: NpyData, shape: readonly number[], dtype: NpyDtype = dtypeOfArray(data)): Uint8Array {
  if (ITEM_SIZE[dtype] !== data.BYTES_PER_ELEMENT || (dtype === 'i1') !== data instanceof Int8Array || (dtype === 'i4') !== data instanceof Int32Array) {
    throw new Error(`writeNpy: a ${data.constructor.name} cannot be written as ${DESCR[dtype]}`);
  }
  const count = shape.reduce((n, d) => n * d, 1);
  if (count !== data.length) throw new Error(`writeNpy: shape [${shape.join(',')}] does not hold ${data.length} elements`);
  const header = npyHeader(dtype, shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/**
 * The bytes of a format 1.0 header for an array of `dtype` and `shape`, padded with spaces and a final newline so
 * that the data starts at a multiple of 64 bytes, as NumPy does. The data follows it (written whole, or streamed).
 */
export function npyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`npyHeader: [${shape.join(',')}] is not a shape`);
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${tuple}, }`;
  const prefix = 10;
  const headerLength = Math.ceil((prefix + dict.length + 1) / ALIGN) * ALIGN - prefix;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new Error(`npyHeader: a shape of rank ${shape.length} is too long for a header`);
  }
  const out = new Uint8Array(prefix + headerLength);
  out.set(MAGIC);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, headerLength, true);
  for (let k = 0; k < dict.length; k++) out[prefix + k] = dict.charCodeAt(k);
  out.fill(0x20, prefix + dict.length, prefix + headerLength - 1);
  out[prefix + headerLength - 1] = 0x0a;
  return out;
}

/** Bytes per element of each dtype. */
export function npyItemSize(dtype: NpyDtype): number {
  return ITEM_SIZE[dtype];
}

/** The dtype a typed array is written as. */
export function npyDtypeOf(data: NpyData): NpyDtype {
  return dtypeOfArray(data);
}

function dtypeOfArray(data: NpyData): NpyDtype {
  if (data instanceof Int8Array) return 'i1';
  if (data instanceof Int32Array) return 'i4';
  if (data instanceof Float32Array) return 'f4';
  if (data instanceof Float64Array) return 'f8';
  return 'u1';
}
