import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { InputError } from '../../src/errors.js';

/** The repository's copy of the shared conformance cases (conformance/README.md). */
export const CONFORMANCE = fileURLToPath(new URL('../../../../conformance/', import.meta.url));

export function conformanceFile(path: string): Uint8Array {
  return new Uint8Array(readFileSync(`${CONFORMANCE}${path}`));
}

/** The InputError `fn` throws; fails the test if it throws nothing or anything else. */
export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  expect.fail('expected an InputError, but nothing was thrown');
}

/** A safetensors container with any header text and data, for crafting broken files. */
export function container(header: string | object, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The same bytes starting `offset` bytes into a larger buffer, so that typed views onto them are misaligned. */
export function atOffset(bytes: Uint8Array, offset: number): Uint8Array {
  const buffer = new Uint8Array(bytes.length + offset);
  buffer.set(bytes, offset);
  return buffer.subarray(offset);
}
