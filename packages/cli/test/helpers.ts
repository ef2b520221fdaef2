import { mkdtempSync, rmSync } from 'node:fs';
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
