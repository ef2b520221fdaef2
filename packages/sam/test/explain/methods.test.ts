import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregateMaps, resizeMaps } from '../../src/explain/aggregate.js';
import { explain, METHOD_NAMES } from '../../src/explain/index.js';
import { resolveTargets } from '../../src/explain/target.js';
import { parseModel } from '../../src/formats/index.js';
import { UsageError } from '../../src/errors.js';
import { memoryInput, simulate } from '../../src/run.js';
import { DiffNetwork } from '../../src/diff/network.js';
import { decodePng } from '../../src/node/png.js';
import { imageInput } from '../../src/image.js';

const REPO = join(import.meta.dirname, '..', '..', '..', '..');
const model = parseModel(new Uint8Array(readFileSync(join(REPO, 'models', 'mnist-lif-bptt.safetensors'))), 'mnist-lif-bptt.safetensors');
const digits = ['digit-7-0', 'digit-2-1', 'digit-1-2'].map((d) => {
  const file = join(REPO, 'samples', 'mnist', `${d}.png`);
  const png = decodePng(new Uint8Array(readFileSync(file)), file);
  return imageInput(model, png.rgba, png.width, png.height, file);
});
const B = digits.length;
const pixels = new Float32Array(B * 784);
digits.forEach((d, b) => pixels.set(d, b * 784));
const x = { kind: 'pixels' as const, data: pixels };

describe('explanation methods behind one interface', () => {
  it('lists sam, gradcam, saliency, random and input', () => {
    expect(METHOD_NAMES).toEqual(['sam', 'gradcam', 'saliency', 'random', 'input']);
  });

  it('sam gives the maps of a run with a SamObserver, bit for bit, and the run\'s predictions', async () => {
    const e = await explain('sam', model, x, B, { layer: 'lif2', gamma: 0.4, ncs: 'strict' });
    const r = await simulate({ model, source: memoryInput(x, B), sam: ['lif2'], gamma: 0.4, ncs: 'strict' });
    expect(Array.from(e.maps)).toEqual(Array.from(r.sams[0].maps.data()));
    expect(e.predictions).toEqual([7, 2, 1]);
    expect(e.targets).toEqual(e.predictions);
    expect([e.T, e.B, e.H, e.W]).toEqual([8, B, 14, 14]);
  });

  it('saliency is the largest |d score / d pixel| over channels, against finite differences (smooth spikes)', async () => {
    const o = { surrogate: 'smooth' as const, keepReset: true, target: 3 };
    const e = await explain('saliency', model, x, B, o);
    expect([e.T, e.B, e.H, e.W]).toEqual([1, B, 28, 28]);
    expect(e.targets).toEqual([3, 3, 3]);
    const net = await DiffNetwork.create(model, { batch: B, timesteps: 8, surrogate: 'smooth' });
    const score = (px: Float32Array, b: number): number => net.forward(px, [0, 1, 2], 0)[b * 10 + 3];
    const top = Math.max(...e.maps);
    expect(top).toBeGreaterThan(0);
    let checked = 0;
    for (let i = 100; i < 784; i += 61)
      for (let b = 0; b < B; b++) {
        const px = pixels.slice();
        px[b * 784 + i] = pixels[b * 784 + i] + 2;
        const up = score(px, b);
        px[b * 784 + i] = pixels[b * 784 + i] - 2;
        const down = score(px, b);
        const numeric = Math.abs((up - down) / 4);
        expect(Math.abs(numeric - e.maps[b * 784 + i]), `pixel ${i} of ${b}`).toBeLessThanOrEqual(0.05 * top + 0.05 * numeric);
        checked++;
      }
    expect(checked).toBeGreaterThan(20);
  });

  it('saliency refuses a spike-train input with one clear message', async () => {
    const train = { kind: 'train' as const, data: new Uint8Array(8 * 784), timesteps: 8 };
    await expect(explain('saliency', model, train, 1)).rejects.toThrow(/spike train has no differentiable path/);
  });

  it('random is seeded noise in [0, 1) at the layer size, the same for a sample whatever the batch', async () => {
    const a = await explain('random', model, x, B, { layer: 'lif1', seed: 5 });
    expect([a.T, a.H, a.W]).toEqual([1, 28, 28]);
    expect(Math.min(...a.maps)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a.maps)).toBeLessThan(1);
    const again = await explain('random', model, x, B, { layer: 'lif1', seed: 5 });
    expect(Array.from(again.maps)).toEqual(Array.from(a.maps));
    const other = await explain('random', model, x, B, { layer: 'lif1', seed: 6 });
    expect(Array.from(other.maps)).not.toEqual(Array.from(a.maps));
    const second = await explain('random', model, { kind: 'pixels', data: pixels.slice(784, 1568) }, 1, { layer: 'lif1', seed: 5, keyOffset: 1 });
    expect(Array.from(second.maps)).toEqual(Array.from(a.maps.subarray(784, 1568)));
  });

  it('input is the image itself', async () => {
    const e = await explain('input', model, x, B);
    expect(Array.from(e.maps)).toEqual(Array.from(pixels));
  });

  it('refuses an unknown method, a missing or wrong layer, a class out of range, a missing label', async () => {
    await expect(explain('lime', model, x, B)).rejects.toThrow(/unknown method "lime"/);
    await expect(explain('gradcam', model, x, B)).rejects.toThrow(/gradcam needs --layer/);
    await expect(explain('gradcam', model, x, B, { layer: 'conv1' })).rejects.toThrow(/cannot use layer "conv1" \(conv2d\)/);
    await expect(explain('sam', model, x, B, { layer: 'nope' })).rejects.toThrow(/no layer "nope"/);
    await expect(explain('gradcam', model, x, B, { layer: 'lif2', target: 10 })).rejects.toThrow(/not a class from 0 to 9/);
    await expect(explain('gradcam', model, x, B, { layer: 'lif2', target: 'label' })).rejects.toThrow(UsageError);
    expect(resolveTargets('label', [1, 2], 10, [4, 5])).toEqual([4, 5]);
    expect(resolveTargets(2, [1, 2], 10)).toEqual([2, 2]);
  });

  it('aggregates over time (sum in step order, or last) and resizes to the input', () => {
    const maps = Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]); // T 2, B 1, H 2, W 2
    expect(Array.from(aggregateMaps(maps, 2, 1, 2, 2, 'sum'))).toEqual([11, 22, 33, 44]);
    expect(Array.from(aggregateMaps(maps, 2, 1, 2, 2, 'last'))).toEqual([10, 20, 30, 40]);
    const up = resizeMaps(Float32Array.from([0, 4, 8, 12]), 1, 2, 2, 4, 4);
    expect(up.length).toBe(16);
    expect(up[0]).toBe(0);
    expect(up[15]).toBe(12);
  });
});
