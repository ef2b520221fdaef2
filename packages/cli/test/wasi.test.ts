import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, tempDir } from './helpers.js';
import { CASE_DIRS, bitDiff, npy, prepareCase } from './plan-cases.js';

/**
 * The WASI command (issue 16): packages/core-wasm/build/spikelens.wasi.wasm PLAN INPUT.npy OUTDIR [--seed S], run by
 * Node's node:wasi, writes the files of `spikelens run` bit for bit, and says what is wrong with bad input in one
 * line with the CLI's exit codes.
 */
const WASM = join(REPO, 'packages', 'core-wasm', 'build', 'spikelens.wasi.wasm');
const module = existsSync(WASM) ? new WebAssembly.Module(readFileSync(WASM)) : null;

export async function runWasi(args: string[], dir: string): Promise<{ code: number; err: string[] }> {
  const errFile = join(dir, `stderr-${Math.random().toString(36).slice(2)}.txt`);
  const fd = openSync(errFile, 'w');
  const wasi = new WASI({ version: 'preview1', args: ['spikelens.wasi.wasm', ...args], preopens: { '/': '/' }, returnOnExit: true, stderr: fd });
  const instance = await WebAssembly.instantiate(module!, wasi.getImportObject() as WebAssembly.Imports);
  const code = wasi.start(instance);
  closeSync(fd);
  const err = readFileSync(errFile, 'utf8').split('\n').filter((l) => l.length > 0);
  return { code, err };
}

describe.skipIf(!module)('spikelens.wasi.wasm under node:wasi', () => {
  const temps: Array<() => void> = [];
  afterAll(() => temps.forEach((c) => c()));

  it('imports WASI alone', () => {
    expect(new Set(WebAssembly.Module.imports(module!).map((i) => i.module))).toEqual(new Set(['wasi_snapshot_preview1']));
  });

  for (const dir of CASE_DIRS) {
    it(`writes what spikelens run writes for ${dir.split('/').pop()}`, async () => {
      const { dir: out, cleanup } = tempDir();
      temps.push(cleanup);
      const c = await prepareCase(dir, out);
      const r = await runWasi([c.plan, c.input, join(out, 'wasi'), '--seed', String(c.seed)], out);
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      for (const f of c.files) {
        expect(bitDiff(npy(join(out, 'wasi', f)), npy(join(c.runDir, f))), `${c.name} ${f}`).toBeNull();
        expect(readFileSync(join(out, 'wasi', f)).equals(readFileSync(join(c.runDir, f))), `${c.name} ${f}: the same bytes`).toBe(true);
      }
    });
  }

  it('says what is wrong in one line, with the CLI\'s exit codes', async () => {
    const { dir: out, cleanup } = tempDir();
    temps.push(cleanup);
    const c = await prepareCase(join(REPO, 'conformance', 'x04-signed-poisson'), out);
    const plan = readFileSync(c.plan);
    const o = join(out, 'o');
    const expectLine = async (args: string[], code: number, re: RegExp): Promise<void> => {
      const r = await runWasi(args, out);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err.length, r.err.join('\n')).toBe(1);
      expect(r.err[0]).toMatch(re);
      expect(r.err[0].length).toBeLessThanOrEqual(300);
    };
    await expectLine([], 2, /missing arguments \(usage: spikelens\.wasi\.wasm PLAN INPUT\.npy OUTDIR/);
    await expectLine([c.plan, c.input, o, '--seed', '-1'], 2, /--seed must be an integer/);
    await expectLine([c.plan, c.input, o, '--frob'], 2, /unknown option --frob/);
    await expectLine([join(out, 'nope.slplan'), c.input, o], 3, /nope\.slplan: cannot read: no such file/);
    const bad = join(out, 'bad.slplan');
    writeFileSync(bad, plan.subarray(0, plan.length - 1));
    await expectLine([bad, c.input, o], 3, /bad\.slplan: truncated/);
    writeFileSync(bad, plan.subarray(0, 60));
    await expectLine([bad, c.input, o], 3, /bad\.slplan: truncated/);
    const v2 = Buffer.from(plan);
    v2.writeInt32LE(2, 4);
    writeFileSync(bad, v2);
    await expectLine([bad, c.input, o], 3, /bad\.slplan: a plan file of another version/);
    const magic = Buffer.from(plan);
    magic[0] = 0x58;
    writeFileSync(bad, magic);
    await expectLine([bad, c.input, o], 3, /bad\.slplan: not a plan file/);
    const ptr = Buffer.from(plan);
    ptr.writeInt32LE(0x7ff00000, 21 * 4); // the input window far outside the arena
    writeFileSync(bad, ptr);
    await expectLine([bad, c.input, o], 3, /bad\.slplan: an offset or size is outside/);
    // an input of another shape, and a train longer than the plan
    const other = join(REPO, 'conformance', 'c02-encoder-poisson', 'input.npy');
    await expectLine([c.plan, other, o], 3, /input\.npy: float32 array of shape \[2,1,16,16\] does not fit the plan/);
    await expectLine([c.plan, join(REPO, 'conformance', 'c01-lif-subtract', 'input.npy'), o], 3, /input\.npy: uint8 array of shape \[20,1,1,28,28\] does not fit/);
    expect(existsSync(o)).toBe(false);
  });
});
