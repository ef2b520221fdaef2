import { LoadedPlan, readNpy, writeNpy } from '@spikelens/sam';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';
import { CASE_DIRS, bitDiff, npy, prepareCase } from './plan-cases.js';

/** Plan files (issue 16): compiled by the CLI, loaded and run by the core's own loader, the bits of `spikelens run`. */
describe('spikelens compile and the core\'s plan loader', () => {
  const temps: Array<() => void> = [];
  afterAll(() => temps.forEach((c) => c()));

  for (const dir of CASE_DIRS) {
    it(`runs ${dir.split('/').pop()} with the bits of spikelens run`, async () => {
      const { dir: out, cleanup } = tempDir();
      temps.push(cleanup);
      const c = await prepareCase(dir, out);
      const plan = await LoadedPlan.load(new Uint8Array(readFileSync(c.plan)), c.plan);
      const x = npy(c.input);
      const r = plan.run(c.train ? { train: x.data as Uint8Array } : (x.data as Float32Array), c.seed);
      const mine = new Map<string, ReturnType<typeof readNpy>>();
      mine.set('output.npy', { dtype: 'f4', shape: [plan.header.batch, plan.header.classes], data: r.scores } as never);
      for (const o of r.outputs) {
        const name = o.output.file;
        writeFileSync(join(out, name), writeNpy(o.data, [r.steps, plan.header.batch, ...o.output.shape]));
        mine.set(name, npy(join(out, name)));
      }
      expect([...mine.keys()].sort()).toEqual([...c.files].sort());
      for (const f of c.files) expect(bitDiff(mine.get(f)!, npy(join(c.runDir, f))), `${c.name} ${f}`).toBeNull();
    });
  }

  it('describes a plan with info, checked by the core', async () => {
    const { dir, cleanup } = tempDir();
    temps.push(cleanup);
    const plan = join(dir, 'm.slplan');
    const model = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
    let r = await cli(['compile', model, '-o', plan, '--record', 'all', '--sam', 'lif2', '--batch', '2']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    r = await cli(['info', plan]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/batch 2, 8 steps; input \[1,28,28\] direct/);
    expect(r.out.join('\n')).toMatch(/lif2\.sam\.npy\s+sam\s+\[8,2,14,14\]/);
    r = await cli(['info', plan, '--json']);
    const j = JSON.parse(r.out[0]);
    expect(j.outputs.map((o: { file: string }) => o.file)).toEqual(['lif1.spikes.npy', 'lif2.spikes.npy', 'lif2.sam.npy']);
    // a plan cut short is a bad file (exit 3), named, on one line
    const bytes = readFileSync(plan);
    writeFileSync(plan, bytes.subarray(0, bytes.length - 5));
    r = await cli(['info', plan]);
    expect(r.code).toBe(3);
    expect(r.err.length).toBe(1);
    expect(r.err[0]).toMatch(/m\.slplan: truncated/);
  });

  it('refuses what a plan cannot record', async () => {
    const model = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
    const r = await cli(['compile', model, '-o', '/tmp/never.slplan', '--record', 'input']);
    expect(r.code).toBe(2);
    expect(r.err[0]).toMatch(/--record input/);
  });
});
