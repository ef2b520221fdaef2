/** The page's worker logic in Node: the same Engine the worker wraps, against the library directly. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Network, Recorder, SamObserver, imageInput, parseModel, samFromSpikes, type Model } from '@spikelens/sam';
import { decodePng } from '@spikelens/sam/node';
import { Engine, imageOf, type Frame, type ViewOptions } from '../src/engine.js';
import { mlp } from './mlp.js';

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

    // A model whose input cannot be read from an image ([40] is neither s*s nor 3*s*s) is refused when loaded, by
    // name, and the loaded one stays.
    const flat = readFileSync(join(repo, 'conformance', 'x06-flat-train', 'model.safetensors'));
    expect(() => e.loadModel(flat, 'flat.safetensors')).toThrow(/^flat\.safetensors: the model takes input \[40\], not an image: .*square/);
    // The engine still has the good model and image.
    expect((await e.run({ timesteps: 2, seed: 0, view }, () => undefined)).cancelled).toBe(false);
  });

  it('recomputes maps in scratch memory of its own: the recorded network\'s memory is left as it was', async () => {
    const create = Network.create.bind(Network);
    const made: Network[] = [];
    const spy = vi.spyOn(Network, 'create').mockImplementation(async (...args) => {
      const net = await create(...args);
      made.push(net);
      return net;
    });
    const e = ready();
    try {
      await e.run({ timesteps: 6, seed: 3, view }, () => undefined);
    } finally {
      spy.mockRestore();
    }
    expect(made).toHaveLength(1);
    const net = made[0];
    // Everything the network laid out: weights, neuron state, activity, the observers' buffers.
    const laidOut = () => Buffer.from(new Uint8Array(net.core.memory.buffer, net.core.heapBase, net.arena.size));
    const before = Buffer.from(laidOut());
    const scores = net.scores();
    const spikes = e.arrays()['lif1.spikes'];

    const strict = await e.maps('lif1', 1.25, 'strict');
    const other = await e.maps('lif2', 0, 'official');
    expect(laidOut().equals(before)).toBe(true);
    expect(net.scores()).toEqual(scores);
    // The same bits as samFromSpikes on a core of its own, and a second use of the scratch gives them again.
    const fresh = await samFromSpikes(spikes, { T: 6, B: 1, C: 16, H: 28, W: 28 }, { gamma: 1.25, ncs: 'strict' });
    expect(Buffer.from(strict.data.buffer).equals(Buffer.from(fresh.buffer))).toBe(true);
    expect(other.data.length).toBe(6 * 14 * 14);
    const again = await e.maps('lif1', 2, 'inclusive');
    const again2 = await samFromSpikes(spikes, { T: 6, B: 1, C: 16, H: 28, W: 28 }, { gamma: 2, ncs: 'inclusive' });
    expect(Array.from(again.data)).toEqual(Array.from(again2));
    expect(laidOut().equals(before)).toBe(true);
  });

  it('reads a flat input [784] from the image as 28x28 gray, and runs a model without maps', async () => {
    const img = decodePng(readFileSync(imageFile), imageFile);
    const load = (flatInput: boolean) => {
      const e = new Engine();
      const info = e.loadModel(mlp(flatInput), flatInput ? 'mlp-flat.safetensors' : 'mlp.safetensors');
      e.setImage(img.rgba, img.width, img.height, 'digit-7-0.png');
      return { e, info };
    };
    const flat = load(true);
    expect(flat.info.inputShape).toEqual([784]);
    expect(flat.info.image).toEqual({ channels: 1, height: 28, width: 28 });
    expect(flat.info.samLayers).toEqual([]);
    expect(flat.info.spikingLayers).toEqual(['lif_fc1']);
    const shaped = load(false);
    expect(shaped.info.image).toEqual({ channels: 1, height: 28, width: 28 });
    expect(shaped.info.samLayers).toEqual([]);

    // No map: the frames are the picture as the model sees it; the raster and scores are there.
    const noMap: ViewOptions = { ...view, layer: 'lif_fc1' };
    const frames: Frame[] = [];
    const r = await flat.e.run({ timesteps: null, seed: 0, view: noMap }, (f) => void frames.push(f));
    expect(r.cancelled).toBe(false);
    expect(r.summary!.sam).toBeNull();
    expect(frames).toHaveLength(6);
    const picture = flat.e.picture();
    for (const f of frames) {
      expect(Buffer.from(f.overlay.rgba).equals(Buffer.from(picture.rgba))).toBe(true);
      expect(f.raster.length).toBe(192);
      expect(f.range).toEqual({ min: 0, max: 0 });
    }
    expect(new Set(frames.map((f) => f.overlay.rgba.buffer)).size).toBe(6);
    const v = await flat.e.view(noMap);
    expect(v.mapped).toBe(false);
    expect(v.frames).toHaveLength(6);
    expect(v.raster).toMatchObject({ rows: 192, neurons: 256, T: 6 });
    expect(v.scores).toHaveLength(6);
    await expect(flat.e.maps('lif_fc1', 0.5, 'inclusive')).rejects.toThrow(/layer "lif_fc1" is flat \(\[256\]\): it has no map/);
    await expect(flat.e.npy('lif_fc1', 0.5, 'inclusive')).rejects.toThrow(/no map/);
    await expect(flat.e.grid(noMap)).rejects.toThrow(/no map/);
    await expect(flat.e.frame(noMap, 0)).rejects.toThrow(/no map/);
    expect(flat.e.summary(noMap).sam).toBeNull();
    await expect(flat.e.view({ ...view, layer: 'fc1' })).rejects.toThrow(/no spike map/);

    // The flat model gives the bits of the same network with a [1,28,28] input and a flatten layer, and of the library.
    await shaped.e.run({ timesteps: null, seed: 0, view: noMap }, () => undefined);
    const got = flat.e.arrays()['lif_fc1.spikes'] as Uint8Array;
    expect(Object.keys(flat.e.arrays())).toEqual(['lif_fc1.spikes']);
    expect(got.some((x) => x !== 0)).toBe(true);
    expect(Buffer.from(got).equals(Buffer.from(shaped.e.arrays()['lif_fc1.spikes'] as Uint8Array))).toBe(true);
    const model = parseModel(mlp(false), 'mlp.safetensors');
    const net = await Network.create(model, { seed: 0 });
    net.setInput({ kind: 'pixels', data: imageInput(model, img.rgba, img.width, img.height) });
    const rec = new Recorder(net, 'lif_fc1');
    net.observe(rec);
    net.run(6);
    expect(Buffer.from(got).equals(Buffer.from(rec.spikes!.data() as Uint8Array))).toBe(true);
    expect(flat.e.summary().scores![0]).toEqual(Array.from(net.scores()));
  });

  it('reads a flat input as a square gray (s*s values) or RGB (3*s*s) picture, and names any other size', () => {
    const flat = (n: number) => ({ file: 'm.safetensors', input: { shape: [n] } }) as unknown as Model;
    expect(imageOf(flat(784), 'm')).toEqual({ channels: 1, height: 28, width: 28 });
    expect(imageOf(flat(3 * 32 * 32), 'm')).toEqual({ channels: 3, height: 32, width: 32 });
    expect(imageOf(flat(1), 'm')).toEqual({ channels: 1, height: 1, width: 1 });
    expect(() => imageOf(flat(40), 'm.safetensors')).toThrow(/^m\.safetensors: the model takes input \[40\], not an image/);
    expect(() => imageOf(flat(785), 'm')).toThrow(/785 is not s\*s/);
    const shaped = (shape: number[]) => ({ file: 'm', input: { shape } }) as unknown as Model;
    expect(imageOf(shaped([3, 20, 30]), 'm')).toEqual({ channels: 3, height: 20, width: 30 });
    expect(() => imageOf(shaped([2, 4, 4]), 'm')).toThrow(/not an image/);
  });
});
