import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryInput, parseModel, simulate } from '@spikelens/sam';
import { describe, expect, it } from 'vitest';
import { REPO, cli } from './helpers.js';

const MODEL = join(REPO, 'models', 'mnist-lif-bptt.safetensors');

describe('spikelens info --footprint', () => {
  it('gives the arena that `run` with the same options lays out, before anything runs', async () => {
    const model = parseModel(new Uint8Array(readFileSync(MODEL)), MODEL);
    for (const [batch, sam, threads] of [[1, [], 1], [3, ['lif1', 'lif2'], 1], [2, ['lif2'], 2]] as const) {
      const r = await cli(['info', MODEL, '--footprint', '--json', '--batch', String(batch), '--threads', String(threads), ...(sam.length ? ['--sam', sam.join(',')] : [])]);
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      const fp = JSON.parse(r.out[0]);
      // what simulate (the one run path of `run` and `explain`) lays out for the same samples
      const pixels = new Float32Array(batch * 28 * 28).fill(128);
      const result = await simulate({ model, source: memoryInput({ kind: 'pixels', data: pixels }, batch), sam: [...sam], threads, chunk: batch });
      expect(fp.arena, `batch ${batch}, sam ${sam}, ${threads} threads`).toBe(result.net.arena.size);
      expect(fp.memory).toBe(result.net.core.heapBase + result.net.arena.size);
      expect(fp.batch).toBe(batch);
      expect(Object.keys(fp.parts)).toEqual(['weights', 'state', 'sam', 'windows', 'scratch', 'program', 'io']);
      expect(fp.core.build).toBe(threads === 2 ? 'core-threads.wasm' : 'core.wasm');
    }
  }, 60_000);

  it('prints a table of the parts, the arena, the core static memory and the memory', async () => {
    const r = await cli(['info', MODEL, '--footprint', '--sam', 'lif1', '--record', 'all', '--timesteps', '20']);
    expect(r.code).toBe(0);
    const json = JSON.parse((await cli(['info', MODEL, '--footprint', '--sam', 'lif1', '--record', 'all', '--timesteps', '20', '--json'])).out[0]);
    expect(r.out[0]).toBe('footprint of mnist-lif-bptt at batch 1, 20 steps (windows of 8 frames), 1 thread');
    const row = (label: string): number => {
      const line = r.out.find((l) => l.startsWith(label));
      expect(line, label).toBeDefined();
      return Number(line!.slice(label.length).trim().split(/\s+/)[0]);
    };
    expect(row('weights (packed, value tables, parameters)')).toBe(json.parts.weights);
    expect(row('neuron state')).toBe(json.parts.state);
    expect(row('SAM traces and maps')).toBe(json.parts.sam);
    expect(row('activations (windows)')).toBe(json.parts.windows);
    expect(row('arena')).toBe(json.arena);
    expect(row('core static (core.wasm, below the arena)')).toBe(json.core.heapBase);
    expect(row('memory')).toBe(json.memory);
    expect(r.out.some((l) => /^the core keeps 256 KiB of static list scratch below its heap base/.test(l))).toBe(true);
    expect(r.out.at(-1)).toMatch(/^outputs of 20 steps, kept by the host outside this memory: /);
    expect(json.outputs.record).toBeGreaterThan(0);
  });

  it('gives the figures docs/embedding.md shows for the bundled MNIST models', async () => {
    const doc = readFileSync(join(REPO, 'docs', 'embedding.md'), 'utf8').split('\n');
    const n = (x: number): string => x.toLocaleString('en-US');
    let checked = 0;
    let name = '';
    for (const line of doc) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.length !== 12 || !/^(`mnist-[a-z-]+`)?$/.test(cells[0]) || !/^\d+$/.test(cells[2])) continue;
      if (cells[0]) name = cells[0].slice(1, -1);
      const r = await cli(['info', join(REPO, 'models', `${name}.safetensors`), '--footprint', '--json', '--block-steps', cells[2]]);
      const f = JSON.parse(r.out[0]);
      const p = f.parts;
      const want = [cells[0] ? `\`${name}\`` : '', cells[0] ? String(f.timesteps) : '', String(f.frames), n(p.weights), n(p.state), `**${n(p.weights + p.state)}**`,
        n(p.windows), n(p.scratch), n(p.io + p.program + f.padding), n(f.staging), `**${n(f.arena)}**`, `${n(f.memory)} (${f.pages})`];
      expect(cells, `${name} at ${cells[2]} frames`).toEqual(want);
      checked++;
    }
    expect(checked).toBe(7);
  }, 60_000);

  it('refuses its options without --footprint, and what a run would refuse', async () => {
    let r = await cli(['info', MODEL, '--batch', '2']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/--batch applies with --footprint only/);
    r = await cli(['info', MODEL, '--timesteps', '4']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/--timesteps applies to \.nir models only/);
    r = await cli(['info', MODEL, '--footprint', '--sam', 'fc1']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/--sam: layer "fc1" \(linear\) is not a spiking layer/);
    r = await cli(['info', MODEL, '--footprint', '--record', 'all,lif1']);
    expect(r.code).toBe(2);
    r = await cli(['info', MODEL, '--footprint', '--batch', '0']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/--batch must be an integer from 1 to/);
  });
});
