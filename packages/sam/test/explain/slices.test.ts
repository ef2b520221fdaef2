import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attack } from '../../src/attack/attack.js';
import { InputError } from '../../src/errors.js';
import { explain } from '../../src/explain/index.js';
import { gradientBatch } from '../../src/explain/gradients.js';
import { parseModel } from '../../src/formats/index.js';
import { imageInput } from '../../src/image.js';
import { LIMITS } from '../../src/limits.js';
import { decodePng } from '../../src/node/png.js';

/**
 * A gradient network keeps every step's activity, so one may take at most LIMITS.gradientBytes: a larger batch is
 * explained or attacked in slices that fit, with the bits of one batch, and a sample that does not fit alone is
 * refused before its memory is taken (a 1.4 KB model of 4096x4096 layers took 1 GB for one Grad-CAM before).
 */
const REPO = join(import.meta.dirname, '..', '..', '..', '..');
const file = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
const model = parseModel(new Uint8Array(readFileSync(file)), file);
const names = ['digit-7-0', 'digit-2-1', 'digit-1-2', 'digit-0-3', 'digit-4-4'];
const B = names.length;
const pixels = new Float32Array(B * 784);
names.forEach((d, b) => {
  const f = join(REPO, 'samples', 'mnist', `${d}.png`);
  const png = decodePng(new Uint8Array(readFileSync(f)), f);
  pixels.set(imageInput(model, png.rgba, png.width, png.height, f), b * 784);
});
const limits = LIMITS as { gradientBytes: number };
const standard = LIMITS.gradientBytes;
afterEach(() => {
  limits.gradientBytes = standard;
});

describe('gradient networks within LIMITS.gradientBytes', () => {
  it('explains a batch in slices with the bits of one batch (Grad-CAM summed and per step, saliency, labels)', async () => {
    const input = { kind: 'pixels' as const, data: pixels };
    const cases = [
      ['gradcam', { layer: 'lif2' }],
      ['gradcam', { layer: 'lif1', alpha: 'per-step' as const, target: 'label' as const, labels: [7, 2, 1, 0, 4] }],
      ['saliency', { keyOffset: 3 }],
    ] as const;
    for (const [method, o] of cases) {
      const whole = await explain(method, model, input, B, o);
      limits.gradientBytes = 12 * 2 ** 20; // 2 samples a network
      expect(await gradientBatch(model, 8, method === 'saliency' ? { inputGrad: true } : { gradLayers: [o.layer!] })).toBeLessThan(B);
      const sliced = await explain(method, model, input, B, o);
      limits.gradientBytes = standard;
      expect(sliced.B).toBe(B);
      expect(Buffer.from(sliced.maps.buffer).equals(Buffer.from(whole.maps.buffer)), method).toBe(true);
      expect(sliced.targets).toEqual(whole.targets);
      expect(sliced.predictions).toEqual(whole.predictions);
      expect(Array.from(sliced.scores)).toEqual(Array.from(whole.scores));
    }
  });

  it('attacks a batch in slices with the bits of one batch', async () => {
    const o = { method: 'pgd' as const, eps: 0.1, steps: 2, labels: [7, 2, 1, 0, 4], keyOffset: 5 };
    const whole = await attack(model, pixels, B, o);
    limits.gradientBytes = 12 * 2 ** 20;
    const sliced = await attack(model, pixels, B, o);
    expect(Array.from(sliced.adversarial)).toEqual(Array.from(whole.adversarial));
    expect(sliced.attacked).toEqual(whole.attacked);
    expect(sliced.clean).toEqual(whole.clean);
    expect(sliced.linf).toEqual(whole.linf);
  });

  it('refuses a sample that does not fit alone, naming the model, before taking the memory', async () => {
    limits.gradientBytes = 2 ** 20;
    const err = await explain('gradcam', model, { kind: 'pixels', data: pixels.subarray(0, 784) }, 1, { layer: 'lif2' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/mnist-lif-bptt\.safetensors: at a batch of 1 over 8 steps, the gradient network needs more than the 1 MiB of memory it may take/);
    await expect(attack(model, pixels, B, { method: 'fgsm', eps: 0.1 })).rejects.toThrow(/gradient network needs more than the 1 MiB/);
  });
});
