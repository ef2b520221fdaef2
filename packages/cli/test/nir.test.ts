/** NIR from the command line: convert both ways, run/explain/info on .nir, and bad NIR input. */
import { readNpy } from '@spikelens/sam';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

const CASE = join(REPO, 'conformance', 'nir-snntorch-conv_subtract');
const MODEL = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
const DIGIT = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
const PAPER = join(REPO, '..', 'shared', 'nir', 'paper-cnn', 'cnn_sinabs.nir');
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const npy = (file: string) => readNpy(new Uint8Array(readFileSync(file)), file);
const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

describe('spikelens convert', () => {
  it('turns an snnTorch .nir into a .safetensors model that gives snnTorch\'s spikes', async () => {
    const out = join(dir, 'conv.safetensors');
    const r = await cli(['convert', join(CASE, 'model.nir'), '-o', out, '--preset', 'snntorch', '--reset', 'subtract', '--reset-delay', 'true', '--readout', 'count']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/model\.nir -> .*conv\.safetensors: 8 layers/);
    const run = await cli(['run', out, '--input', join(CASE, 'input.npy'), '--record', 'lif1,lif2,lif3', '--out', join(dir, 'conv-run'), '-q']);
    expect(run.code).toBe(0);
    for (const l of ['lif1', 'lif2', 'lif3']) expect(same(npy(join(dir, 'conv-run', `${l}.spikes.npy`)).data, npy(join(CASE, `${l}.spikes.npy`)).data), l).toBe(true);
  });

  it('writes a bundled model as .nir, and explain reads it with the preset to the same maps (the README path)', async () => {
    const nir = join(dir, 'mnist.nir');
    const w = await cli(['convert', MODEL, '-o', nir, '--no-hints']);
    expect(w.code).toBe(0);
    expect(readFileSync(nir).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
    const a = await cli(['explain', MODEL, DIGIT, '--layer', 'lif1,lif2', '--out', join(dir, 'ex-st'), '-q']);
    // The model was trained with an immediate subtract reset, direct input, 8 steps and pixels/255.
    const b = await cli(['explain', nir, DIGIT, '--preset', 'snntorch', '--reset-delay', 'false', '--timesteps', '8', '--layer', 'lif1,lif2', '--out', join(dir, 'ex-nir'), '-q']);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(b.err).toEqual([]);
    for (const l of ['lif1', 'lif2']) {
      const x = npy(join(dir, 'ex-st', 'digit-7-0', `${l}.sam.npy`)).data;
      expect(same(npy(join(dir, 'ex-nir', 'digit-7-0', `${l}.sam.npy`)).data, x), l).toBe(true);
      expect(Math.max(...(x as Float32Array))).toBeGreaterThan(0);
    }
    expect(readdirSync(join(dir, 'ex-nir', 'digit-7-0', 'lif2.sam'))).toHaveLength(8);
    // snnTorch's default reset timing is not how this model was trained: the maps differ, so the flag matters.
    const c = await cli(['explain', nir, DIGIT, '--preset', 'snntorch', '--timesteps', '8', '--layer', 'lif2', '--out', join(dir, 'ex-nir-delay'), '-q']);
    expect(c.code).toBe(0);
    expect(same(npy(join(dir, 'ex-nir-delay', 'digit-7-0', 'lif2.sam.npy')).data, npy(join(dir, 'ex-st', 'digit-7-0', 'lif2.sam.npy')).data)).toBe(false);
  });

  it('info lists a .nir model\'s layers; a file with hints needs no preset', async () => {
    const nir = join(dir, 'hinted.nir');
    expect((await cli(['convert', MODEL, '-o', nir])).code).toBe(0);
    const r = await cli(['info', nir, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out[0]);
    expect(info.layers.map((l: { op: string }) => l.op)).toEqual(['conv2d', 'lif', 'avgpool2d', 'conv2d', 'lif', 'avgpool2d', 'flatten', 'linear', 'li']);
    expect(info.timesteps).toBe(25);
    expect(info.readout).toBe('final');
    expect(r.err.join(' ')).toMatch(/warning: .*hinted\.nir: no preset given: using the time step \(0\.0001\)/);
  });
});

describe('bad NIR input', () => {
  it('a corrupt or truncated .nir: exit 3, one line naming the file', async () => {
    const junk = join(dir, 'junk.nir');
    writeFileSync(junk, 'definitely not HDF5');
    const r = await cli(['info', junk]);
    expect(r.code).toBe(3);
    expect(r.err).toEqual([`spikelens info: ${junk}: not an HDF5 file (no HDF5 signature): a .nir file is HDF5`]);
    const cut = join(dir, 'cut.nir');
    writeFileSync(cut, readFileSync(join(CASE, 'model.nir')).subarray(0, 20000));
    const c = await cli(['run', cut, '--input', join(CASE, 'input.npy'), '--out', join(dir, 'never')]);
    expect(c.code).toBe(3);
    expect(c.err).toHaveLength(1);
    expect(c.err[0]).toMatch(new RegExp(`^spikelens run: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (malformed HDF5|dataset ".*" cannot be read)`));
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('a missing parameter or a wrong shape: exit 3, naming the node and the field', async () => {
    const h5 = await import('h5wasm');
    const module = await h5.ready;
    const make = (name: string, lif: Record<string, Float32Array>, weightShape = [3, 4]) => {
      const path = `/${name}`;
      const f = new h5.File(path, 'w');
      const top = f.create_group('node');
      top.create_dataset({ name: 'type', data: 'NIRGraph' });
      top.create_dataset({ name: 'edges', data: ['input', 'fc', 'fc', 'lif', 'lif', 'output'], shape: [3, 2] });
      const nodes = top.create_group('nodes');
      const node = (n: string, type: string, fields: Record<string, Float32Array | BigInt64Array>) => {
        const g = nodes.create_group(n);
        g.create_dataset({ name: 'type', data: type });
        for (const [k, v] of Object.entries(fields)) g.create_dataset({ name: k, data: v, shape: k === 'weight' ? weightShape : [v.length] });
      };
      node('input', 'Input', { shape: BigInt64Array.of(4n) });
      node('fc', 'Affine', { weight: new Float32Array(weightShape[0] * weightShape[1]).fill(0.5), bias: new Float32Array(3) });
      node('lif', 'LIF', lif);
      node('output', 'Output', { shape: BigInt64Array.of(3n) });
      f.close();
      const file = join(dir, name);
      writeFileSync(file, module.FS.readFile(path));
      module.FS.unlink(path);
      return file;
    };
    const three = (v: number) => new Float32Array(3).fill(v);
    const missing = make('missing.nir', { tau: three(1e-3), r: three(10), v_leak: three(0) });
    const a = await cli(['info', missing]);
    expect([a.code, a.err]).toEqual([3, [`spikelens info: ${missing}: node "lif" (LIF): missing field "v_threshold"`]]);
    const shape = make('shape.nir', { tau: three(1e-3), r: three(10), v_leak: three(0), v_threshold: three(1) }, [3, 5]);
    const b = await cli(['info', shape]);
    expect([b.code, b.err]).toEqual([3, [`spikelens info: ${shape}: node "fc" (Affine): field "weight" has shape [3,5], expected [out, 4]`]]);
  });

  it('NIR flags on a .safetensors model, an unknown preset, a wrong conversion: exit 2', async () => {
    const a = await cli(['info', MODEL, '--preset', 'snntorch']);
    expect([a.code, a.err[0]]).toEqual([2, "spikelens info: --preset applies to .nir models only (see 'spikelens info --help')"]);
    const b = await cli(['info', join(CASE, 'model.nir'), '--preset', 'brian2']);
    expect(b.code).toBe(2);
    expect(b.err[0]).toMatch(/--preset must be one of snntorch, spikingjelly, norse, sinabs/);
    const c = await cli(['convert', MODEL, '-o', join(dir, 'x.onnx')]);
    expect(c.code).toBe(2);
    expect(c.err[0]).toMatch(/convert reads \.nir and writes \.safetensors, or the reverse/);
    const d = await cli(['convert', join(REPO, 'conformance', 'x02-pools-padding', 'model.safetensors'), '-o', join(dir, 'x.nir')]);
    expect(d.code).toBe(2);
    expect(d.err[0]).toMatch(/layer "[^"]+" \(maxpool2d\) has no NIR node/);
    expect(existsSync(join(dir, 'x.nir'))).toBe(false);
  });

  it('--help documents the NIR options and their defaults', async () => {
    for (const cmd of ['run', 'explain', 'info', 'convert']) {
      const r = await cli([cmd, '--help']);
      expect(r.out.join('\n'), cmd).toMatch(/--preset P .*default snntorch/);
      expect(r.out.join('\n'), cmd).toMatch(/--timesteps T .*default 25/);
    }
  });
});

describe.runIf(existsSync(PAPER))('the NIR paper CNN from ../shared (skipped when absent)', () => {
  it('runs on event-count frames (values above 1) and writes maps for its conv layers', async () => {
    const T = 20;
    const frames = new Uint8Array(T * 2 * 34 * 34).map((_, i) => ((i * 2654435761) >>> 0) % 17 === 0 ? 1 + (i % 3) : 0);
    const { writeNpy } = await import('@spikelens/sam');
    const input = join(dir, 'frames.npy');
    writeFileSync(input, writeNpy(frames, [T, 1, 2, 34, 34]));
    const r = await cli(['run', PAPER, '--input', input, '--preset', 'norse', '--sam', '1,3,6', '--record', 'all', '--out', join(dir, 'paper'), '-q']);
    expect(r.code).toBe(0);
    for (const l of ['1', '3', '6']) expect(npy(join(dir, 'paper', `${l}.sam.npy`)).shape).toEqual([T, 1, ...(l === '6' ? [8, 8] : [16, 16])]);
    expect(Math.max(...npy(join(dir, 'paper', 'input.spikes.npy')).data)).toBe(3);
  });
});
if (!existsSync(PAPER)) console.warn(`[cli nir] paper-cnn test SKIPPED: ${PAPER} is not there`);
