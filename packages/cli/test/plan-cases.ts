import { readNpy, readNpyHeader, type NpyArray } from '@spikelens/sam';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cli, REPO } from './helpers.js';

/**
 * The conformance cases as plans (issue 16): each compiled with `spikelens compile` for its input's batch and run
 * length, recording the spikes and maps the case expects, beside the outputs of `spikelens run` on the same input.
 */
export interface PlanCase {
  readonly name: string;
  readonly dir: string;
  readonly plan: string;
  readonly input: string;
  readonly seed: number;
  readonly train: boolean;
  /** `spikelens run`'s outputs that the plan also writes: output.npy, <layer>.spikes.npy, <layer>.sam.npy. */
  readonly files: readonly string[];
  readonly runDir: string;
}

interface Case {
  model: string;
  input: string;
  seed?: number;
  gamma?: number;
  ncs?: string;
  readout?: string;
  import?: Record<string, string | number | boolean>;
  expect: Record<string, string>;
}

export const CASE_DIRS: readonly string[] = readdirSync(join(REPO, 'conformance'))
  .sort()
  .map((n) => join(REPO, 'conformance', n))
  .filter((d) => existsSync(join(d, 'case.json')));

/** Compiles case `dir` into `out`/plan.slplan and runs it with `spikelens run` into `out`/run. */
export async function prepareCase(dir: string, out: string): Promise<PlanCase> {
  const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Case;
  const names = Object.keys(c.expect);
  const input = join(dir, c.input);
  const bytes = new Uint8Array(readFileSync(input));
  const header = readNpyHeader(bytes, bytes.length, input);
  const model = join(dir, c.model);
  const flags: string[] = [];
  for (const [k, v] of Object.entries(c.import ?? {})) flags.push(`--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`, String(v));
  if (c.readout !== undefined && c.model.endsWith('.nir')) flags.push('--readout', c.readout);
  const info = await cli(['info', model, '--json', ...flags]);
  if (info.code !== 0) throw new Error(info.err.join('\n'));
  const inputRank = (JSON.parse(info.out[0]) as { input: { shape: number[] } }).input.shape.length;
  const train = header.dtype !== 'f4' || header.shape.length === inputRank + 2;
  const batch = train ? header.shape[1] : header.shape[0];
  // a plan records spikes and maps; the case's membranes (.v) and li layers are run's alone
  const layers = (JSON.parse(info.out[0]) as { layers: { name: string; op: string }[] }).layers;
  const spiking = new Set(layers.filter((l) => ['lif', 'if', 'cubalif'].includes(l.op)).map((l) => l.name));
  const record = [...new Set(names.filter((n) => n.endsWith('.spikes')).map((n) => n.slice(0, -7)))].filter((n) => spiking.has(n) || (n === 'input' && !train));
  const sam = names.filter((n) => n.endsWith('.sam')).map((n) => n.slice(0, -4));
  const plan = join(out, 'plan.slplan');
  const argv = ['compile', model, '-o', plan, '--batch', String(batch), '--seed', String(c.seed ?? 0), ...flags];
  if (train) argv.push('--timesteps', String(header.shape[0]));
  if (record.length) argv.push('--record', record.join(','));
  if (sam.length) argv.push('--sam', sam.join(','), '--gamma', String(c.gamma ?? 0.5), '--ncs', c.ncs ?? 'inclusive');
  const r = await cli(argv);
  if (r.code !== 0) throw new Error(`compile: ${r.err.join('\n')}`);
  const runDir = join(out, 'run');
  const run = ['run', model, '--input', input, '--seed', String(c.seed ?? 0), '--out', runDir, '--quiet', ...flags];
  if (record.length) run.push('--record', record.join(','));
  if (sam.length) run.push('--sam', sam.join(','), '--gamma', String(c.gamma ?? 0.5), '--ncs', c.ncs ?? 'inclusive');
  const rr = await cli(run);
  if (rr.code !== 0) throw new Error(`run: ${rr.err.join('\n')}`);
  const files = ['output.npy', ...record.map((l) => `${l}.spikes.npy`), ...sam.map((l) => `${l}.sam.npy`)];
  return { name: dir.split('/').pop()!, dir, plan, input, seed: c.seed ?? 0, train, files, runDir };
}

export function npy(file: string): NpyArray {
  return readNpy(new Uint8Array(readFileSync(file)), file);
}

/** The first difference between two arrays, bit for bit (dtype, shape, every element's bits), or null. */
export function bitDiff(a: NpyArray, b: NpyArray): string | null {
  if (a.dtype !== b.dtype) return `dtype ${a.dtype} vs ${b.dtype}`;
  if (a.shape.join() !== b.shape.join()) return `shape [${a.shape}] vs [${b.shape}]`;
  for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) return `element ${i}: ${a.data[i]} vs ${b.data[i]}`;
  return null;
}
