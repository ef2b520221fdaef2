import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '@spikelens/sam';
import { decodePng, loadDataset } from '@spikelens/sam/node';
import { ImageGenerator } from '@spikelens/sam/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelFromName } from '../src/commands/explain.js';
import { cli, REPO, tempDir } from './helpers.js';

/**
 * `spikelens dataset` writes the generated sets of docs/datasets.md as gray PNGs and boxes.json, the same bytes as
 * the library's generator; bad flags are refused before anything is written; train, eval and attack take the sets.
 */
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const MNIST_MODEL = join(REPO, 'models', 'mnist-lif-bptt.safetensors');

function pngs(out: string): string[] {
  return readdirSync(out).filter((f) => f.endsWith('.png')).sort();
}

/** The gray value of each pixel of a PNG (its red channel; the file is gray). */
function grayOf(file: string): Uint8Array {
  const img = decodePng(new Uint8Array(readFileSync(file)), file);
  expect([img.width, img.height]).toEqual([48, 48]);
  return Uint8Array.from({ length: 48 * 48 }, (_, i) => img.rgba[4 * i]);
}

describe('spikelens dataset', () => {
  it('writes 8-bit gray NAME-LABEL-INDEX.png files and boxes.json, the bytes and boxes of the generator', async () => {
    const out = join(dir, 'c');
    const r = await cli(['dataset', 'cluttered-mnist', '--split', 'test', '--count', '30', '--seed', '4', '--out', out, '--quiet']);
    expect(r).toMatchObject({ code: 0, err: [] });
    expect(r.out).toEqual([`wrote 30 cluttered-mnist images (test, seed 4, images 0..29) and boxes.json to ${out}`]);
    expect(readdirSync(out)).toHaveLength(31);
    const boxes = JSON.parse(readFileSync(join(out, 'boxes.json'), 'utf8'));
    expect(boxes).toMatchObject({ schema: 'spikelens.boxes/1', dataset: 'cluttered-mnist', split: 'test', seed: 4, start: 0, count: 30, size: [48, 48] });
    expect(boxes.generator).toMatch(/x0 = \(seed \+ 2 \+ 4 \* 0x9E3779B9 \* i\)/);
    expect(boxes.images).toHaveLength(30);
    const gen = new ImageGenerator(await loadDataset('mnist', 'test'), 'cluttered-mnist', 'test', 4);
    for (const [k, e] of boxes.images.entries()) {
      const img = gen.image(k);
      expect(e).toEqual({
        file: `cluttered-${img.label}-${k}.png`,
        index: k,
        label: img.label,
        boxes: [{ class: img.label, box: img.digits[0].box, source: img.digits[0].source, offset: [img.digits[0].y, img.digits[0].x] }],
        clutter: img.pieces.map((p) => [p.source, p.cropY, p.cropX, p.y, p.x]),
      });
      const bytes = readFileSync(join(out, e.file));
      // IHDR: bit depth 8, colour type 0 (gray)
      expect([bytes[24], bytes[25]]).toEqual([8, 0]);
      expect(Buffer.from(grayOf(join(out, e.file))).equals(Buffer.from(img.pixels))).toBe(true);
    }
    expect(pngs(out)).toEqual(boxes.images.map((e: { file: string }) => e.file).sort());
  });

  it('names files so that explain --target label reads the label from the name', () => {
    const model = { input: { labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] } } as unknown as Model;
    expect(labelFromName('out/cluttered-7-12.png', model, 10)).toBe(7);
    expect(labelFromName('two-digit-3-4000.png', model, 10)).toBe(3);
  });

  it('writes a slice (--start) with the same bytes as those images of the whole set', async () => {
    const whole = join(dir, 'whole');
    const slice = join(dir, 'slice');
    expect((await cli(['dataset', 'cluttered-mnist', '--split', 'train', '--count', '25', '--out', whole, '-q'])).code).toBe(0);
    expect((await cli(['dataset', 'cluttered-mnist', '--split', 'train', '--count', '5', '--start', '20', '--out', slice, '-q'])).code).toBe(0);
    const files = pngs(slice);
    expect(files.map((f) => Number(/-(\d+)\.png$/.exec(f)![1])).sort((a, b) => a - b)).toEqual([20, 21, 22, 23, 24]);
    for (const f of files) expect(readFileSync(join(slice, f)).equals(readFileSync(join(whole, f)))).toBe(true);
    const a = JSON.parse(readFileSync(join(whole, 'boxes.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(slice, 'boxes.json'), 'utf8'));
    expect(b.images).toEqual(a.images.slice(20));
    expect(b.start).toBe(20);
  });

  it('two-digit: both boxes, each with its class, the label the first digit\'s', async () => {
    const out = join(dir, 'two');
    const r = await cli(['dataset', 'two-digit', '--split', 'test', '--count', '12', '--out', out, '--json', '-q']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out[0])).toMatchObject({ dataset: 'two-digit', split: 'test', count: 12, seed: 0 });
    const boxes = JSON.parse(readFileSync(join(out, 'boxes.json'), 'utf8'));
    for (const e of boxes.images) {
      expect(e.boxes).toHaveLength(2);
      expect(e.boxes[0].class).not.toBe(e.boxes[1].class);
      expect(e.label).toBe(e.boxes[0].class);
      expect(e.boxes[0].offset[0]).toBe(0);
      expect(e.boxes[1].offset[0]).toBe(20);
      expect(e.file).toBe(`two-digit-${e.label}-${e.index}.png`);
      expect(e.clutter).toBeUndefined();
    }
  });

  it('refuses bad flags with exit 2 and one line, before writing anything', async () => {
    const out = join(dir, 'never');
    const bad: [string[], RegExp][] = [
      [[], /missing the data set/],
      [['mnist'], /unknown data set "mnist"/],
      [['cluttered-mnist', 'x'], /unexpected argument "x"/],
      [['cluttered-mnist', '--count', '5'], /missing --split/],
      [['cluttered-mnist', '--split', 'val', '--count', '5'], /--split must be one of train, test/],
      [['two-digit', '--split', 'train', '--count', '5'], /two-digit is test-only/],
      [['cluttered-mnist', '--split', 'test'], /missing --count/],
      [['cluttered-mnist', '--split', 'test', '--count', '0'], /--count must be an integer from 1/],
      [['cluttered-mnist', '--split', 'test', '--count', '2.5'], /--count must be an integer/],
      [['cluttered-mnist', '--split', 'test', '--count', '5', '--seed', '-1'], /--seed must be an integer from 0 to 4294967295/],
      [['cluttered-mnist', '--split', 'test', '--count', '5', '--start', '4294967295'], /past the last image index/],
      [['cluttered-mnist', '--split', 'test', '--count', '5', '--bogus'], /unknown option --bogus/],
      [['cluttered-mnist', '--split', 'test', '--count', '100000', '--max-output', '1M'], /more than --max-output 1 MiB/],
      [['cluttered-mnist', '--split', 'test', '--count', '4000000'], /more than --max-output 4 GiB/],
    ];
    for (const [args, message] of [...bad.map(([a, m]): [string[], RegExp] => [[...a, '--out', out], m]), [['cluttered-mnist', '--split', 'test', '--count', '5'], /missing --out/] as [string[], RegExp]]) {
      const argv = ['dataset', ...args];
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toHaveLength(1);
      expect(r.err[0]).toMatch(message);
      expect(r.err[0].length).toBeLessThan(300);
      expect(r.out).toEqual([]);
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.spikelens-staging'))).toEqual([]);
  });

  it('leaves --out as it was when the output cannot be written (exit 3)', async () => {
    const out = join(dir, 'kept');
    mkdirSync(out);
    writeFileSync(join(out, 'mine.txt'), 'keep me');
    // a folder where the first image goes: the move into place is refused, and nothing of the set stays
    mkdirSync(join(out, 'cluttered-3-0.png'));
    const r = await cli(['dataset', 'cluttered-mnist', '--split', 'test', '--count', '20', '--out', out, '-q']);
    expect(r.code).toBe(3);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/cluttered-3-0\.png: cannot write: it is a folder/);
    expect(readdirSync(out).sort()).toEqual(['cluttered-3-0.png', 'mine.txt']);
    expect(readdirSync(join(out, 'cluttered-3-0.png'))).toEqual([]);
    // --out under a file
    const r2 = await cli(['dataset', 'cluttered-mnist', '--split', 'test', '--count', '2', '--out', join(out, 'mine.txt', 'sub'), '-q']);
    expect(r2.code).toBe(3);
    expect(readFileSync(join(out, 'mine.txt'), 'utf8')).toBe('keep me');
  });

  it('has help', async () => {
    const r = await cli(['dataset', '--help']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/Usage: spikelens dataset cluttered-mnist\|two-digit/);
    expect((await cli(['--help'])).out.join('\n')).toMatch(/dataset {3}write a generated data set/);
  });
});

describe('train, eval and attack on the generated sets', () => {
  it('trains cnn-t on 48x48 cluttered MNIST, then evaluates it on two-digit and attacks it on cluttered-mnist', async () => {
    const model = join(dir, 'cl', 'm.safetensors');
    const small = ['--dataset', 'cluttered-mnist', '--arch', 'cnn-t', '--limit', '64', '--epochs', '1', '--batch', '32', '--timesteps', '2', '--eval-limit', '50', '--quiet'];
    const r = await cli(['train', ...small, '--out', model]);
    expect(r.code, r.err.join('\n')).toBe(0);
    const card = JSON.parse(readFileSync(join(dir, 'cl', 'm.json'), 'utf8'));
    expect(card).toMatchObject({ dataset: 'cluttered-mnist', arch: 'cnn-t', testImages: 50 });
    expect(card.about).toMatch(/linear 1152->10/);
    expect(card.split).toMatch(/generated with seed 0/);
    // the same command gives the same weights (the workers read the shared images)
    const again = join(dir, 'cl2', 'm.safetensors');
    expect((await cli(['train', ...small, '--out', again])).code).toBe(0);
    expect(readFileSync(model).equals(readFileSync(again))).toBe(true);

    const ev = await cli(['eval', model, '--dataset', 'two-digit', '--limit', '20', '--json', '-q']);
    expect(ev.code, ev.err.join('\n')).toBe(0);
    expect(JSON.parse(ev.out[0])).toMatchObject({ dataset: 'two-digit', images: 20 });
    const at = await cli(['attack', model, '--dataset', 'cluttered-mnist', '--method', 'fgsm', '--eps', '0,0.1', '--limit', '4', '--threads', '1', '--json', '-q']);
    expect(at.code, at.err.join('\n')).toBe(0);
    expect(JSON.parse(at.out[0])).toMatchObject({ dataset: 'cluttered-mnist', images: 4 });
  }, 180_000);

  it('refuses two-digit for training and attacks, and a 28x28 model on a 48x48 set', async () => {
    const t = await cli(['train', '--dataset', 'two-digit', '--out', join(dir, 'x.safetensors')]);
    expect(t.code).toBe(2);
    expect(t.err[0]).toMatch(/--dataset must be one of mnist, fashion-mnist, cluttered-mnist/);
    const a = await cli(['attack', MNIST_MODEL, '--dataset', 'two-digit', '--method', 'fgsm']);
    expect(a.code).toBe(2);
    const e = await cli(['eval', MNIST_MODEL, '--dataset', 'cluttered-mnist', '--limit', '5', '-q']);
    expect(e.code).toBe(3);
    expect(e.err[0]).toMatch(/takes inputs of \[1,28,28\], but cluttered-mnist images are \[1,48,48\]/);
  });
});
