import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { modelToSafetensors } from '@spikelens/sam';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import type { Io } from '../src/io.js';

export interface CliResult {
  code: number;
  out: string[];
  err: string[];
}

/** Runs the CLI in-process, as the bin does, capturing its lines. */
export async function cli(argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (l) => void out.push(l),
    err: (l) => void err.push(l),
    warn: (l) => void err.push(l),
    stderr: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'spikelens-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const REPO = join(import.meta.dirname, '..', '..', '..');

/** The c01 conformance model, whole and in parts, for surgery on its container and graph. */
export const c01Bytes = (): Uint8Array => new Uint8Array(readFileSync(join(REPO, 'conformance', 'c01-lif-subtract', 'model.safetensors')));

/** c01's header and data, for surgery on the container. */
export function c01Parts(): { header: Record<string, any>; data: Uint8Array } {
  const b = c01Bytes();
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(b.subarray(8, 8 + n))), data: b.subarray(8 + n) };
}

export function container(header: object, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** A c01 model whose graph was edited by `change`. */
export function c01With(change: (graph: any, tensors: any[]) => void): Uint8Array {
  const { header, data } = c01Parts();
  const graph = JSON.parse(header.__metadata__.spikelens);
  const tensors = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, t]: [string, any]) => ({
      name,
      dtype: t.dtype,
      shape: t.shape,
      data: new Float32Array(data.slice(t.data_offsets[0], t.data_offsets[1]).buffer),
    }));
  change(graph, tensors);
  return modelToSafetensors(graph, tensors);
}

