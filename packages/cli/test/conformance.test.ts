import { readNpy } from '@spikelens/sam';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

/**
 * conformance/README.md: every folder with a case.json, driven from case.json alone through `spikelens run`. The repo keeps a copy
 * of the cases; ../shared/conformance, when present beside the checkout, is run too (it may hold newer cases).
 */
const shared = join(REPO, '..', 'shared');
const roots = [
  { label: 'repo', dir: join(REPO, 'conformance') },
  { label: 'shared', dir: join(shared, 'conformance') },
  // snnTorch NIR exports; cases beyond the repo's copies may appear there.
  { label: 'shared-nir', dir: join(shared, 'nir', 'snntorch') },
].filter((r) => existsSync(r.dir));
const cases = new Map<string, string>();
for (const root of roots)
  for (const name of readdirSync(root.dir).sort()) {
    const dir = join(root.dir, name);
    if (existsSync(join(dir, 'case.json'))) cases.set(`${root.label}/${name}`, dir);
  }

interface Case {
  model: string;
  input: string;
  seed?: number;
  gamma?: number;
  ncs?: string;
  readout?: string;
  /** NIR models: how to read them (preset, dt, reset, resetDelay), passed as the CLI's flags. */
  import?: Record<string, string | number | boolean>;
  expect: Record<string, string>;
}

/** `{ resetDelay: true }` -> `--reset-delay true`. */
function importFlags(c: Case): string[] {
  const flags: string[] = [];
  for (const [k, v] of Object.entries(c.import ?? {})) flags.push(`--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`, String(v));
  if (c.readout !== undefined && c.model.endsWith('.nir')) flags.push('--readout', c.readout);
  return flags;
}

function compare(name: string, actualFile: string, expectedFile: string): void {
  const a = readNpy(new Uint8Array(readFileSync(actualFile)), actualFile);
  const e = readNpy(new Uint8Array(readFileSync(expectedFile)), expectedFile);
  expect(a.shape, `${name}: shape`).toEqual(e.shape);
  if (name.endsWith('.spikes')) {
    expect(a.dtype, `${name}: dtype`).toBe(e.dtype);
    let mismatches = 0;
    for (let i = 0; i < e.data.length; i++) if (a.data[i] !== e.data[i]) mismatches++;
    expect(mismatches, `${name}: spikes that differ`).toBe(0);
    return;
  }
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.data.length; i++) {
    const x = Number(a.data[i]);
    const y = Number(e.data[i]);
    const excess = Math.abs(x - y) - Math.max(1e-5 * Math.abs(y), 1e-6);
    if (!(excess <= worst)) {
      worst = Number.isNaN(excess) ? Infinity : excess;
      at = i;
    }
  }
  expect(at, `${name}: first element out of tolerance (${at >= 0 ? `${a.data[at]} vs ${e.data[at]}` : ''})`).toBe(-1);
}

describe('conformance cases', () => {
  const temps: Array<() => void> = [];
  afterAll(() => temps.forEach((c) => c()));
  it('finds the bundled cases', () => {
    expect([...cases.keys()].filter((k) => k.startsWith('repo/')).length).toBeGreaterThanOrEqual(20);
    expect([...cases.keys()].filter((k) => k.startsWith('repo/nir-')).length).toBe(2);
  });
  for (const [label, dir] of cases) {
    it(label, async () => {
      const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
      const names = Object.keys(c.expect);
      const record = [...new Set(names.filter((n) => /\.(spikes|v)$/.test(n)).map((n) => n.replace(/\.(spikes|v)$/, '')))];
      const sam = names.filter((n) => n.endsWith('.sam')).map((n) => n.slice(0, -4));
      const { dir: out, cleanup } = tempDir();
      temps.push(cleanup);
      const argv = ['run', join(dir, c.model), '--input', join(dir, c.input), '--seed', String(c.seed ?? 0), '--out', out, '--quiet', ...importFlags(c)];
      if (record.length) argv.push('--record', record.join(','));
      if (sam.length) argv.push('--sam', sam.join(','), '--gamma', String(c.gamma ?? 0.5), '--ncs', c.ncs ?? 'inclusive');
      const r = await cli(argv);
      expect(r.err.join('\n')).toBe('');
      expect(r.code).toBe(0);
      for (const [name, file] of Object.entries(c.expect)) compare(name, join(out, `${name}.npy`), join(dir, file));
    });
  }
});
