/** The page's worker logic in Node: the same Engine the worker wraps, against the library directly. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Network, Recorder, SamObserver, attack, explain, imageInput, parseModel, pixelsToRgba, samFromSpikes, type Model } from '@spikelens/sam';
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

  it('on two threads (Node\'s worker thread as the helper) records the bits of one, and its maps too', async () => {
    const collect = () => {
      const out: Frame[] = [];
      return { out, onFrame: (f: Frame) => void out.push(f) };
    };
    for (const [file, image, seed, steps] of [
      [modelFile, imageFile, 3, 6],
      [join(repo, 'models', 'c01-untrained.safetensors'), join(repo, 'samples', 'mnist', 'digit-3-18.png'), 12345, 5],
    ] as const) {
      const img = decodePng(readFileSync(image), image);
      const make = (e: Engine) => {
        e.loadModel(readFileSync(file), file);
        e.setImage(img.rgba, img.width, img.height, 'image.png');
        return e;
      };
      const one = make(new Engine());
      const two = make(new Engine({ threads: 2 }));
      expect(two.threads).toBe(2);
      const layer = one.modelInfo!.samLayers[0];
      const v: ViewOptions = { ...view, layer };
      const f1 = collect();
      const f2 = collect();
      const r1 = await one.run({ timesteps: steps, seed, view: v }, f1.onFrame);
      const r2 = await two.run({ timesteps: steps, seed, view: v }, f2.onFrame);
      expect([r1.threads, r2.threads]).toEqual([1, 2]);
      expect({ ...r2.summary!, seconds: 0 }).toEqual({ ...r1.summary!, seconds: 0 });
      expect(f2.out.map((f) => [f.scores, f.rates, f.raster, f.overlay.rgba])).toEqual(f1.out.map((f) => [f.scores, f.rates, f.raster, f.overlay.rgba]));
      const a1 = one.arrays();
      const a2 = two.arrays();
      expect(Object.keys(a2).sort()).toEqual(Object.keys(a1).sort());
      for (const k of Object.keys(a1)) expect(Buffer.from(a2[k].buffer, a2[k].byteOffset, a2[k].byteLength).equals(Buffer.from(a1[k].buffer, a1[k].byteOffset, a1[k].byteLength)), k).toBe(true);
      // Maps recomputed from the recorded spikes, on the run's (shared) core, after its helper is gone.
      const m1 = await one.maps(layer, 1.25, 'strict');
      const m2 = await two.maps(layer, 1.25, 'strict');
      expect(Buffer.from(m2.data.buffer).equals(Buffer.from(m1.data.buffer))).toBe(true);
    }
  });

  it('stops at the next step when cancelled, and keeps no half run', async () => {
    const e = ready();
    let seen = 0;
    const r = await e.run({ timesteps: 50, seed: 0, view }, () => {
      seen++;
      if (seen === 3) e.cancel();
    });
    expect(r).toEqual({ cancelled: true, steps: 3, summary: null, threads: 1 });
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

describe('Engine: explanations beyond SAM and attacks', () => {
  const model = () => parseModel(readFileSync(modelFile), modelFile);
  const pixels = () => {
    const img = decodePng(readFileSync(imageFile), imageFile);
    return imageInput(model(), img.rgba, img.width, img.height);
  };
  const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

  it('computes Grad-CAM and saliency maps with the library\'s explain, on the run\'s seed and steps, without simulating again', async () => {
    const e = ready();
    const frames: Frame[] = [];
    const gradcam: ViewOptions = { ...view, method: 'gradcam', target: 'pred', gradcamAlpha: 'summed' };
    const r = await e.run({ timesteps: 6, seed: 3, view: gradcam }, (f) => void frames.push(f));
    // Grad-CAM needs the whole run: the streamed frames are the picture alone, and the run computes no SAM.
    expect(frames).toHaveLength(6);
    expect(Buffer.from(frames[3].overlay.rgba).equals(Buffer.from(e.picture().rgba))).toBe(true);
    expect(Object.keys(e.arrays()).sort()).toEqual(['lif1.spikes', 'lif2.spikes']);
    expect(r.summary!.sam).toBeNull();

    const x = { kind: 'pixels' as const, data: pixels() };
    const want = (method: string, o: Record<string, unknown>) => explain(method, model(), x, 1, { seed: 3, timesteps: 6, ...o });
    const g = await e.methodMaps(gradcam);
    const gw = await want('gradcam', { layer: 'lif1' });
    expect([g.method, g.layer, g.T, g.H, g.W, g.target, g.prediction]).toEqual(['gradcam', 'lif1', 6, 28, 28, gw.targets[0], r.summary!.predictions[0]]);
    expect(same(g.data, gw.maps)).toBe(true);
    expect(g.data.some((v) => v > 0)).toBe(true);
    const perStep = await e.methodMaps({ ...gradcam, gradcamAlpha: 'per-step' });
    expect(same(perStep.data, (await want('gradcam', { layer: 'lif1', alpha: 'per-step' })).maps)).toBe(true);
    expect(same(perStep.data, g.data)).toBe(false);
    const three = await e.methodMaps({ ...gradcam, layer: 'lif2', target: 3 });
    expect(three.target).toBe(3);
    expect(same(three.data, (await want('gradcam', { layer: 'lif2', target: 3 })).maps)).toBe(true);

    const s = await e.methodMaps({ ...view, method: 'saliency' });
    const sw = await want('saliency', {});
    expect([s.layer, s.T, s.H, s.W]).toEqual(['input', 1, 28, 28]);
    expect(same(s.data, sw.maps)).toBe(true);
    // SAM from the recorded spikes is the library's explain('sam') too.
    expect(same((await e.methodMaps({ ...view, layer: 'lif2' })).data, (await want('sam', { layer: 'lif2', gamma: 0.5, ncs: 'inclusive' })).maps)).toBe(true);

    const v = await e.view(gradcam);
    expect([v.method, v.mapLayer, v.mapped, v.T, v.frames.length, v.target]).toEqual(['gradcam', 'lif1', true, 6, 6, g.target]);
    const sv = await e.view({ ...view, method: 'saliency' });
    expect([sv.method, sv.mapLayer, sv.mapped, sv.T, sv.frames.length]).toEqual(['saliency', 'input', true, 6, 1]);
    expect(sv.raster.T).toBe(6);
    await expect(e.frame({ ...view, method: 'saliency' }, 1)).rejects.toThrow(/step 1 is not in 0\.\.0/);
    expect((await e.frame({ ...view, method: 'saliency' }, 0)).width).toBe(28);
    const npy = await e.npy(gradcam);
    expect(npy.length).toBe(128 + 6 * 28 * 28 * 4);
    expect((await e.grid(gradcam)).width).toBeGreaterThan(28);
    expect(e.summary(gradcam).sam).toBeNull();
    expect(e.summary(view).sam).toEqual({ layers: ['lif1'], gamma: 0.5, ncs: 'inclusive' });
    // Still no new simulation: the recorded spikes are those of the run; the one SAM asked for is from them.
    expect(Object.keys(e.arrays()).sort()).toEqual(['lif1.spikes', 'lif2.sam', 'lif2.spikes']);
    expect(e.modelInfo!.methods).toEqual(['sam', 'gradcam', 'saliency']);

    await expect(e.view({ ...gradcam, target: 10 })).rejects.toThrow(/the target class is 10, not a class from 0 to 9/);
    await expect(e.view({ ...gradcam, method: 'input' as never })).rejects.toThrow(/unknown method "input"/);
    await expect(e.view({ ...gradcam, gradcamAlpha: 'mean' as never })).rejects.toThrow(/summed or per-step/);
  });

  it('shows no Grad-CAM for a flat layer, and no saliency for a flat input', async () => {
    const img = decodePng(readFileSync(imageFile), imageFile);
    const e = new Engine();
    const info = e.loadModel(mlp(true), 'mlp-flat.safetensors');
    expect(info.methods).toEqual([]);
    expect(new Engine().loadModel(mlp(false), 'mlp.safetensors').methods).toEqual(['saliency']);
    e.setImage(img.rgba, img.width, img.height, 'digit-7-0.png');
    const flat: ViewOptions = { ...view, layer: 'lif_fc1', method: 'gradcam' };
    await e.run({ timesteps: null, seed: 0, view: flat }, () => undefined);
    const v = await e.view(flat);
    expect(v.mapped).toBe(false);
    await expect(e.methodMaps(flat)).rejects.toThrow(/layer "lif_fc1" is flat/);
    await expect(e.methodMaps({ ...flat, method: 'saliency' })).rejects.toThrow(/saliency needs an image input \[C,H,W\]/);
  });

  it('attacks the run\'s image as the library\'s attack does, and explains the adversarial image', async () => {
    const e = ready();
    await expect(e.attack({ method: 'fgsm', eps: 0.1 })).rejects.toThrow(/run the model first/);
    await e.run({ timesteps: null, seed: 0, view }, () => undefined);
    await expect(e.attackMaps([view])).rejects.toThrow(/run an attack first/);
    await expect(e.attack({ method: 'fgsm', eps: 2 })).rejects.toThrow(/eps must be a number from 0 to 1/);
    await expect(e.attack({ method: 'pgd', eps: 0.1, steps: 0 })).rejects.toThrow(/steps must be an integer >= 1/);

    const x = pixels();
    for (const o of [{ method: 'fgsm' as const, eps: 0.1 }, { method: 'pgd' as const, eps: 0.1 }, { method: 'pgd' as const, eps: 0.07, steps: 3, randomStart: false }]) {
      const a = await e.attack(o);
      const r = await attack(model(), x, 1, { ...o, seed: 0, timesteps: 8 });
      const got = await e.attackArrays([]);
      expect(same(got.adversarial, r.adversarial)).toBe(true);
      expect(a.adversarial.prediction).toBe(r.attacked.predictions[0]);
      expect(a.adversarial.probability).toBe(r.attacked.probabilities[0]);
      expect(a.clean.prediction).toBe(r.clean.predictions[0]);
      expect(a.clean.probability).toBe(r.clean.probabilities[0]);
      expect(a.linf).toBe(r.linf[0]);
      expect(a.label).toBe(7);
      expect(Buffer.from(a.adversarial.picture.rgba).equals(Buffer.from(pixelsToRgba(r.adversarial, 1, 28, 28)))).toBe(true);
      expect(Buffer.from(a.clean.picture.rgba).equals(Buffer.from(pixelsToRgba(x, 1, 28, 28)))).toBe(true);
    }
    // PGD at eps 0.1 turns this 7 into something else; FGSM does not.
    expect((await e.attack({ method: 'pgd', eps: 0.1 })).adversarial.prediction).not.toBe(7);
    const r = await attack(model(), x, 1, { method: 'pgd', eps: 0.1, seed: 0, timesteps: 8 });

    const views: ViewOptions[] = [{ ...view, layer: 'lif2' }, { ...view, layer: 'lif2', method: 'gradcam' }, { ...view, method: 'saliency', target: 7 }];
    const maps = await e.attackMaps(views);
    expect(maps.map((m) => [m.method, m.layer, m.T, m.clean.length, m.adversarial.length])).toEqual([
      ['sam', 'lif2', 8, 8, 8], ['gradcam', 'lif2', 8, 8, 8], ['saliency', 'input', 1, 1, 1],
    ]);
    // 'pred' is each image's own prediction; a class is the same for both.
    expect(maps[1].targets).toEqual([7, r.attacked.predictions[0]]);
    expect(maps[2].targets).toEqual([7, 7]);
    const arrays = await e.attackArrays(views);
    const adv = { kind: 'pixels' as const, data: r.adversarial };
    const o = { seed: 0, timesteps: 8 };
    expect(same(arrays.maps[0], (await explain('sam', model(), adv, 1, { ...o, layer: 'lif2', gamma: 0.5, ncs: 'inclusive' })).maps)).toBe(true);
    expect(same(arrays.maps[1], (await explain('gradcam', model(), adv, 1, { ...o, layer: 'lif2' })).maps)).toBe(true);
    expect(same(arrays.maps[2], (await explain('saliency', model(), adv, 1, { ...o, target: 7 })).maps)).toBe(true);
    // The clean maps are the run's, over the picture at the model's input size.
    const clean = await e.view({ ...view, layer: 'lif2', method: 'gradcam' });
    expect(Buffer.from(maps[1].clean[5].rgba).equals(Buffer.from(clean.frames[5].rgba))).toBe(true);

    // A new run forgets the attack.
    await e.run({ timesteps: null, seed: 0, view }, () => undefined);
    await expect(e.attackMaps(views)).rejects.toThrow(/run an attack first/);
  });

  it('attacks a flat-input model read from a square picture', async () => {
    const img = decodePng(readFileSync(imageFile), imageFile);
    const e = new Engine();
    e.loadModel(mlp(true), 'mlp-flat.safetensors');
    e.setImage(img.rgba, img.width, img.height, 'digit-7-0.png');
    await e.run({ timesteps: null, seed: 0, view: { ...view, layer: 'lif_fc1' } }, () => undefined);
    const a = await e.attack({ method: 'fgsm', eps: 0.2 });
    expect(a.adversarial.picture.width).toBe(28);
    expect(a.linf).toBe(51);
    const maps = await e.attackMaps([{ ...view, layer: 'lif_fc1' }]);
    expect(maps[0].mapped).toBe(false);
  });
});
