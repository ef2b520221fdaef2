import { writeNpy } from '@spikelens/sam';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../src/args.js';
import { c01Parts, c01With, cli, REPO, tempDir } from './helpers.js';

/**
 * The defects of the hardening issue, one class each: every bad input gets its exit code and one short line, in
 * bounded time and memory, and leaves --out as it was. Each test failed before its fix.
 */
const C01 = join(REPO, 'conformance', 'c01-lif-subtract');
const C01_MODEL = join(C01, 'model.safetensors');
const C01_INPUT = join(C01, 'input.npy');
const MNIST = join(REPO, 'models', 'mnist-lif-bptt.safetensors');
const DIGIT = join(REPO, 'samples', 'mnist', 'digit-7-0.png');
const BIN = join(REPO, 'packages', 'cli', 'bin', 'spikelens.js');

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** One line under 300 characters, no stack, the given code, within `ms`; `--out` (fresh) left absent. */
async function refused(argv: string[], code: number, ms: number, ...fragments: (string | RegExp)[]): Promise<string> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const start = performance.now();
  const r = await cli([...argv, ...(argv[0] === 'info' ? [] : ['--out', out, '--quiet'])]);
  const took = performance.now() - start;
  expect(r.code, r.err.join('\n')).toBe(code);
  expect(r.err).toHaveLength(1);
  expect(r.err[0].length).toBeLessThan(300);
  expect(r.err[0]).not.toMatch(/\n|at .*\(.*:\d+:\d+\)|internal error/);
  for (const f of fragments) expect(r.err[0]).toMatch(f);
  expect(existsSync(out)).toBe(false);
  expect(took).toBeLessThan(ms);
  return r.err[0];
}

