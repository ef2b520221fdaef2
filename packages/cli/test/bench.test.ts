import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '@spikelens/sam';
import { cli, REPO, tempDir } from './helpers.js';

const MODEL = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
const IMAGE = join(REPO, 'samples', 'mnist', 'digit-7-0.png');

describe('spikelens bench', () => {
  it('reports runs, rates, synaptic operations and a profile of every layer (JSON), the same counts for 1 and 2 threads', async () => {
    const reports = [];
    for (const threads of ['1', '2']) {
      const r = await cli(['bench', MODEL, '--batch', '3', '--runs', '2', '--warmup', '1', '--threads', threads, '--input', IMAGE, '--json']);
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      reports.push(JSON.parse(r.out.join('\n')));
    }
    const [one, two] = reports;
    expect(one).toMatchObject({ format: 'spikelens.bench/1', model: 'mnist-lif-bptt', batch: 3, timesteps: 8, threads: 1 });
    expect(two.threads).toBe(2);
    expect(one.seconds.n).toBe(2);
    expect(one.seconds.min).toBeLessThanOrEqual(one.seconds.median);
    expect(one.seconds.median).toBeLessThanOrEqual(one.seconds.max);
    expect(one.imagesPerSecond).toBeCloseTo(3 / one.seconds.median, 6);
    expect(one.stepsPerSecond).toBeCloseTo(8 * one.imagesPerSecond, 6);
    // the image repeated three times: the counts are those of one image, and do not depend on the threads
    expect(one.sopsPerImage).toBeGreaterThan(0);
    expect(two.sopsPerImage).toBe(one.sopsPerImage);
    expect(two.firingRates).toEqual(one.firingRates);
    expect(Object.keys(one.firingRates)).toEqual(['lif1', 'lif2']);
    expect(one.layers.map((l: { name: string }) => l.name)).toEqual(['input', 'conv1', 'lif1', 'pool1', 'conv2', 'lif2', 'pool2', 'fc1', 'out']);
    const weighted = one.layers.filter((l: { sops?: number }) => l.sops !== undefined);
    expect(weighted.map((l: { name: string }) => l.name)).toEqual(['conv1', 'conv2', 'fc1']);
    // per-layer operations add up to the whole run's
    expect(weighted.reduce((a: number, l: { sops: number }) => a + l.sops, 0)).toBe(one.sopsPerImage * 3);
    expect(one.layers.reduce((a: number, l: { share: number }) => a + l.share, 0)).toBeCloseTo(1, 9);
    expect(one.ceilingGsops).toBeGreaterThan(0);
  });

  it('prints a table, and takes a .npy of pixels', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const npy = join(dir, 'x.npy');
      writeFileSync(npy, writeNpy(new Float32Array(2 * 784).fill(128), [2, 1, 28, 28]));
      const r = await cli(['bench', MODEL, '--input', npy, '--batch', '2', '--runs', '1', '--warmup', '0']);
      expect(r.code).toBe(0);
      const text = r.out.join('\n');
      expect(text).toMatch(/^mnist-lif-bptt: batch 2, 8 steps, 1 thread/);
      expect(text).toMatch(/images\/s/);
      expect(text).toMatch(/gather ceiling of this machine: [\d.]+ G SOP\/s a thread/);
      expect(text).toMatch(/\nconv2 +conv2d +[\d.]+ +[\d.]+% +[\d.]+ +\d+%/);
    } finally {
      cleanup();
    }
  });

  it('refuses other thread counts and bad inputs with one line and its exit code', async () => {
    const three = await cli(['bench', MODEL, '--threads', '3']);
    expect(three.code).toBe(2);
    expect(three.err.join('\n')).toMatch(/--threads/);
    const none = await cli(['bench']);
    expect(none.code).toBe(2);
    const { dir, cleanup } = tempDir();
    try {
      const bad = join(dir, 'bad.npy');
      writeFileSync(bad, 'not an npy');
      const r = await cli(['bench', MODEL, '--input', bad]);
      expect(r.code).toBe(3);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain('bad.npy');
    } finally {
      cleanup();
    }
  });
});
