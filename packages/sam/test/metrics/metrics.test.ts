import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explain } from '../../src/explain/index.js';
import { modelToSafetensors, parseModel } from '../../src/formats/index.js';
import { imageInput } from '../../src/image.js';
import {
  energyInBox, gaussianBlur, imageMaps, maxSensitivity, meanCI, parameterRandomisation, perturbationCurves, pointingHit, rankPixels,
  relativeChange, spearman, mapShift,
} from '../../src/metrics/index.js';
import { decodePng } from '../../src/node/png.js';

/** A model of a two-pixel image: scores = [x0, x1] (T 1, direct input, scale 1). */
function twoPixel() {
  const graph = {
    format: 'spikelens.model/1', name: 'two', timesteps: 1, readout: 'final',
    input: { shape: [1, 1, 2], encoding: { kind: 'direct' } },
    layers: [{ name: 'flat', op: 'flatten' }, { name: 'fc', op: 'linear', weight: 'w' }, { name: 'out', op: 'li' }],
  };
  return parseModel(modelToSafetensors(graph, [{ name: 'w', dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) }]), 'two.safetensors');
}
const p0 = (a: number, b: number) => Math.exp(a) / (Math.exp(a) + Math.exp(b));

describe('deletion and insertion on a two-pixel image', () => {
  const model = twoPixel();
  const x = Float32Array.of(3, 1);
  const map = Float32Array.of(0.2, 0.9); // pixel 1 ranks first
  it('deletion: pixel 1, then pixel 0, set to black; the clean class 0 followed', async () => {
    const d = await perturbationCurves('deletion', model, x, 1, map, { step: 1 });
    expect(d.steps).toBe(2);
    expect(d.classes).toEqual([0]);
    const want = [p0(3, 1), p0(3, 0), 0.5];
    d.curves[0].forEach((s, k) => expect(s).toBeCloseTo(want[k], 12));
    expect(d.auc[0]).toBeCloseTo((want[0] + want[1] + want[2] - (want[0] + want[2]) / 2) / 2, 12);
  });
  it('insertion from a black substrate: pixel 1, then pixel 0, put back', async () => {
    const s = await perturbationCurves('insertion', model, x, 1, map, { step: 1, substrate: 'zero' });
    const want = [0.5, p0(0, 1), p0(3, 1)];
    s.curves[0].forEach((v, k) => expect(v).toBeCloseTo(want[k], 12));
    expect(s.auc[0]).toBeCloseTo((want[0] + want[1] + want[2] - (want[0] + want[2]) / 2) / 2, 12);
  });
  it('the default step is the width: one step removes everything', async () => {
    const d = await perturbationCurves('deletion', model, x, 1, map);
    expect(d.steps).toBe(1);
    expect(d.curves[0][1]).toBeCloseTo(0.5, 12);
  });
});

describe('pointing game and energy in box', () => {
  // a 4x4 map: its top value at (2, 1), a quarter of its mass in the box rows 0-1, columns 0-1
  const map = Float32Array.from([1, 1, 0, 0, 1, 0, 0, 2, 0, 6, 0, 0, 0, 0, 0, 1]);
  it('hits when the top pixel is in the box grown by the tolerance', () => {
    expect(pointingHit(map, 4, [2, 1, 2, 1])).toBe(1);
    expect(pointingHit(map, 4, [0, 0, 1, 1])).toBe(0);
    expect(pointingHit(map, 4, [0, 0, 1, 0], 1)).toBe(1);
    expect(pointingHit(map, 4, [0, 0, 0, 0], 1)).toBe(0);
  });
  it('ties go to the lower index', () => {
    expect(Array.from(rankPixels([1, 3, 3, 0]))).toEqual([1, 2, 0, 3]);
  });
  it('energy is the share of the sum inside', () => {
    expect(energyInBox(map, 4, [0, 0, 1, 1])).toBeCloseTo(3 / 12, 15);
    expect(energyInBox(map, 4, [0, 0, 3, 3])).toBe(1);
    expect(energyInBox(new Float32Array(16), 4, [0, 0, 1, 1])).toBe(0);
  });
});

