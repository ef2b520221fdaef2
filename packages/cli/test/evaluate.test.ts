import { readNpy } from '@spikelens/sam';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

const MNIST = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const args = (out: string, ...more: string[]): string[] => [
  'evaluate', MNIST, '--dataset', 'mnist', '--methods', 'sam,random', '--layer', 'lif2', '--metrics', 'deletion,insertion,sensitivity',
  '--draws', '2', '--images', '6', '--batch', '2', '--out', out, '--quiet', ...more,
];
const npy = (p: string) => readNpy(new Uint8Array(readFileSync(p)), p);

describe('spikelens evaluate', () => {
  it('writes per-image rows, maps, ranks, a summary with 95 % intervals and the curves as charts', async () => {
    const out = join(dir, 'one');
    const r = await cli(args(out));
    expect(r.code, r.err.join('\n')).toBe(0);
    for (const f of ['rows.jsonl', 'images.csv', 'summary.json', 'images.npy', 'maps.sam.npy', 'ranks.sam.npy', 'deletion.png', 'insertion.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.images).toBe(6);
    expect(s.methods.sam.deletion.n).toBe(6);
    expect(s.methods.sam.deletion.mean).toBeLessThan(s.methods.random.deletion.mean);
    expect(s.curves.sam.deletion).toHaveLength(29);
    expect(npy(join(out, 'maps.sam.npy')).shape).toEqual([6, 28, 28]);
    expect(npy(join(out, 'ranks.sam.npy')).shape).toEqual([6, 784]);
    expect(npy(join(out, 'images.npy')).shape).toEqual([6, 1, 28, 28]);
    // the ranks written are the order of the maps written: highest first, lower index on ties
    const maps = npy(join(out, 'maps.sam.npy')).data as Float32Array;
    const ranks = npy(join(out, 'ranks.sam.npy')).data as Int32Array;
    for (let k = 1; k < 784; k++) {
      const a = maps[ranks[k - 1]];
      const b = maps[ranks[k]];
      expect(a > b || (a === b && ranks[k - 1] < ranks[k])).toBe(true);
    }
    const lines = readFileSync(join(out, 'images.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('index,method,label,prediction,target,deletion,insertion,sensitivity');
    expect(lines).toHaveLength(13);
  });

  it('3 shards merged give exactly the summary of one run', async () => {
    const shards = [1, 2, 3].map((k) => join(dir, `shard-${k}`));
    for (const [k, out] of shards.entries()) expect((await cli(args(out, '--shard', `${k + 1}/3`))).code).toBe(0);
    const merged = join(dir, 'merged');
    const r = await cli(['evaluate', '--merge', ...shards, '--out', merged, '--quiet']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(readFileSync(join(merged, 'summary.json'), 'utf8')).toBe(readFileSync(join(dir, 'one', 'summary.json'), 'utf8'));
    expect(readFileSync(join(merged, 'maps.sam.npy')).equals(readFileSync(join(dir, 'one', 'maps.sam.npy')))).toBe(true);
    expect(readFileSync(join(merged, 'images.csv'), 'utf8')).toBe(readFileSync(join(dir, 'one', 'images.csv'), 'utf8'));
  });

  it('a killed run resumes from the rows it had written, to the same results', async () => {
    const out = join(dir, 'resume');
    expect((await cli(args(out))).code).toBe(0);
    const want = readFileSync(join(out, 'summary.json'), 'utf8');
    // as if killed while writing the third chunk: two chunks' rows and half a line, no summary, not finished
    const rows = readFileSync(join(out, 'rows.jsonl'), 'utf8').split('\n');
    writeFileSync(join(out, 'rows.jsonl'), rows.slice(0, 8).join('\n') + '\n' + rows[8].slice(0, 20));
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    delete run.finished;
    writeFileSync(join(out, 'run.json'), JSON.stringify(run, null, 2) + '\n');
    const again = await cli(args(out));
    expect(again.code, again.err.join('\n')).toBe(0);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(want);
    expect(readFileSync(join(out, 'rows.jsonl'), 'utf8').trim().split('\n')).toHaveLength(12);
  });

  it('refuses a finished run or another evaluation in its folder unless --force', async () => {
    const out = join(dir, 'one');
    const same = await cli(args(out));
    expect(same.code).toBe(2);
    expect(same.err).toEqual([expect.stringMatching(/holds this evaluation finished: give --force/)]);
    const other = await cli([...args(out), '--seed', '3']);
    expect(other.code).toBe(2);
    expect(other.err).toEqual([expect.stringMatching(/holds another evaluation/)]);
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['a box metric on a data set without boxes', ['--dataset', 'mnist', '--methods', 'sam', '--layer', 'lif2', '--metrics', 'pointing'], /pointing needs boxes/],
    ['an unknown metric', ['--dataset', 'mnist', '--methods', 'sam', '--layer', 'lif2', '--metrics', 'iou'], /unknown metric "iou"/],
    ['an unknown method', ['--dataset', 'mnist', '--methods', 'lime', '--metrics', 'deletion'], /unknown method "lime"/],
    ['--images 0', ['--dataset', 'mnist', '--methods', 'sam', '--layer', 'lif2', '--metrics', 'deletion', '--images', '0'], /--images must be an integer from 1/],
    ['a layer the method cannot use', ['--dataset', 'mnist', '--methods', 'gradcam', '--layer', 'conv1', '--metrics', 'deletion'], /gradcam cannot use layer "conv1"/],
    ['a shard out of range', ['--dataset', 'mnist', '--methods', 'sam', '--layer', 'lif2', '--metrics', 'deletion', '--shard', '4/3'], /--shard must be K\/N/],
  ];
  for (const [what, extra, fragment] of failures)
    it(`refuses ${what}: exit 2, one line, before any work`, async () => {
      const out = join(dir, 'refused');
      const r = await cli(['evaluate', MNIST, ...extra, '--out', out, '--quiet']);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([expect.stringMatching(fragment)]);
      expect(existsSync(join(out, 'rows.jsonl'))).toBe(false);
    });
});
