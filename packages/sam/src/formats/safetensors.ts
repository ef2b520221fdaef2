/**
 * The safetensors container (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header, then the raw little-endian tensor bytes. Reading validates the whole header before anything is used,
 * and never allocates from a size it has not checked against the file (docs/model-format.md).
 */
import { InputError } from '../errors.js';
import { LIMITS, MAX_ELEMENTS, boundedProduct } from '../limits.js';
import { clip, describe, isObject, parseJson } from './json.js';
import { notA } from './sniff.js';

/** Item size in bytes of every dtype the reference implementation knows. */
const ITEM_SIZE = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type SafetensorsDtype = keyof typeof ITEM_SIZE;

export interface SafetensorsTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** The tensor's raw little-endian bytes: a view into the file's bytes, not a copy (and maybe unaligned). */
  readonly data: Uint8Array;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Record<string, string> | null;
}

export interface SafetensorsInput {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Any typed array (or raw bytes) of the tensor's byte size; written in platform (little-endian) order. */
  readonly data: ArrayBufferView;
}

/** The reference implementation's limit; a larger header is refused before it is read. */
export const MAX_HEADER_BYTES = LIMITS.headerBytes;

const METADATA_KEY = '__metadata__';

export function readSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (message: string): never => {
    throw new InputError(file, message);
  };
  const other = notA('a safetensors model', bytes, 'a safetensors file');
  if (other) fail(other);
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, shorter than the 8-byte safetensors header length`);
  }
  // A u64 read as BigInt so that a length beyond 2^53 is compared exactly, not rounded.
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  const available = bytes.length - 8;
  if (headerLength > BigInt(available)) {
    fail(`safetensors header length ${headerLength} is larger than the ${available} bytes that follow it`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`safetensors header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const dataStart = 8 + Number(headerLength);
  const header = parseHeaderJson(bytes.subarray(8, dataStart), file, fail);
  const data = bytes.subarray(dataStart);

  let metadata: Record<string, string> | null = null;
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(entry, fail);
      continue;
    }
    const { dtype, shape, begin, end } = readEntry(name, entry, data.length, fail);
    tensors.set(name, { dtype, shape, data: data.subarray(begin, end) });
    if (end > begin) spans.push({ name, begin, end });
  }
  spans.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1];
    const cur = spans[i];
    if (cur.begin < prev.end) {
      fail(
        `tensor "${clip(cur.name)}" field "data_offsets": bytes [${cur.begin},${cur.end}] overlap tensor "${clip(prev.name)}" ` +
          `[${prev.begin},${prev.end}]`,
      );
    }
  }
  return { tensors, metadata };
}

function parseHeaderJson(raw: Uint8Array, file: string, fail: (m: string) => never): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return fail('safetensors header is not valid UTF-8');
  }
  const header = parseJson(text, file, 'safetensors header');
  if (!isObject(header)) return fail(`safetensors header is ${describe(header)}, expected a JSON object`);
  return header;
}

function readMetadata(entry: unknown, fail: (m: string) => never): Record<string, string> | null {
  if (entry === null) return null;
  if (typeof entry !== 'object' || Array.isArray(entry)) {
    return fail(`"${METADATA_KEY}" is ${describe(entry)}, expected an object of strings`);
  }
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') fail(`"${METADATA_KEY}" key "${clip(key)}" is ${describe(value)}, expected a string`);
  }
  // fromEntries defines own properties, so even a key "__proto__" stays a plain entry.
  return Object.fromEntries(Object.entries(entry)) as Record<string, string>;
}

function readEntry(
  name: string,
  entry: unknown,
  dataLength: number,
  fail: (m: string) => never,
): { dtype: SafetensorsDtype; shape: number[]; begin: number; end: number } {
  const at = `tensor "${clip(name)}"`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    return fail(`${at} is ${describe(entry)}, expected an object with dtype, shape and data_offsets`);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !Object.hasOwn(ITEM_SIZE, dtype)) {
    return fail(`${at} field "dtype": ${describe(dtype)} is not a known dtype (${Object.keys(ITEM_SIZE).join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    return fail(`${at} field "shape": ${describe(shape)} is not a list of non-negative integers`);
  }
  if (shape.length > LIMITS.rank) return fail(`${at} field "shape" has ${shape.length} dimensions, more than ${LIMITS.rank}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail(`${at} field "data_offsets": ${describe(offsets)} is not a pair [begin, end] of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) return fail(`${at} field "data_offsets": [${begin},${end}] ends before it begins`);
  if (end > dataLength) {
    return fail(`${at} field "data_offsets": [${begin},${end}] runs past the end of the ${dataLength} data bytes`);
  }
  const itemSize = ITEM_SIZE[dtype as SafetensorsDtype];
  // Bounded, so a shape like [2000000000, 2000000000] never becomes a rounded float.
  const expected = boundedProduct(shape as number[], MAX_ELEMENTS) * itemSize;
  if (end - begin !== expected) {
    return fail(
      `${at} field "data_offsets": [${begin},${end}] spans ${end - begin} bytes, expected ` +
        `${Number.isFinite(expected) ? expected : 'more than the file holds'} for shape ${describe(shape)} of ${dtype}`,
    );
  }
  return { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Writes tensors in the given order after a header padded with spaces to a multiple of 8 bytes, as the reference
 * implementation does, so the data (and every F32 tensor in it) starts 8-byte aligned.
 */
export function writeSafetensors(tensors: readonly SafetensorsInput[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY || Object.hasOwn(header, t.name)) {
      throw new Error(`writeSafetensors: tensor name "${t.name}" is reserved or used twice`);
    }
    const size = t.shape.reduce((n, d) => n * d, 1) * ITEM_SIZE[t.dtype];
    if (t.data.byteLength !== size) {
      throw new Error(
        `writeSafetensors: tensor "${t.name}" has ${t.data.byteLength} bytes, expected ${size} for shape ` +
          `[${t.shape.join(',')}] of ${t.dtype}`,
      );
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
