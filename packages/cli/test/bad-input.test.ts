import { writeNpy } from '@spikelens/sam';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { c01Bytes, c01Parts, c01With, cli, container, REPO, tempDir } from './helpers.js';

/**
 * docs/cli.md: each bad input gets its exit code and exactly one line on stderr naming the file and the problem, and
 * leaves no output behind.
 */
const C01 = join(REPO, 'conformance', 'c01-lif-subtract');
const DIGIT = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function expectFailure(argv: string[], code: number, ...fragments: (string | RegExp)[]): Promise<void> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = await cli([...argv, '--out', out, '--quiet']);
  expect(r.code, r.err.join('\n')).toBe(code);
  expect(r.err).toHaveLength(1);
  expect(r.err[0]).not.toMatch(/\n|at .*\(.*:\d+:\d+\)/);
  for (const f of fragments) expect(r.err[0]).toMatch(f);
  expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
}

const input = join(C01, 'input.npy');
const runModel = (model: string, ...rest: string[]): string[] => ['run', model, '--input', input, ...rest];

describe('bad model files: exit 3, one line naming the file', () => {
  it('truncated safetensors', async () => {
    const b = c01Bytes();
    for (const cut of [4, 20, b.length - 100]) {
      const m = file(`trunc-${cut}.safetensors`, b.subarray(0, cut));
      await expectFailure(runModel(m), 3, m);
    }
  });
  it('a header length larger than the file', async () => {
    const b = c01Bytes().slice();
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length + 10), true);
    const m = file('hdr-long.safetensors', b);
    await expectFailure(runModel(m), 3, m, /header/);
  });
  it('a header length of 2^60', async () => {
    const b = c01Bytes().slice();
    new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true);
    const m = file('hdr-huge.safetensors', b);
    await expectFailure(runModel(m), 3, m, /header/);
  });
  it('overlapping tensor offsets', async () => {
    const { header, data } = c01Parts();
    header['conv2.weight'].data_offsets = [100, 100 + 4608];
    const m = file('overlap.safetensors', container(header, data));
    await expectFailure(runModel(m), 3, m, /overlap/);
  });
  it('out-of-range tensor offsets', async () => {
    const { header, data } = c01Parts();
    header['fc.weight'].data_offsets = [4896, 4896 + 23040 + 4];
    header['fc.weight'].shape = [10, 577];
    const m = file('range.safetensors', container(header, data));
    await expectFailure(runModel(m), 3, m);
  });
  it('a wrong dtype', async () => {
    const m = file('dtype.safetensors', c01With((_, t) => {
      const w = t.find((x) => x.name === 'conv1.weight');
      w.dtype = 'I32';
      w.data = new Int32Array(72);
    }));
    await expectFailure(runModel(m), 3, m, /conv1/, /dtype|I32|F32/i);
  });
  it('a weight shape that does not fit the graph', async () => {
    const m = file('shape.safetensors', c01With((_, t) => {
      const w = t.find((x) => x.name === 'conv2.weight');
      w.shape = [16, 4, 3, 3];
      w.data = new Float32Array(16 * 4 * 9);
    }));
    await expectFailure(runModel(m), 3, m, /conv2/, /shape/);
  });
  it('a NaN weight', async () => {
    const m = file('nan.safetensors', c01With((_, t) => {
      t.find((x) => x.name === 'fc.weight').data[17] = NaN;
    }));
    await expectFailure(runModel(m), 3, m, /fc/, /17/);
  });
  it('an unknown op', async () => {
    const m = file('op.safetensors', c01With((g) => (g.layers[2].op = 'softmax')));
    await expectFailure(runModel(m), 3, m, /softmax/);
  });
  it('an unknown field', async () => {
    const m = file('field.safetensors', c01With((g) => (g.layers[1].tau = 2)));
    await expectFailure(runModel(m), 3, m, /lif1/, /tau/);
  });
  it('a per-step affine with fewer rows than the run', async () => {
    const m = file('affine.safetensors', c01With((g, t) => {
      g.layers.splice(1, 0, { name: 'bn1', op: 'affine', scale: 'bn1.scale', shift: 'bn1.shift' });
      t.push({ name: 'bn1.scale', dtype: 'F32', shape: [10, 8], data: new Float32Array(80).fill(1) });
      t.push({ name: 'bn1.shift', dtype: 'F32', shape: [10, 8], data: new Float32Array(80) });
    }));
    await expectFailure(runModel(m), 3, m, /bn1/, /10/, /20/);
  });
  it('a model that is not a safetensors file at all', async () => {
    const m = file('text.safetensors', 'hello, world');
    await expectFailure(runModel(m), 3, m);
  });
  it('a missing model file', async () => {
    const m = join(dir, 'nope.safetensors');
    await expectFailure(runModel(m), 3, m, /no such file/);
  });
});