/** A JSON text nested `depth` arrays deep. */
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('1. deep or huge structures give one short line', () => {
  it('a safetensors header nested 10,000 and 1,000 deep', async () => {
    const { data } = c01Parts();
    for (const depth of [10_000, 1_000]) {
      const h = new TextEncoder().encode(`{"x": ${nested(depth)}}`);
      const bytes = new Uint8Array(8 + h.length + data.length);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
      bytes.set(h, 8);
      bytes.set(data, 8 + h.length);
      const m = file(`deep-${depth}.safetensors`, bytes);
      await refused(['run', m, '--input', C01_INPUT], 3, 20_000, m, /nests more than 64 levels/);
    }
  });
  it('a model graph nested deep inside __metadata__', async () => {
    const m = file('deep-graph.safetensors', c01With((g) => (g.meta = JSON.parse(nested(500)))));
    await refused(['info', m], 3, 20_000, m, /nests more than 64 levels/);
  });
  it('an .npy with 3,000 dimensions', async () => {
    const dims = Array(3000).fill('1').join(', ');
    const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${dims}), }`;
    const header = new Uint8Array(10 + dict.length + 1);
    header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(header.buffer).setUint16(8, dict.length + 1, true);
    header.set(new TextEncoder().encode(dict + '\n'), 10);
    const f = file('rank3000.npy', new Uint8Array([...header, 1]));
    await refused(['run', C01_MODEL, '--input', f], 3, 20_000, f, /more than 32 dimensions/);
  });
});

describe('2, 3, 7. sizes a small file asks for are checked before anything is built', () => {
  it("a graph's timesteps of 1e6 or 2^53-1", async () => {
    for (const T of [1e6, 2 ** 53 - 1]) {
      const m = file(`T-${T}.safetensors`, c01With((g) => (g.timesteps = T)));
      await refused(['info', m], 3, 20_000, m, /timesteps/, /100000/);
    }
  });
  it('an input shape of [2000000000] with an affine layer (info and run)', async () => {
    const m = file('wide.safetensors', c01With((g) => {
      g.input.shape = [2_000_000_000];
      g.layers = [{ name: 'a', op: 'affine', scale: 1, shift: 0 }, { name: 'out', op: 'li' }];
    }));
    await refused(['info', m], 3, 20_000, m, /input/, /shape/, /16777216/);
    await refused(['run', m, '--input', C01_INPUT], 3, 20_000, m, /16777216/);
  });
  it('a conv padded by [1000, 1000]', async () => {
    const m = file('pad.safetensors', c01With((g) => (g.layers[0].padding = [1000, 1000])));
    await refused(['run', m, '--input', C01_INPUT], 3, 20_000, m, /conv1/, /16777216/);
  });
});

describe('6, 16. files and folders that are not what they should be', () => {
  it('info /dev/zero is refused at once', async () => {
    await refused(['info', '/dev/zero'], 3, 5_000, '/dev/zero', /not a regular file/);
  });
  it('--out /proc/nope and --out /dev/null are refused at once', async () => {
    for (const out of ['/proc/nope', '/dev/null']) {
      const r = await cli(['run', C01_MODEL, '--input', C01_INPUT, '--out', out, '--quiet']);
      expect(r.code).toBe(3);
      expect(r.err).toEqual([expect.stringMatching(new RegExp(`${out}: cannot write output here`))]);
    }
  });
  it('a PNG given as a model says what it is', async () => {
    await refused(['info', DIGIT], 3, 5_000, /not a safetensors model \(it is a PNG image\)/);
  });
});

describe('8. a failed command leaves --out as it was', () => {
  it('--record or --layer naming a layer twice is a usage error', async () => {
    await refused(['run', C01_MODEL, '--input', C01_INPUT, '--record', 'lif1,lif1'], 2, 5_000, /--record names "lif1" twice/);
    await refused(['explain', C01_MODEL, DIGIT, '--layer', 'lif1,lif1'], 2, 5_000, /--layer names "lif1" twice/);
  });
  it('explain with a good image then a bad one writes nothing, and keeps what was there', async () => {
    const bad = file('bad.png', 'not a png');
    await refused(['explain', MNIST, DIGIT, bad, '--layer', 'lif1'], 3, 20_000, bad);
    const out = join(dir, 'kept');
    mkdirSync(out);
    writeFileSync(join(out, 'mine.txt'), 'keep me');
    const r = await cli(['explain', MNIST, DIGIT, bad, '--layer', 'lif1', '--out', out, '--quiet']);
    expect(r.code).toBe(3);
    expect(readdirSync(out)).toEqual(['mine.txt']);
  });
});

describe('10. numbers beyond float32', () => {
  it('a beta of 1e308 is refused', async () => {
    const m = file('beta.safetensors', c01With((g) => (g.layers[1].beta = 1e308)));
    await refused(['info', m], 3, 5_000, m, /lif1/, /beta/, /float32/);
  });
  it('weights of 3e38 run into infinite membranes: exit 3, nothing written', async () => {
    const m = file('huge-w.safetensors', c01With((_, t) => t.find((x) => x.name === 'fc.weight').data.fill(3e38)));
    await refused(['run', m, '--input', C01_INPUT, '--record', 'lif3'], 3, 20_000, m, /lif3/, /Infinity|NaN/, /float32/);
  });
});

describe('11. enormous valid requests have a stated limit', () => {
  it('--record all --timesteps 100000 is over --max-output', async () => {
    await refused(['run', MNIST, '--input', DIGIT, '--record', 'all', '--timesteps', '100000'], 2, 5_000, /--max-output/);
  });
  it('a 16384x4096 PNG is refused from its header', async () => {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, 16384);
    v.setUint32(4, 4096);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const chunk = (type: string, data: Uint8Array): Uint8Array => {
      const c = new Uint8Array(12 + data.length);
      new DataView(c.buffer).setUint32(0, data.length);
      c.set(new TextEncoder().encode(type), 4);
      c.set(data, 8);
      return c;
    };
    const png = new Uint8Array([
      ...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      ...chunk('IHDR', ihdr),
      ...chunk('IDAT', deflateSync(new Uint8Array(1000))),
      ...chunk('IEND', new Uint8Array(0)),
    ]);
    const f = file('huge.png', png);
    await refused(['explain', MNIST, f, '--layer', 'lif1'], 3, 5_000, f, /16384x4096 is too large/);
  });
});

describe('12. large inputs stream in chunks, with the outputs of one batch', () => {
  it('run in chunks of 7 gives the bytes of one batch of 40', async () => {
    const px = new Float32Array(40 * 784);
    for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) % 256;
    const f = file('batch40.npy', writeNpy(px, [40, 1, 28, 28]));
    const outs: string[] = [];
    for (const batch of ['40', '7']) {
      const out = join(dir, `stream-${batch}`);
      outs.push(out);
      const r = await cli(['run', MNIST, '--input', f, '--record', 'all', '--sam', 'lif1,lif2', '--batch', batch, '--out', out, '--quiet']);
      expect(r.code, r.err.join('\n')).toBe(0);
    }
    const files = readdirSync(outs[0]).sort();
    expect(readdirSync(outs[1]).sort()).toEqual(files);
    expect(files).toContain('lif1.sam.npy');
    for (const name of files) {
      if (name === 'summary.json') {
        const [a, b] = outs.map((o) => ({ ...JSON.parse(readFileSync(join(o, name), 'utf8')), seconds: 0 }));
        expect(b).toEqual(a);
      } else expect(readFileSync(join(outs[1], name)).equals(readFileSync(join(outs[0], name))), name).toBe(true);
    }
  });
});

describe('13. a closed stdout ends the command quietly', () => {
  it('spikelens info MODEL | true', () => {
    const r = spawnSync('bash', ['-c', `node ${BIN} info ${MNIST} | true; echo "exit=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8' });
    expect(r.stderr.trim()).toBe('exit=0');
  });
});

