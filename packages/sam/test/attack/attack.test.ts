import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attack, crossEntropy, roundHalfEven } from '../../src/attack/attack.js';
import { parseModel } from '../../src/formats/index.js';
import { imageInput } from '../../src/image.js';
import { decodePng } from '../../src/node/png.js';

const REPO = join(import.meta.dirname, '..', '..', '..', '..');
const load = (name: string) => parseModel(new Uint8Array(readFileSync(join(REPO, 'models', `${name}.safetensors`))), `${name}.safetensors`);
const model = load('mnist-lif-bptt');
const names = ['digit-7-0', 'digit-2-1', 'digit-1-2', 'digit-0-3', 'digit-4-4'];
const pixels = new Float32Array(names.length * 784);
names.forEach((d, b) => {
  const file = join(REPO, 'samples', 'mnist', `${d}.png`);
  const png = decodePng(new Uint8Array(readFileSync(file)), file);
  pixels.set(imageInput(model, png.rgba, png.width, png.height, file), b * 784);
});
const B = names.length;
const labels = [7, 2, 1, 0, 4];

describe('FGSM and PGD (docs/explain.md)', () => {
  it('rounds ties to even, as torch.round', () => {
    expect([0.5, 1.5, 2.5, 25.5, 26.5, -0.5, 3.2, 3.7].map(roundHalfEven)).toEqual([0, 2, 2, 26, 26, -0, 3, 4]);
  });

  it('FGSM raises the loss of the bundled models, moves pixels by at most 255 eps, in whole pixels', async () => {
    for (const name of ['mnist-lif-bptt', 'mnist-if-bptt']) {
      const m = load(name);
      const r = await attack(m, pixels, B, { method: 'fgsm', eps: 0.1, labels });
      const before = crossEntropy(r.clean.scores, labels);
      const after = crossEntropy(r.attacked.scores, labels);
      expect(after.reduce((a, b) => a + b), name).toBeGreaterThan(before.reduce((a, b) => a + b));
      expect(after.filter((l, b) => l > before[b]).length, name).toBeGreaterThanOrEqual(4);
      for (let i = 0; i < pixels.length; i++) {
        expect(Number.isInteger(r.adversarial[i])).toBe(true);
        expect(Math.abs(r.adversarial[i] - pixels[i])).toBeLessThanOrEqual(26);
      }
      expect(Math.max(...r.linf)).toBeLessThanOrEqual(26);
      expect(Math.max(...r.linf)).toBeGreaterThan(0);
    }
  });

  it('PGD stays inside the eps-ball and [0, 255], and does at least as well as FGSM', async () => {
    const eps = 0.1;
    const r = await attack(model, pixels, B, { method: 'pgd', eps, steps: 5, labels, seed: 3 });
    for (let i = 0; i < pixels.length; i++) {
      const v = r.adversarial[i];
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(255);
      // the ball is 25.5 wide; rounding to whole pixels may add at most half a pixel
      expect(Math.abs(v - pixels[i])).toBeLessThanOrEqual(26);
    }
    const fgsm = await attack(model, pixels, B, { method: 'fgsm', eps, labels });
    const sum = (x: number[]) => x.reduce((a, b) => a + b);
    expect(sum(crossEntropy(r.attacked.scores, labels))).toBeGreaterThan(sum(crossEntropy(r.clean.scores, labels)));
    expect(r.attacked.predictions.filter((p, b) => p !== labels[b]).length).toBeGreaterThanOrEqual(
      fgsm.attacked.predictions.filter((p, b) => p !== labels[b]).length,
    );
  });

  it('gives the same bits on a second run, and to each image alone as in a batch', async () => {
    const o = { method: 'pgd' as const, eps: 0.05, steps: 3, seed: 9 };
    const a = await attack(model, pixels, B, o);
    const again = await attack(model, pixels, B, o);
    expect(Array.from(again.adversarial)).toEqual(Array.from(a.adversarial));
    const third = await attack(model, pixels.slice(2 * 784, 3 * 784), 1, { ...o, keyOffset: 2 });
    expect(Array.from(third.adversarial)).toEqual(Array.from(a.adversarial.subarray(2 * 784, 3 * 784)));
    expect(third.attacked.scores).toEqual(a.attacked.scores.slice(20, 30));
  });

  it('eps 0 leaves whole-pixel images as they are', async () => {
    const r = await attack(model, pixels, B, { method: 'fgsm', eps: 0 });
    expect(Array.from(r.adversarial)).toEqual(Array.from(pixels));
    expect(r.attacked.predictions).toEqual(r.clean.predictions);
  });

  it('refuses eps outside [0, 1], steps < 1 and an unknown method', async () => {
    await expect(attack(model, pixels, B, { method: 'fgsm', eps: 1.5 })).rejects.toThrow(/eps must be a number from 0 to 1/);
    await expect(attack(model, pixels, B, { method: 'pgd', eps: 0.1, steps: 0 })).rejects.toThrow(/steps must be an integer >= 1/);
    await expect(attack(model, pixels, B, { method: 'cw' as 'pgd', eps: 0.1 })).rejects.toThrow(/unknown attack "cw"/);
  });
});