describe('statistics and comparisons', () => {
  it('Spearman: 1 for any increasing relation, -1 reversed, average ranks for ties, null for a constant map', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 100])).toBeCloseTo(1, 15);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 15);
    // ranks (1.5, 1.5, 3) against (1, 2, 3): r = 0.866...
    expect(spearman([5, 5, 7], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
  });
  it('mean and 95 % interval, nulls left out', () => {
    const m = meanCI([1, 2, 3, null, 4]);
    expect(m.n).toBe(4);
    expect(m.mean).toBe(2.5);
    expect(m.ci95).toBeCloseTo((1.96 * Math.sqrt(5 / 3)) / 2, 12);
  });
  it('relative change and shift of max-normalised maps', () => {
    expect(relativeChange([0, 2, 4], [0, 1, 2])).toBe(0);
    expect(relativeChange([0, 0], [1, 1])).toBeNull();
    expect(relativeChange([1, 0], [0, 1])).toBeCloseTo(Math.SQRT2, 15);
    expect(mapShift([1, 2, 3], [3, 2, 1])).toEqual({ shift: expect.closeTo(Math.sqrt((2 / 3) ** 2 * 2) / Math.sqrt(1 / 9 + 4 / 9 + 1), 12), rank: expect.closeTo(-1, 12) });
  });
  it('blur: a delta becomes the normalised kernel, whose weights sum to 1 away from the border', () => {
    const img = new Float32Array(21 * 21);
    img[10 * 21 + 10] = 1;
    const b = gaussianBlur(img, 1, 1, 21, 21);
    let sum = 0;
    for (const v of b) sum += v;
    expect(sum).toBeCloseTo(1, 6);
    const k = (d: number) => Math.exp(-(d * d) / 50);
    let z = 0;
    for (let d = -5; d <= 5; d++) z += k(d);
    expect(b[10 * 21 + 10]).toBeCloseTo(1 / (z * z), 7);
    expect(b[10 * 21 + 15]).toBeCloseTo(k(5) / (z * z), 7);
    expect(b[10 * 21 + 16]).toBe(0);
  });
});

describe('on a bundled model', () => {
  const REPO = join(import.meta.dirname, '..', '..', '..', '..');
  const model = parseModel(new Uint8Array(readFileSync(join(REPO, 'models', 'mnist-lif-bptt.safetensors'))), 'mnist-lif-bptt');
  const file = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
  const png = decodePng(new Uint8Array(readFileSync(file)), file);
  const x = imageInput(model, png.rgba, png.width, png.height, file);

  it('randomising layers above a layer leaves its SAM unchanged; randomising below changes it', async () => {
    const e = await explain('sam', model, { kind: 'pixels', data: x }, 1, { layer: 'lif1' });
    const clean = imageMaps(e, 28, 28);
    const r = await parameterRandomisation('sam', model, x, 1, clean, e.targets, { layer: 'lif1' });
    expect(r.layers).toEqual(['fc1', 'conv2', 'conv1']);
    expect(r.correlations[0][0]).toBe(1);
    expect(r.correlations[1][0]).toBe(1);
    expect(r.correlations[2][0]).not.toBeNull();
    expect(r.correlations[2][0]!).toBeLessThan(0.99);
  });

  it('max-sensitivity: 0 for random maps (the same noise whatever the input), above 0 for saliency', async () => {
    const rnd = await explain('random', model, { kind: 'pixels', data: x }, 1, { layer: 'lif2' });
    expect(await maxSensitivity('random', model, x, 1, imageMaps(rnd, 28, 28), { layer: 'lif2', draws: 3 })).toEqual([0]);
    const sal = await explain('saliency', model, { kind: 'pixels', data: x }, 1);
    const s = await maxSensitivity('saliency', model, x, 1, imageMaps(sal, 28, 28), { draws: 3, classes: sal.targets });
    expect(s[0]).toBeGreaterThan(0);
  });

  it('deletion by SAM removes the digit faster than deletion by random maps', async () => {
    const sam = imageMaps(await explain('sam', model, { kind: 'pixels', data: x }, 1, { layer: 'lif2' }), 28, 28);
    const rnd = imageMaps(await explain('random', model, { kind: 'pixels', data: x }, 1, { layer: 'lif2' }), 28, 28);
    const a = await perturbationCurves('deletion', model, x, 1, sam);
    const b = await perturbationCurves('deletion', model, x, 1, rnd);
    expect(a.steps).toBe(28);
    expect(a.curves[0]).toHaveLength(29);
    expect(a.auc[0]).toBeLessThan(b.auc[0]);
  });
});
