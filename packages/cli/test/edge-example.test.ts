import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';

/**
 * examples/edge/run.mjs (issue 16), run as a user runs it: it names the digit of samples/mnist/digit-7-0.png from the
 * WASI command's output, draws the SAM, and the harness's hash under Node (and wasm-interp, when installed) is the
 * hash of the files the WASI command wrote.
 */
const interp = spawnSync('wasm-interp', ['--version']).status === 0;

describe('examples/edge', () => {
  const temps: Array<() => void> = [];
  afterAll(() => temps.forEach((c) => c()));

  it('predicts digit 7 under node:wasi, and the hashes match', async () => {
    const { dir, cleanup } = tempDir();
    temps.push(cleanup);
    const r = await new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile(process.execPath, [join(REPO, 'examples', 'edge', 'run.mjs'), '--out', join(dir, 'edge')], (e, out, err) =>
        resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
      ),
    );
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/^prediction: 7$/m);
    expect(r.out).toMatch(/lif2 SAM, step 7 of 8 \(14x14/);
    const hash = (re: RegExp): string | undefined => re.exec(r.out)?.[1];
    const files = hash(/files \(JS\): ([0-9a-f]{16})$/m);
    expect(files).toBeDefined();
    expect(hash(/under Node: +([0-9a-f]{16})$/m)).toBe(files);
    if (interp) {
      expect(hash(/under wasm-interp: ([0-9a-f]{16}) /m)).toBe(files);
      expect(r.out).toMatch(/^hashes match: yes$/m);
    } else {
      console.log('wasm-interp not found: apt-get install wabt; .ci/run installs it (the Node hash alone was checked)');
      expect(r.out).toMatch(/^hashes match: yes \(without wasm-interp\)$/m);
    }
  });
});