describe('14. options in our words', () => {
  const opts = { 'reset-delay': { type: 'boolean' as const }, out: { type: 'string' as const, short: 'o' }, gamma: { type: 'string' as const } };
  it('switches stand alone, take --no- and =true|false; values take the next argument or =', () => {
    expect(parse(['--reset-delay'], opts).values['reset-delay']).toBe(true);
    expect(parse(['--no-reset-delay'], opts).values['reset-delay']).toBe(false);
    expect(parse(['--reset-delay=false'], opts).values['reset-delay']).toBe(false);
    expect(parse(['--reset-delay', 'true', 'm'], opts)).toEqual({ values: { 'reset-delay': true }, positionals: ['m'] });
    expect(parse(['--gamma', '-1', '--out=x'], opts).values).toEqual({ gamma: '-1', out: 'x' });
    expect(parse(['-o', 'x', '--', '--gamma'], opts)).toEqual({ values: { out: 'x' }, positionals: ['--gamma'] });
  });
  it('every problem names the option', () => {
    const msg = (argv: string[]): string => {
      try {
        parse(argv, opts);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(msg(['--out'])).toBe('--out needs a value');
    expect(msg(['--out', '--gamma', '1'])).toBe('--out needs a value');
    expect(msg(['--frob'])).toBe('unknown option --frob');
    expect(msg(['-x'])).toBe('unknown option -x');
    expect(msg(['--reset-delay=maybe'])).toMatch(/^--reset-delay is a switch/);
    expect(msg(['--gamma', '1', '--gamma', '2'])).toBe('--gamma is given twice');
  });
  it('--reset-delay without a value works on the command line (the README form)', async () => {
    const nir = join(dir, 'mnist.nir');
    expect((await cli(['convert', MNIST, '-o', nir])).code).toBe(0);
    const r = await cli(['info', nir, '--preset', 'snntorch', '--reset-delay']);
    expect(r.code, r.err.join('\n')).toBe(0);
  });
});

describe('warnings of a command that then fails', () => {
  it('are not printed: the failure is one line', async () => {
    const nir = join(dir, 'warn.nir');
    expect((await cli(['convert', MNIST, '-o', nir])).code).toBe(0);
    const ok = await cli(['info', nir, '--preset', 'norse']);
    expect(ok.code).toBe(0);
    expect(ok.err.some((l) => l.startsWith('warning: '))).toBe(true);
    await refused(['run', nir, '--preset', 'norse', '--input', join(dir, 'missing.npy')], 3, 20_000, /missing\.npy: cannot read/);
  });
});

describe('15. eval of a .nir model takes --timesteps', () => {
  it('spikelens eval model.nir --timesteps 4', async () => {
    const nir = join(dir, 'eval.nir');
    expect((await cli(['convert', MNIST, '-o', nir])).code).toBe(0);
    const r = await cli(['eval', nir, '--dataset', 'mnist', '--limit', '20', '--timesteps', '4', '--quiet', '--json']);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(JSON.parse(r.out[0]).images).toBe(20);
  });
});

describe('a model that does not fit the data set', () => {
  it('eval of a 3-channel model on MNIST: exit 3 naming the model', async () => {
    const m = file('rgb.safetensors', c01With((g, t) => {
      g.input.shape = [3, 28, 28];
      const w = t.find((x) => x.name === 'conv1.weight');
      w.shape = [8, 3, 3, 3];
      w.data = new Float32Array(8 * 27);
    }));
    const r = await cli(['eval', m, '--dataset', 'mnist', '--limit', '10', '--timesteps', '2', '--quiet']);
    expect(r.code).toBe(3);
    expect(r.err).toEqual([expect.stringMatching(/rgb\.safetensors: takes inputs of \[3,28,28\], but mnist images are \[1,28,28\]/)]);
  });
});
