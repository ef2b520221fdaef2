/**
 * spikelens' gradient explanations and attacks against an independent PyTorch implementation of their definitions
 * (peers/torch_explain.py: autograd with a custom atan-surrogate spike, the reset detached): on the bundled
 * mnist-lif-bptt and mnist-if-bptt and every samples/mnist digit (decoded and resized as the CLI does),
 *
 * - both networks compute the same spikes (sha256 of every spiking layer) and the same predictions;
 * - `explain('gradcam')` of both spiking layers, alpha summed and per-step, target the prediction and the runner-up
 *   class, and `explain('saliency')` for both targets equal PyTorch's maps within 1e-4 of each map's largest
 *   magnitude;
 * - `attack` FGSM at eps 0.1 gives the same adversarial image; a pixel may differ only where the loss gradient is
 *   within float noise of 0 (|g| <= 1e-4 max |g|), at most 5 per image;
 * - PGD (eps 0.1, 10 steps of eps/4, spikelens' random start reproduced in Python from docs/semantics.md §6's
 *   generator) is reported, with at most 2 % of an image's pixels allowed to differ: its later steps run on
 *   non-integer pixels, where a membrane within rounding of the threshold may fire on one side only (semantics.md §4).
 *
 * Skipped, with the reason printed, when `/usr/bin/python3 -c "import torch"` fails.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, Recorder, attack, explain, imageInput, isSpiking, parseModel, type Model } from '@spikelens/sam';
import { decodePng } from '@spikelens/sam/node';
import { TorchExplainPeer, torchAvailable } from '../src/torch-explain-peer.js';

const root = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const MODELS = ['mnist-lif-bptt', 'mnist-if-bptt'];
const DIGITS = readdirSync(root('samples/mnist')).filter((f) => f.endsWith('.png')).sort();
const TOL = 1e-4;

const info = torchAvailable();
if (!info.ok) console.log(`explain-torch.test.ts skipped: ${info.message}`);

/** max |a - b| / the largest magnitude of either map (0 when both are all zeros). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let mag = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(a[i]), Math.abs(b[i]));
  }
  return mag === 0 ? diff : diff / mag;
}

function loadModel(name: string): { model: Model; file: string } {
  const file = root(`models/${name}.safetensors`);
  return { model: parseModel(new Uint8Array(readFileSync(file)), file), file };
}

function pixelsOf(model: Model, digit: string): Float32Array {
  const file = root(`samples/mnist/${digit}`);
  const png = decodePng(new Uint8Array(readFileSync(file)), file);
  return imageInput(model, png.rgba, png.width, png.height, file);
}

/** The class with the second-highest score. */
function runnerUp(scores: ArrayLike<number>, pred: number): number {
  let best = -1;
  for (let j = 0; j < scores.length; j++) if (j !== pred && (best < 0 || scores[j] > scores[best])) best = j;
  return best;
}

const sha = (a: ArrayLike<number>): string => createHash('sha256').update(Uint8Array.from(a)).digest('hex');

