/** The page's worker logic in Node: the same Engine the worker wraps, against the library directly. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Network, Recorder, SamObserver, imageInput, parseModel } from '@spikelens/sam';
import { decodePng } from '@spikelens/sam/node';
import { Engine, type Frame, type ViewOptions } from '../src/engine.js';

const repo = join(import.meta.dirname, '..', '..', '..');
const modelFile = join(repo, 'models', 'mnist-lif-bptt.safetensors');
const imageFile = join(repo, 'samples', 'mnist', 'digit-7-0.png');
const view: ViewOptions = { layer: 'lif1', gamma: 0.5, ncs: 'inclusive', normalize: 'frame', colormap: 'jet', alpha: 0.5 };

function ready(): Engine {
  const e = new Engine();
  e.loadModel(readFileSync(modelFile), 'mnist-lif-bptt.safetensors');
  const img = decodePng(readFileSync(imageFile), imageFile);
  e.setImage(img.rgba, img.width, img.height, 'digit-7-0.png');
  return e;
}

describe('Engine (the worker without a browser)', () => {
  it('streams one frame per step, and its maps and spikes are the library\'s', async () => {
    const e = ready();
    const frames: Frame[] = [];
    const r = await e.run({ timesteps: 6, seed: 3, view }, (f) => void frames.push(f));
    expect(r.cancelled).toBe(false);
    expect(frames.map((f) => f.t)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(frames[0].overlay.width).toBe(28);
    expect(frames[0].overlay.rgba.length).toBe(28 * 28 * 4);

    const model = parseModel(readFileSync(modelFile), modelFile);
    const img = decodePng(readFileSync(imageFile), imageFile);
    const net = await Network.create(model, { seed: 3 });
    net.setInput({ kind: 'pixels', data: imageInput(model, img.rgba, img.width, img.height) });
    const rec = new Recorder(net, 'lif2');
    const sam = new SamObserver(net, 'lif1', { gamma: 0.5 });
    net.observe(rec);
    net.observe(sam);
    net.run(6);
    const arrays = e.arrays();
    expect(Object.keys(arrays).sort()).toEqual(['lif1.sam', 'lif1.spikes', 'lif2.spikes']);
    expect(Buffer.from((arrays['lif2.spikes'] as Uint8Array)).equals(Buffer.from(rec.spikes!.data() as Uint8Array))).toBe(true);
    expect(Array.from(arrays['lif1.sam'])).toEqual(Array.from(sam.maps.data()));
    expect(r.summary!.predictions).toEqual(net.predictions());
    expect(frames[5].scores).toEqual(net.scores());

    // Another gamma is computed from the recorded spikes, not simulated again: the same as an observer with it.
    const v = await e.view({ ...view, gamma: 1.25, ncs: 'strict' });
    expect(v.frames).toHaveLength(6);
    expect(v.raster.T).toBe(6);
    const m = await e.maps('lif1', 1.25, 'strict');
    const net2 = await Network.create(model, { seed: 3 });
    net2.setInput({ kind: 'pixels', data: imageInput(model, img.rgba, img.width, img.height) });
    const sam2 = new SamObserver(net2, 'lif1', { gamma: 1.25, ncs: 'strict' });
    net2.observe(sam2);
    net2.run(6);
    expect(Array.from(m.data)).toEqual(Array.from(sam2.maps.data()));
    expect(e.summary(view).sam).toEqual({ layers: ['lif1'], gamma: 0.5, ncs: 'inclusive' });
    const npy = await e.npy('lif1', 0.5, 'inclusive');
    expect(npy.length).toBeGreaterThan(6 * 28 * 28 * 4);
  });

  it('stops at the next step when cancelled, and keeps no half run', async () => {
    const e = ready();
    let seen = 0;
    const r = await e.run({ timesteps: 50, seed: 0, view }, () => {
      seen++;
      if (seen === 3) e.cancel();
    });
    expect(r).toEqual({ cancelled: true, steps: 3, summary: null });
    expect(() => e.arrays()).toThrow(/run the model first/);
    const again = await e.run({ timesteps: 4, seed: 0, view }, () => undefined);
    expect(again.cancelled).toBe(false);
  });

  it('names the problem for a missing model or image, a bad layer, bad options and a non-image model', async () => {
    const e = new Engine();
    await expect(e.run({ timesteps: 2, seed: 0, view }, () => undefined)).rejects.toThrow(/choose a model first/);
    e.loadModel(readFileSync(modelFile), 'm.safetensors');
    await expect(e.run({ timesteps: 2, seed: 0, view }, () => undefined)).rejects.toThrow(/choose an image first/);
    const img = decodePng(readFileSync(imageFile), imageFile);
    e.setImage(img.rgba, img.width, img.height, 'x.png');
    await expect(e.run({ timesteps: 2, seed: 0, view: { ...view, layer: 'fc1' } }, () => undefined)).rejects.toThrow(/no spike map/);
    await expect(e.run({ timesteps: 0, seed: 0, view }, () => undefined)).rejects.toThrow(/time steps must be 1 to 10000/);
    await expect(e.run({ timesteps: 2, seed: -1, view }, () => undefined)).rejects.toThrow(/seed/);
    await expect(e.run({ timesteps: 2, seed: 0, view: { ...view, gamma: NaN } }, () => undefined)).rejects.toThrow(/gamma/);
    expect(() => e.setImage(new Uint8Array(10), 2, 2, 'small.png')).toThrow(/^small\.png: 10 bytes are not a 2x2 RGBA image/);
    expect(() => e.setImage(new Uint8Array(0), 5000, 5000, 'huge.png')).toThrow(/^huge\.png: .*larger than/);
    expect(() => e.loadModel(new TextEncoder().encode('junk'), 'junk.safetensors')).toThrow(/^junk\.safetensors: /);

    // A model whose input is not an image is refused when loaded, by name, and the loaded one stays.
    const flat = readFileSync(join(repo, 'conformance', 'x06-flat-train', 'model.safetensors'));
    expect(() => e.loadModel(flat, 'flat.safetensors')).toThrow(/^flat\.safetensors: the model takes input \[40\], not an image/);
    // The engine still has the good model and image.
    expect((await e.run({ timesteps: 2, seed: 0, view }, () => undefined)).cancelled).toBe(false);
  });
});
