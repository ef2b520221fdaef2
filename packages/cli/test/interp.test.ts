import { hashOutputs, imageToPixels, readPlanHeader } from '@spikelens/sam';
import { decodePng } from '@spikelens/sam/node';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildHarness, harnessInput, HARNESS_WASM, runInInterp, runInNode, showHash } from '../../core-wasm/scripts/harness.mjs';
import { cli, REPO, tempDir } from './helpers.js';
import { CASE_DIRS, npy, prepareCase } from './plan-cases.js';

/**
 * The plans under an interpreter (issue 16): build/harness.wasm with a plan and its input as a data segment, run by
 * wabt's wasm-interp (no JIT, no host functions, no WASI), returns the FNV-1a 64 hash of the scores and every output
 * window; it must be the hash of `spikelens run`'s arrays computed here in JS (hashOutputs), in the header's order.
 */
const interp = spawnSync('wasm-interp', ['--version']).status === 0;
const harness = existsSync(HARNESS_WASM);
if (!interp) console.log('wasm-interp not found: apt-get install wabt; .ci/run installs it');
if (!harness) console.log(`${HARNESS_WASM} not built: pnpm build`);

/** The arrays of `spikelens run`'s files in `dir` that the plan's header names, in its order, hashed. */
function runHash(plan: Uint8Array, dir: string): bigint {
  const h = readPlanHeader(plan);
  const files = ['output.npy', ...h.outputs.map((o) => o.file)];
  return hashOutputs(files.map((f) => npy(join(dir, f)).data as ArrayLike<number>));
}

describe.skipIf(!interp || !harness)('plans under wasm-interp', () => {
  const temps: Array<() => void> = [];
  afterAll(() => temps.forEach((c) => c()));

  for (const dir of CASE_DIRS) {
    it(`hashes ${dir.split('/').pop()} as spikelens run's arrays hash in JS`, async () => {
      const { dir: out, cleanup } = tempDir();
      temps.push(cleanup);
      const c = await prepareCase(dir, out);
      const plan = new Uint8Array(readFileSync(c.plan));
      const x = npy(c.input);
      const wasm = buildHarness(plan, harnessInput(plan, x.data as Float32Array | Uint8Array | Int8Array, c.train), c.seed);
      const file = join(out, 'harness.wasm');
      writeFileSync(file, wasm);
      const want = runHash(plan, c.runDir);
      const r = await runInInterp(file);
      console.log(`interp ${c.name}: ${showHash(r.hash)} in ${r.ms.toFixed(0)} ms`);
      expect(showHash(r.hash), `${c.name}: wasm-interp`).toBe(showHash(want));
      expect(showHash(runInNode(wasm)), `${c.name}: V8`).toBe(showHash(want));
    });
  }

  it('would notice a difference: a flipped input byte, a changed output, a malformed plan', async () => {
    const { dir: out, cleanup } = tempDir();
    temps.push(cleanup);
    const model = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
    const planFile = join(out, 'm.slplan');
    let r = await cli(['compile', model, '-o', planFile, '--batch', '1', '--record', 'lif2', '--sam', 'lif2']);
    expect(r.code, r.err.join('\n')).toBe(0);
    const png = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
    r = await cli(['run', model, '--input', png, '--out', join(out, 'run'), '--record', 'lif2', '--sam', 'lif2', '--quiet']);
    expect(r.code, r.err.join('\n')).toBe(0);
    const plan = new Uint8Array(readFileSync(planFile));
    const image = decodePng(new Uint8Array(readFileSync(png)), png);
    const pixels = imageToPixels(image.rgba, image.width, image.height, 1, 28, 28);
    const want = runHash(plan, join(out, 'run'));

    const file = join(out, 'mnist.wasm');
    const wasm = buildHarness(plan, pixels, 0);
    writeFileSync(file, wasm);
    const good = await runInInterp(file);
    expect(showHash(good.hash)).toBe(showHash(want));

    // the hash covers the outputs: one output value changed changes it
    const sam = npy(join(out, 'run', 'lif2.sam.npy')).data as Float32Array;
    const last = sam.length - 1;
    const changed = Float32Array.from(sam);
    changed[last] += 1;
    const arrays = ['output.npy', 'lif2.spikes.npy'].map((f) => npy(join(out, 'run', f)).data as ArrayLike<number>);
    expect(hashOutputs([...arrays, changed])).not.toBe(want);

    // and depends on the input: the brightest pixel's top byte flipped (the float's sign) gives another hash
    const flipped = Float32Array.from(pixels);
    const bright = flipped.indexOf(Math.max(...flipped));
    new Uint8Array(flipped.buffer)[bright * 4 + 3] ^= 0x80;
    const fileF = join(out, 'flipped.wasm');
    writeFileSync(fileF, buildHarness(plan, flipped, 0));
    const other = await runInInterp(fileF);
    expect(other.hash).toBeGreaterThan(0n);
    expect(showHash(other.hash)).not.toBe(showHash(good.hash));

    // a malformed plan is an error code, not a hash: a wrong magic is the loader's error 11, too short its 10
    const bad = Uint8Array.from(plan);
    bad[0] ^= 1;
    const fileB = join(out, 'bad.wasm');
    writeFileSync(fileB, buildHarness(bad, pixels, 0));
    const badRun = await runInInterp(fileB);
    expect(badRun.hash).toBe(-11n);
    writeFileSync(fileB, buildHarness(plan.subarray(0, plan.length - 4), pixels, 0));
    expect((await runInInterp(fileB)).hash).toBe(-10n);

    // time per MNIST step (printed, not asserted): the interpreter's wall time less its time for a plan refused at
    // once (process start, parsing and validating the module), against V8 running the same module here
    const steps = readPlanHeader(plan).timesteps;
    const interpMs = Math.max(0, good.ms - badRun.ms) / steps;
    const module = new WebAssembly.Module(wasm);
    runInNode(module);
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      runInNode(module);
      best = Math.min(best, performance.now() - t0);
    }
    console.log(
      `MNIST (mnist-lif-bptt, batch 1, ${steps} steps, SAM lif2): wasm-interp ${interpMs.toFixed(1)} ms/step ` +
        `(${good.ms.toFixed(0)} ms a run, ${badRun.ms.toFixed(0)} ms of it start-up), Node (V8) ${(best / steps).toFixed(2)} ms/step; ` +
        `module ${wasm.length} bytes, harness.wasm ${readFileSync(HARNESS_WASM).length} bytes`,
    );
  });
});
