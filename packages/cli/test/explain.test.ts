import { readNpy } from '@spikelens/sam';
import { decodePng, encodePng } from '@spikelens/sam/node';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

const MODEL = join(REPO, 'models', 'c01-untrained.safetensors');
const DIGIT = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const png = (p: string) => decodePng(new Uint8Array(readFileSync(p)), p);
const npy = (p: string) => readNpy(new Uint8Array(readFileSync(p)), p);

describe('spikelens explain', () => {
  it('writes one overlay per step, a grid and the raw maps per layer; the maps change over time', async () => {
    const out = join(dir, 'digit');
    const r = await cli(['explain', MODEL, DIGIT, '--layer', 'lif1,lif2', '--out', out, '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const base = join(out, 'digit-7-0');
    for (const [layer, H] of [['lif1', 28], ['lif2', 12]] as const) {
      const steps = readdirSync(join(base, `${layer}.sam`)).sort();
      expect(steps).toHaveLength(20);
      expect(steps[0]).toBe('t00.png');
      const frame = png(join(base, `${layer}.sam`, 't05.png'));
      expect([frame.width, frame.height]).toEqual([28, 28]);
      const maps = npy(join(base, `${layer}.sam.npy`));
      expect(maps.shape).toEqual([20, 1, H, H]);
      const f = maps.data as Float32Array;
      const n = H * H;
      let changed = 0;
      for (let t = 1; t < 20; t++) if (f.subarray(t * n, (t + 1) * n).some((v, i) => v !== f[(t - 1) * n + i])) changed++;
      expect(changed).toBeGreaterThan(10);
      const grid = png(join(base, `${layer}.sam.grid.png`));
      expect(grid.width).toBeGreaterThan(4 * 28);
      expect(grid.height).toBeGreaterThan(4 * 28);
      // consecutive overlays differ on screen too
      const a = png(join(base, `${layer}.sam`, 't01.png')).rgba;
      const b = png(join(base, `${layer}.sam`, 't02.png')).rgba;
      // and the maps summed over the steps, as one picture
      expect([png(join(base, `${layer}.sam.png`)).width]).toEqual([28]);
      expect(a.some((v, i) => v !== b[i])).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.schema).toBe('spikelens.explain/2');
    expect(summary.method).toBe('sam');
    expect(summary.images).toHaveLength(1);
    expect(summary.images[0].maps.map((m: { layer: string }) => m.layer)).toEqual(['lif1', 'lif2']);
    expect(summary.images[0].prediction).toBe(summary.images[0].maps[0].target);
    expect(readdirSync(base).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('takes an RGB image of any size and draws the map back at that size', async () => {
    const w = 90;
    const h = 50;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) rgba.set([x * 2, y * 4, Math.abs(x - 45) < 8 ? 255 : 0, 255], (y * w + x) * 4);
    const img = join(dir, 'wide.png');
    writeFileSync(img, encodePng(w, h, rgba));
    const out = join(dir, 'wide');
    const r = await cli(['explain', MODEL, img, img, '--layer', 'lif1', '--timesteps', '4', '--colormap', 'viridis', '--normalize', 'global', '--opacity', '0.3', '--out', out, '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const frame = png(join(out, 'wide', 'lif1.sam', 't3.png'));
    expect([frame.width, frame.height]).toEqual([w, h]);
    expect(existsSync(join(out, 'wide-2', 'lif1.sam.grid.png'))).toBe(true);
  });

  it('--json prints the summary it writes', async () => {
    const out = join(dir, 'json');
    const r = await cli(['explain', MODEL, DIGIT, '--layer', 'lif2', '--timesteps', '3', '--json', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0])).toEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
  });

  const failures: Array<[string, string[], number, RegExp]> = [
    ['a flat layer', ['--layer', 'lif3'], 2, /layer "lif3": it is flat/],
    ['a missing --layer', [], 2, /--layer/],
    ['--normalize fixed without --limit', ['--layer', 'lif1', '--normalize', 'fixed'], 2, /--limit/],
    ['an opacity out of range', ['--layer', 'lif1', '--opacity', '1.5'], 2, /--opacity/],
    ['an unknown gradcam alpha', ['--method', 'gradcam', '--layer', 'lif1', '--alpha', '0.5'], 2, /--alpha must be one of summed, per-step/],
    ['an unknown method', ['--method', 'lime', '--layer', 'lif1'], 2, /--method must be one of sam, gradcam, saliency, random, input/],
    ['gradcam of a layer that is not spiking or relu', ['--method', 'gradcam', '--layer', 'conv1'], 2, /gradcam cannot use layer "conv1" \(conv2d\)/],
    ['saliency with a layer', ['--method', 'saliency', '--layer', 'lif1'], 2, /saliency explains the input: it takes no --layer/],
    ['a target class out of range', ['--method', 'gradcam', '--layer', 'lif1', '--target', '10'], 2, /--target 10 is not a class from 0 to 9/],
    ['a target that is not a class', ['--method', 'gradcam', '--layer', 'lif1', '--target', 'best'], 2, /--target must be pred, label or a class index/],
    ['an unknown colormap', ['--layer', 'lif1', '--colormap', 'rainbow'], 2, /--colormap/],
  ];
  for (const [what, extra, code, fragment] of failures)
    it(`rejects ${what}`, async () => {
      const r = await cli(['explain', MODEL, DIGIT, ...extra, '--out', join(dir, 'fail'), '--quiet']);
      expect(r.code).toBe(code);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(fragment);
      expect(existsSync(join(dir, 'fail'))).toBe(false);
    });

  it('rejects an image for a model whose input is not an image', async () => {
    const model = join(REPO, 'conformance', 'c04-float32-rounding', 'model.safetensors');
    const r = await cli(['explain', model, DIGIT, '--layer', 'lif1', '--out', join(dir, 'c04'), '--quiet']);
    expect(r.code).toBe(3);
    expect(r.err[0]).toContain(DIGIT);
  });
});

describe('spikelens run with a PNG', () => {
  it('encodes the image as the model says', async () => {
    const out = join(dir, 'run-png');
    const r = await cli(['run', MODEL, '--input', DIGIT, '--record', 'input', '--timesteps', '6', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const spikes = npy(join(out, 'input.spikes.npy'));
    expect(spikes.shape).toEqual([6, 1, 1, 28, 28]);
    const rate = (spikes.data as Uint8Array).reduce((a, v) => a + v, 0) / spikes.data.length;
    // a digit covers about a fifth of the frame, and Poisson rates follow the pixel values
    expect(rate).toBeGreaterThan(0.05);
    expect(rate).toBeLessThan(0.3);
  });
});

describe('spikelens info', () => {
  it('lists layers, parameters and dense MACs per step', async () => {
    const r = await cli(['info', MODEL, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out[0]);
    const conv1 = info.layers.find((l: { name: string }) => l.name === 'conv1');
    expect(conv1).toEqual({ name: 'conv1', op: 'conv2d', outShape: [8, 28, 28], params: 72, macs: 8 * 28 * 28 * 9 });
    expect(info.macsPerStep).toBe(8 * 28 * 28 * 9 + 16 * 12 * 12 * 72 + 5760);
    const text = await cli(['info', MODEL]);
    expect(text.out.join('\n')).toMatch(/conv2\s+conv2d\s+\[16,12,12\]\s+1152\s+165888/);
  });
});
