import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

const MODEL = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
const IMAGE = join(REPO, 'samples', 'mnist', 'digit-7-0.png');

/** Every file under dir (relative path -> bytes); summary.json without its timings and with dir as "OUT". */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(join(dir, d), { withFileTypes: true })) {
      const rel = join(d, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name === 'summary.json') {
        const strip = (x: unknown): unknown =>
          Array.isArray(x) ? x.map(strip) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'seconds' && k !== 'stepsPerSecond').map(([k, v]) => [k, strip(v)])) : x;
        out.set(rel, Buffer.from(JSON.stringify(strip(JSON.parse(readFileSync(join(dir, rel), 'utf8').replaceAll(dir, 'OUT'))))));
      } else out.set(rel, readFileSync(join(dir, rel)));
    }
  };
  walk('');
  return out;
}

describe('--threads', () => {
  it('run and explain with --threads 2 write what one thread writes', async () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const threads of ['1', '2']) {
        const run = await cli(['run', MODEL, '--input', IMAGE, '--out', join(dir, `run${threads}`), '--record', 'all', '--sam', 'lif1,lif2', '--threads', threads, '--quiet']);
        expect(run.err).toEqual([]);
        expect(run.code).toBe(0);
        const ex = await cli(['explain', MODEL, IMAGE, '--layer', 'lif1,lif2', '--out', join(dir, `explain${threads}`), '--threads', threads, '--quiet']);
        expect(ex.code).toBe(0);
      }
      for (const cmd of ['run', 'explain']) {
        const one = files(join(dir, `${cmd}1`));
        const two = files(join(dir, `${cmd}2`));
        expect([...two.keys()].sort()).toEqual([...one.keys()].sort());
        expect(one.size).toBeGreaterThan(4);
        for (const [k, v] of one) expect(two.get(k)!.equals(v), `${cmd}: ${k}`).toBe(true);
      }
    } finally {
      cleanup();
    }
  }, 60_000);

  it('takes 1 or 2 only: anything else is a usage error (exit 2)', async () => {
    for (const bad of ['0', '3', 'two', '1.5']) {
      const r = await cli(['run', MODEL, '--input', IMAGE, '--out', '/tmp/never', '--threads', bad, '--quiet']);
      expect(r.code).toBe(2);
      expect(r.err.join('\n')).toContain('--threads');
    }
  });
});