describe.skipIf(!info.ok)('explanations and attacks against PyTorch (peers/torch_explain.py)', () => {
  let peer: TorchExplainPeer;
  /** Worst relative difference per case over the digits, and attack pixel counts, printed at the end. */
  const worst = new Map<string, number>();
  const attackRows: string[] = [];
  const note = (key: string, v: number): void => void worst.set(key, Math.max(worst.get(key) ?? 0, v));

  beforeAll(() => {
    peer = TorchExplainPeer.start(1); // nothing is timed here: one thread leaves the other core to the test
  });
  afterAll(() => {
    peer?.quit();
    const lines = [...worst].map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
    console.log(`explain-torch: largest difference over ${DIGITS.length} digits, relative to each map's largest magnitude (tolerance ${TOL}):\n${lines.join('\n')}`);
    if (attackRows.length) console.log(`explain-torch: attacks (eps 0.1), pixels that differ:\n${attackRows.join('\n')}`);
  });

  it("reproduces spikelens' noise stream (the PGD random start) in Python", async () => {
    const { model } = loadModel('mnist-lif-bptt');
    const px = pixelsOf(model, DIGITS[0]);
    for (const seed of [0, 7]) {
      const r = await explain('random', model, { kind: 'pixels', data: px }, 1, { seed });
      const { u } = await peer.noise(seed, 0, r.maps.length);
      expect(Array.from(r.maps)).toEqual(u);
    }
  });

  for (const name of MODELS) {
    it(`${name}: the same spikes, Grad-CAM and saliency maps`, async () => {
      const { model, file } = loadModel(name);
      await peer.load(file);
      const layers = model.layers.filter(isSpiking).map((l) => l.name);
      for (const digit of DIGITS) {
        const px = pixelsOf(model, digit);
        const input = { kind: 'pixels' as const, data: px };
        // The forward pass first: a spike that flips would make every map below differ.
        const net = await Network.create(model, {});
        const recs = layers.map((l) => new Recorder(net, l));
        recs.forEach((r) => net.observe(r));
        net.setInput(input);
        net.run(model.timesteps ?? 8);
        const fw = await peer.forward(px);
        for (const r of recs) expect(fw.spikes[r.layer], `${name} ${digit} ${r.layer} spikes`).toBe(sha(r.spikes!.data()));
        const scores = net.scores();
        net.close();
        const pred = fw.predictions[0];
        const targets: [string, number][] = [['pred', pred], ['runner-up', runnerUp(scores, pred)]];
        for (const layer of layers)
          for (const alpha of ['summed', 'per-step'] as const)
            for (const [label, c] of targets) {
              const ours = await explain('gradcam', model, input, 1, { layer, alpha, target: label === 'pred' ? 'pred' : c });
              expect(ours.targets[0]).toBe(c);
              const theirs = await peer.gradcam(px, layer, c, alpha);
              expect(theirs.shape).toEqual([ours.T, 1, ours.H, ours.W]);
              const d = relDiff(ours.maps, theirs.maps);
              note(`${name} gradcam ${layer} ${alpha} ${label}`, d);
              expect(d, `${name} ${digit} gradcam ${layer} ${alpha} target ${c}`).toBeLessThanOrEqual(TOL);
            }
        for (const [label, c] of targets) {
          const ours = await explain('saliency', model, input, 1, { target: label === 'pred' ? 'pred' : c });
          const theirs = await peer.saliency(px, c);
          const d = relDiff(ours.maps, theirs.maps);
          note(`${name} saliency ${label}`, d);
          expect(d, `${name} ${digit} saliency target ${c}`).toBeLessThanOrEqual(TOL);
        }
      }
    }, 300_000);

    it(`${name}: FGSM gives the same adversarial images (PGD reported)`, async () => {
      const { model, file } = loadModel(name);
      await peer.load(file);
      const counts: Record<string, number[]> = { fgsm: [], pgd: [] };
      for (const digit of DIGITS) {
        const px = pixelsOf(model, digit);
        for (const method of ['fgsm', 'pgd'] as const) {
          const ours = await attack(model, px, 1, { method, eps: 0.1 });
          const theirs = await peer.attack(px, { method, eps: 0.1, labels: ours.labels, randomStart: true, seed: 0, keyOffset: 0 });
          const g = theirs.gradient!;
          let gmax = 0;
          for (const v of g) gmax = Math.max(gmax, Math.abs(v));
          const differ: number[] = [];
          for (let i = 0; i < px.length; i++) if (ours.adversarial[i] !== theirs.adversarial[i]) differ.push(i);
          counts[method].push(differ.length);
          if (method === 'fgsm') {
            expect(differ.length, `${name} ${digit} FGSM: pixels that differ`).toBeLessThanOrEqual(5);
            for (const i of differ) expect(Math.abs(g[i]), `${name} ${digit} FGSM pixel ${i}: |grad| not within float noise of 0`).toBeLessThanOrEqual(1e-4 * gmax);
          } else {
            expect(differ.length, `${name} ${digit} PGD: pixels that differ`).toBeLessThanOrEqual(0.02 * px.length);
          }
        }
      }
      for (const m of ['fgsm', 'pgd'])
        attackRows.push(`  ${name} ${m}: ${counts[m].reduce((a, b) => a + b, 0)} pixels of ${DIGITS.length} x 784 differ (per digit ${counts[m].join(' ')})`);
    }, 300_000);
  }
});
