import { attack, imageInput, parseModel, readNpy } from '@spikelens/sam';
import { Attacker, decodePng } from '@spikelens/sam/node';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

const MNIST = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
const DIGIT = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
const DIGITS = ['digit-7-0', 'digit-2-1', 'digit-1-2'].map((d) => join(REPO, 'samples', 'mnist', `${d}.png`));
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const png = (p: string) => decodePng(new Uint8Array(readFileSync(p)), p);
const npy = (p: string) => readNpy(new Uint8Array(readFileSync(p)), p);

describe('spikelens explain --method', () => {
  it('gradcam of lif2: a map per step, its grid, the aggregated picture and raw maps named by method', async () => {
    const out = join(dir, 'gradcam');
    const r = await cli(['explain', MNIST, DIGIT, '--method', 'gradcam', '--layer', 'lif2', '--out', out, '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const base = join(out, 'digit-7-0');
    expect(readdirSync(join(base, 'lif2.gradcam'))).toHaveLength(8);
    const maps = npy(join(base, 'lif2.gradcam.npy'));
    expect(maps.shape).toEqual([8, 1, 14, 14]);
    expect((maps.data as Float32Array).some((v) => v > 0)).toBe(true);
    expect((maps.data as Float32Array).every((v) => v >= 0)).toBe(true);
    expect(png(join(base, 'lif2.gradcam.grid.png')).width).toBeGreaterThan(100);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ method: 'gradcam', alpha: 'summed', surrogate: 'atan', target: 'pred' });
    expect(summary.images[0]).toMatchObject({ prediction: 7, label: 7, maps: [{ layer: 'lif2', target: 7 }] });
  });

  it('saliency explains the input at its size: input.saliency.npy', async () => {
    const out = join(dir, 'saliency');
    const r = await cli(['explain', MNIST, DIGIT, '--method', 'saliency', '--out', out, '--quiet']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(npy(join(out, 'digit-7-0', 'input.saliency.npy')).shape).toEqual([1, 1, 28, 28]);
    expect(existsSync(join(out, 'digit-7-0', 'input.saliency', 't0.png'))).toBe(true);
  });

  it('--target label takes the label from the file name; --label overrides it; per-step alpha differs from summed', async () => {
    const a = join(dir, 'by-name');
    expect((await cli(['explain', MNIST, ...DIGITS, '--method', 'gradcam', '--layer', 'lif2', '--target', 'label', '--out', a, '--quiet'])).code).toBe(0);
    const s = JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8'));
    expect(s.images.map((i: { maps: Array<{ target: number }> }) => i.maps[0].target)).toEqual([7, 2, 1]);
    const b = join(dir, 'by-flag');
    expect((await cli(['explain', MNIST, DIGIT, '--method', 'gradcam', '--layer', 'lif2', '--target', 'label', '--label', '3', '--out', b, '--quiet'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(b, 'summary.json'), 'utf8')).images[0].maps[0].target).toBe(3);
    const c = join(dir, 'per-step');
    expect((await cli(['explain', MNIST, DIGIT, '--method', 'gradcam', '--layer', 'lif2', '--alpha', 'per-step', '--out', c, '--quiet'])).code).toBe(0);
    const summed = npy(join(dir, 'gradcam', 'digit-7-0', 'lif2.gradcam.npy')).data as Float32Array;
    const perStep = npy(join(c, 'digit-7-0', 'lif2.gradcam.npy')).data as Float32Array;
    expect(Array.from(perStep)).not.toEqual(Array.from(summed));
  });

  it('--target label without a label is a usage error before any work', async () => {
    const r = await cli(['explain', MNIST, join(REPO, 'models', '..', 'docs', 'images', 'web-page.png'), '--method', 'gradcam', '--layer', 'lif2', '--target', 'label', '--out', join(dir, 'nolabel'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([expect.stringMatching(/--target label needs a label for .*web-page\.png/)]);
    expect(existsSync(join(dir, 'nolabel'))).toBe(false);
  });
});

describe('spikelens attack', () => {
  it('pgd on images: adversarial PNG and .npy, predictions, probabilities and the L-inf applied; explain side by side', async () => {
    const out = join(dir, 'pgd');
    const r = await cli(['attack', MNIST, ...DIGITS, '--method', 'pgd', '--eps', '0.1', '--explain', 'sam,gradcam', '--layer', 'lif2', '--out', out, '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s).toMatchObject({ schema: 'spikelens.attack/1', method: 'pgd', eps: 0.1, steps: 10, randomStart: true });
    expect(s.images).toHaveLength(3);
    for (const img of s.images) {
      expect(img.linfPixels).toBeGreaterThan(0);
      expect(img.linfPixels).toBeLessThanOrEqual(26);
      expect(img.clean.probability).toBeGreaterThan(0);
      expect(img.adversarial.probability).toBeLessThanOrEqual(1);
    }
    expect(s.images.map((i: { label: number }) => i.label)).toEqual([7, 2, 1]);
    const base = join(out, 'digit-7-0');
    const adv = npy(join(base, 'adversarial.npy'));
    expect(adv.shape).toEqual([1, 1, 28, 28]);
    expect((adv.data as Float32Array).every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    // the saved PNG holds the same pixels
    const p = png(join(base, 'adversarial.png'));
    expect(Array.from({ length: 784 }, (_, i) => p.rgba[i * 4])).toEqual(Array.from(adv.data as Float32Array));
    expect(existsSync(join(base, 'explain.grid.png'))).toBe(true);
    for (const f of ['lif2.sam.clean.npy', 'lif2.sam.adversarial.npy', 'lif2.gradcam.clean.npy', 'lif2.gradcam.adversarial.npy'])
      expect(existsSync(join(base, f)), f).toBe(true);
  });

  it('gives the same bytes on a second run', async () => {
    const a = join(dir, 'again-a');
    const b = join(dir, 'again-b');
    for (const o of [a, b]) expect((await cli(['attack', MNIST, DIGIT, '--method', 'pgd', '--eps', '0.05', '--steps', '3', '--out', o, '--quiet'])).code).toBe(0);
    expect(readFileSync(join(a, 'digit-7-0', 'adversarial.npy')).equals(readFileSync(join(b, 'digit-7-0', 'adversarial.npy')))).toBe(true);
  });

  it('--dataset: accuracy under attack for every eps, the same on one thread and two', async () => {
    const run = async (threads: string) => {
      const r = await cli(['attack', MNIST, '--dataset', 'mnist', '--method', 'fgsm', '--eps', '0,0.1,0.3', '--limit', '24', '--batch', '10', '--threads', threads, '--json', '--quiet']);
      expect(r.code, r.err.join('\n')).toBe(0);
      return JSON.parse(r.out[0]);
    };
    const one = await run('1');
    const two = await run('2');
    expect(one.accuracy).toEqual(two.accuracy);
    expect(one.images).toBe(24);
    expect(one.accuracy.map((a: { eps: number }) => a.eps)).toEqual([0, 0.1, 0.3]);
    expect(one.accuracy[0].accuracy).toBeGreaterThan(0.9);
    expect(one.accuracy[2].accuracy).toBeLessThan(one.accuracy[0].accuracy);
  });

  it('on two cores gives every image the bits one core gives it', async () => {
    const model = parseModel(new Uint8Array(readFileSync(MNIST)), MNIST);
    const pixels = new Float32Array(DIGITS.length * 784);
    DIGITS.forEach((f, b) => {
      const p = png(f);
      pixels.set(imageInput(model, p.rgba, p.width, p.height, f), b * 784);
    });
    const o = { method: 'pgd' as const, eps: 0.1, steps: 4, seed: 5, labels: [7, 2, 1] };
    const one = await attack(model, pixels, 3, o);
    const two = await Attacker.create(model, 2);
    try {
      const r = await two.attack(pixels, 3, o);
      expect(Array.from(r.adversarial)).toEqual(Array.from(one.adversarial));
      expect(Array.from(r.attacked.scores)).toEqual(Array.from(one.attacked.scores));
      expect(r.linf).toEqual(one.linf);
    } finally {
      two.close();
    }
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['eps above 1', ['--method', 'fgsm', '--eps', '1.5'], /--eps must be numbers from 0 to 1/],
    ['steps below 1', ['--method', 'pgd', '--eps', '0.1', '--steps', '0'], /--steps must be an integer from 1/],
    ['an unknown attack', ['--method', 'cw', '--eps', '0.1'], /--method must be one of fgsm, pgd/],
    ['pgd options on fgsm', ['--method', 'fgsm', '--eps', '0.1', '--steps', '3'], /apply to pgd/],
    ['an unknown explanation', ['--method', 'fgsm', '--eps', '0.1', '--explain', 'lime', '--layer', 'lif2'], /unknown method "lime"/],
  ];
  for (const [what, extra, fragment] of failures)
    it(`refuses ${what}: exit 2, one line, nothing written`, async () => {
      const out = join(dir, 'refused');
      const r = await cli(['attack', MNIST, DIGIT, ...extra, '--out', out, '--quiet']);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([expect.stringMatching(fragment)]);
      expect(existsSync(out)).toBe(false);
    });
});