describe('bad inputs: exit 3, one line naming the file', () => {
  const model = join(C01, 'model.safetensors');
  it('a .npy with a bad header', async () => {
    const good = new Uint8Array(readFileSync(input));
    const bad = good.slice();
    bad.set(new TextEncoder().encode("{'descr': 'oops'"), 10);
    const f = file('bad-header.npy', bad);
    await expectFailure(['run', model, '--input', f], 3, f);
    const magic = good.slice();
    magic[1] = 0x41;
    const g = file('bad-magic.npy', magic);
    await expectFailure(['run', model, '--input', g], 3, g);
  });
  it('a .npy whose shape does not fit the model', async () => {
    const f = file('shape.npy', writeNpy(new Uint8Array(20 * 28 * 28), [20, 1, 28, 28]));
    await expectFailure(['run', model, '--input', f], 3, f, /\[20,1,28,28\]/);
  });
  it('NaN pixels', async () => {
    const px = new Float32Array(784);
    px[5] = NaN;
    const f = file('nan.npy', writeNpy(px, [1, 1, 28, 28]));
    await expectFailure(['run', model, '--input', f], 3, f, /element 5/);
  });
  it('a corrupt PNG', async () => {
    const png = new Uint8Array(readFileSync(DIGIT));
    const f = file('corrupt.png', png.subarray(0, png.length - 30));
    await expectFailure(['run', model, '--input', f], 3, f, /PNG/);
    const g = file('garbage.png', 'not a png');
    await expectFailure(['run', model, '--input', g], 3, g, /PNG/);
  });
  it('a missing input file', async () => {
    const f = join(dir, 'missing.npy');
    await expectFailure(['run', model, '--input', f], 3, f, /no such file/);
  });
  it('an unsupported input extension', async () => {
    const f = file('input.txt', 'x');
    await expectFailure(['run', model, '--input', f], 3, f);
  });
});

describe('unwritable output: exit 3', () => {
  it('--out under a regular file', async () => {
    const blocker = file('blocker', 'x');
    const out = join(blocker, 'sub');
    const r = await cli(['run', join(C01, 'model.safetensors'), '--input', input, '--out', out, '--quiet']);
    expect(r.code).toBe(3);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(out);
  });
});

describe('usage errors: exit 2 and a pointer to --help', () => {
  const model = join(C01, 'model.safetensors');
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown command', ['frobnicate'], /unknown command/],
    ['an unknown flag', runModel(model, '--frob'), /--frob/],
    ['a bad --ncs', runModel(model, '--sam', 'lif1', '--ncs', 'sometimes'), /--ncs/],
    ['a bad --gamma', runModel(model, '--sam', 'lif1', '--gamma', 'NaN'), /--gamma/],
    ['a negative --gamma', runModel(model, '--sam', 'lif1', '--gamma', '-1'), /--gamma must be a number >= 0, not "-1"/],
    ['a --record name the model lacks', runModel(model, '--record', 'lif9'), /lif9/],
    ['--sam on a flat layer', runModel(model, '--sam', 'lif3'), /lif3/],
    ['--sam on a non-spiking layer', runModel(model, '--sam', 'conv1'), /conv1/],
    ['--timesteps with a spike train', runModel(model, '--timesteps', '5'), /timesteps/],
    ['a missing --input', ['run', model], /--input/],
  ];
  for (const [what, argv, fragment] of cases)
    it(what, async () => {
      await expectFailure(argv, 2, fragment, /--help/);
    });
});

describe('outputs', () => {
  it('are complete, with no temporary files left, and replace older ones', async () => {
    const out = join(dir, 'good');
    const args = ['run', join(C01, 'model.safetensors'), '--input', input, '--record', 'all', '--sam', 'lif1', '--out', out, '--quiet'];
    expect((await cli(args)).code).toBe(0);
    const first = readdirSync(out).sort();
    expect(first).toEqual([
      'input.spikes.npy', 'lif1.sam.npy', 'lif1.spikes.npy', 'lif1.v.npy', 'lif2.spikes.npy', 'lif2.v.npy',
      'lif3.spikes.npy', 'lif3.v.npy', 'output.npy', 'summary.json',
    ]);
    copyFileSync(join(out, 'output.npy'), join(out, 'keep.npy'));
    writeFileSync(join(out, 'output.npy'), 'stale');
    expect((await cli(args)).code).toBe(0);
    expect(readFileSync(join(out, 'output.npy'))).toEqual(readFileSync(join(out, 'keep.npy')));
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });
  it('summary.json has the fields docs/outputs.md names', async () => {
    const out = join(dir, 'summary');
    const r = await cli(['run', join(C01, 'model.safetensors'), '--input', input, '--out', out, '--json', '--quiet']);
    expect(r.code).toBe(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(JSON.parse(r.out[0])).toEqual(s);
    expect(s.predictions).toEqual([expect.any(Number)]);
    expect(Object.keys(s.firingRates)).toEqual(['lif1', 'lif2', 'lif3']);
    expect(s.firingRates.lif1).toBeGreaterThan(0);
    expect(s.firingRates.lif1).toBeLessThan(1);
    expect(s.sopsPerImage).toBeGreaterThan(0);
    expect(s.seconds).toBeGreaterThan(0);
  });
});

describe('help', () => {
  for (const cmd of ['run', 'explain', 'info'])
    it(`${cmd} --help`, async () => {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.out.join('\n')).toMatch(new RegExp(`Usage: spikelens ${cmd}`));
    });
  it('no arguments is a usage error: one line and a pointer to --help', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/--help/);
  });
  it('--help lists the commands', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/Commands:/);
  });
});
