import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

/**
 * Training is deterministic: the same command gives bit-identical weights (both workers included), and a run killed
 * with SIGKILL mid-epoch and resumed ends with the same weights as one that was never interrupted.
 */
const BIN = join(REPO, 'packages', 'cli', 'bin', 'spikelens.js');
const SMALL = ['--dataset', 'mnist', '--arch', 'cnn-s', '--limit', '512', '--epochs', '2', '--batch', '32', '--timesteps', '4', '--eval-limit', '100', '--quiet'];
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const hash = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('spikelens train', () => {
  it('gives the same weights twice from the same seed, and others from another seed', async () => {
    // the file name is the model's name inside it: the same name in three folders
    const a = join(dir, 'a', 'm.safetensors');
    const b = join(dir, 'b', 'm.safetensors');
    const c = join(dir, 'c', 'm.safetensors');
    // The card names the machine it was trained on, as os reports it: here a made-up one (the weights do not depend on it).
    const cpus = os.cpus();
    const fakeCpu = 'Test CPU 9000 @ 4.20GHz';
    const spies = [
      vi.spyOn(os, 'cpus').mockReturnValue(Array.from({ length: 3 }, (_, i) => ({ ...(cpus[i] ?? cpus[0]), model: fakeCpu }))),
      vi.spyOn(os, 'availableParallelism').mockReturnValue(3),
    ];
    try {
      expect((await cli(['train', ...SMALL, '--out', a])).code).toBe(0);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    expect((await cli(['train', ...SMALL, '--out', b])).code).toBe(0);
    expect((await cli(['train', ...SMALL, '--seed', '1', '--out', c])).code).toBe(0);
    expect(hash(a)).toBe(hash(b));
    expect(hash(a)).not.toBe(hash(c));
    const card = JSON.parse(readFileSync(join(dir, 'a', 'm.json'), 'utf8'));
    expect(card.testImages).toBe(100);
    // 2 epochs on 512 images already beat chance by far
    expect(card.testAccuracy).toBeGreaterThan(0.5);
    expect(card.command).toMatch(/^spikelens train --dataset mnist/);
    expect(card.machine).toBe(`${fakeCpu}, 3 cores, Node ${process.versions.node}`);
    // Without the stand-in: this machine's CPU model and core count.
    const real = JSON.parse(readFileSync(join(dir, 'b', 'm.json'), 'utf8'));
    const n = os.availableParallelism();
    expect(real.machine).toBe(`${os.cpus()[0].model.trim()}, ${n} core${n === 1 ? '' : 's'}, Node ${process.versions.node}`);
  }, 180_000);

  it('resumes a run killed with SIGKILL mid-epoch and ends with the same weights', async () => {
    const whole = join(dir, 'whole', 'm.safetensors');
    expect((await cli(['train', ...SMALL, '--out', whole])).code).toBe(0);
    const cut = join(dir, 'cut', 'm.safetensors');
    mkdirSync(join(dir, 'cut'), { recursive: true });
    const args = [BIN, 'train', ...SMALL, '--checkpoint-seconds', '0', '--out', cut];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const ckpt = `${cut}.ckpt`;
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (existsSync(ckpt)) {
          const ck = JSON.parse(readFileSync(ckpt, 'utf8'));
          // past the first epoch's first few batches, well before the end
          if (ck.epoch === 1 || ck.batch >= 6) {
            clearInterval(poll);
            child.kill('SIGKILL');
            resolve();
          }
        } else if (Date.now() - started > 120_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(new Error('no checkpoint appeared'));
        }
      }, 20);
    });
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(cut)).toBe(false);
    expect(existsSync(ckpt)).toBe(true);
    const resumed = await cli(['train', ...SMALL, '--checkpoint-seconds', '0', '--resume', '--out', cut]);
    expect(resumed.err).toEqual([]);
    expect(resumed.code).toBe(0);
    expect(hash(cut)).toBe(hash(whole));
    expect(existsSync(ckpt)).toBe(false);
  }, 240_000);

  it('converts a trained ReLU network into IF neurons that still classify', async () => {
    const out = join(dir, 'conv', 'm.safetensors');
    const r = await cli(['train', ...SMALL.filter((a, i, all) => a !== '--timesteps' && all[i - 1] !== '--timesteps'), '--method', 'convert', '--timesteps', '24', '--out', out]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const card = JSON.parse(readFileSync(join(dir, 'conv', 'm.json'), 'utf8'));
    expect(card.method).toBe('convert');
    expect(card.neuron).toBe('if');
    expect(Object.keys(card.conversionScales)).toEqual(['relu1', 'relu2']);
    expect(card.testAccuracy).toBeGreaterThan(0.5);
    const info = await cli(['info', out, '--json']);
    const ops = JSON.parse(info.out[0]).layers.map((l: { op: string }) => l.op);
    expect(ops).toEqual(['conv2d', 'if', 'avgpool2d', 'conv2d', 'if', 'avgpool2d', 'flatten', 'linear', 'li']);
  }, 180_000);

  it('refuses unknown options and a batch that does not split over the workers', async () => {
    const r = await cli(['train', '--dataset', 'mnist', '--batch', '33', '--out', join(dir, 'x.safetensors'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/--batch 33/);
    const u = await cli(['train', '--dataset', 'cifar', '--out', join(dir, 'x.safetensors')]);
    expect(u.code).toBe(2);
    expect(u.err[0]).toMatch(/--dataset/);
  });
});
