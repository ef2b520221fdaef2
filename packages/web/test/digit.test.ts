import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inkOf, mnistStyle, resampleArea } from '../src/digit.js';
import { Engine } from '../src/engine.js';

const repo = join(import.meta.dirname, '..', '..', '..');

/** A 280x280 black pad with a white vertical bar of the given width from y0 to y1 at x. */
function pad(x: number, width: number, y0: number, y1: number): Uint8Array {
  const rgba = new Uint8Array(280 * 280 * 4);
  for (let p = 0; p < 280 * 280; p++) rgba[p * 4 + 3] = 255;
  for (let y = y0; y < y1; y++)
    for (let dx = 0; dx < width; dx++) rgba.fill(255, (y * 280 + x + dx) * 4, (y * 280 + x + dx) * 4 + 3);
  return rgba;
}

function gray(rgba: Uint8Array): number[] {
  return Array.from({ length: rgba.length / 4 }, (_, p) => rgba[p * 4]);
}

describe('a drawn digit, made MNIST-like', () => {
  it('scales the bounding box to 20 pixels and centres the mass in 28x28', () => {
    const digit = mnistStyle(pad(30, 22, 20, 240), 280, 280)!;
    const g = gray(digit);
    let mass = 0, mx = 0, my = 0, top = 28, bottom = -1;
    g.forEach((v, p) => {
      const x = p % 28, y = Math.floor(p / 28);
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
      if (v > 0) (top = Math.min(top, y)), (bottom = Math.max(bottom, y));
    });
    expect(bottom - top + 1).toBe(20);
    expect(Math.abs(mx / mass - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(my / mass - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...g)).toBe(255);
  });

  it('is null for an empty pad, and area resampling keeps the mean', () => {
    expect(mnistStyle(pad(0, 0, 0, 0), 280, 280)).toBeNull();
    const src = inkOf(pad(10, 50, 0, 280), 280, 280);
    const small = resampleArea(src, 28, 28);
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(mean(small)).toBeCloseTo(mean(src.data), 6);
  });

  it('a vertical stroke is read as 1 by the bundled MNIST models', async () => {
    for (const id of ['mnist-lif-bptt', 'mnist-if-bptt', 'mnist-if-convert']) {
      const engine = new Engine();
      const info = engine.loadModel(readFileSync(join(repo, 'models', `${id}.safetensors`)), `${id}.safetensors`);
      const layer = info.samLayers[info.samLayers.length - 1];
      engine.setImage(mnistStyle(pad(129, 22, 40, 240), 280, 280)!, 28, 28, 'drawing.png');
      const r = await engine.run({ timesteps: null, seed: 0, view: { layer, gamma: 0.5, ncs: 'inclusive', normalize: 'frame', colormap: 'jet', alpha: 0.5 } }, () => undefined);
      expect(r.summary!.predictions[0], id).toBe(1);
    }
  });
});
