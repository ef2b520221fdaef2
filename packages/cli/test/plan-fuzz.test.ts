import { createCore, type Core } from '@spikelens/core-wasm';
import { PLAN_FILE_ERRORS, PLAN_MAGIC, PLAN_VERSION, readPlanHeader } from '@spikelens/sam';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

/**
 * Crafted and fuzzed plan files (docs/plan-file.md): the core's loader (core-wasm assembly/slplan.ts) answers every
 * malformed plan with its error code and never traps, and a plan it loads runs without trapping or hanging.
 */
const CONF = join(REPO, 'conformance');
const SPECS = [
  // a bundled model recording a layer and a SAM map; pixels in
  { name: 'mnist', train: false, argv: [join(REPO, 'models', 'mnist-lif-bptt.safetensors'), '--sam', 'lif2', '--record', 'lif1'] },
  // signed-poisson encoder, conv, sum pool, two SAM maps, batch 2
  {
    name: 'x04', train: false,
    argv: [join(CONF, 'x04-signed-poisson', 'model.safetensors'), '--batch', '2', '--seed', '11', '--record', 'input,lif1,lif2', '--sam', 'lif1,lif2'],
  },
  // a flat network fed a uint8 spike train, batch 2
  { name: 'x06', train: true, argv: [join(CONF, 'x06-flat-train', 'model.safetensors'), '--batch', '2', '--timesteps', '16', '--record', 'lif1'] },
] as const;

const CODES = { truncated: 10, magic: 11, version: 12, header: 13, range: 14, record: 15, program: 16, memory: 17, input: 18, state: 19 };
// header words (packages/sam H)
const W = { magic: 0, version: 1, fileBytes: 2, arenaBytes: 3, base: 4, headerBytes: 5, segments: 6, batch: 7, timesteps: 8, encoder: 9,
  rank: 10, dims: 11, inputSize: 14, channels: 15, mean: 17, std: 18, program: 19, layersProgram: 20, input: 21, pre: 22, rng: 23,
  readout: 24, readoutSource: 25, classes: 26, scores: 27, outputs: 28 };

const plans = new Map<string, Uint8Array>();
let cleanup = (): void => {};

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  for (const s of SPECS) {
    const out = join(t.dir, `${s.name}.slplan`);
    const r = await cli(['compile', s.argv[0], '-o', out, ...s.argv.slice(1)]);
    if (r.code !== 0) throw new Error(r.err.join('\n'));
    plans.set(s.name, new Uint8Array(readFileSync(out)));
  }
});
afterAll(() => cleanup());

const word = (b: Uint8Array, i: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(i * 4, true);
function withWordAt(b: Uint8Array, byte: number, v: number): Uint8Array {
  const c = b.slice();
  new DataView(c.buffer).setInt32(byte, v | 0, true);
  return c;
}
const withWord = (b: Uint8Array, i: number, v: number): Uint8Array => withWordAt(b, i * 4, v);

/** The segments of a plan: where each one's [offset, length] words are in the file, and what they say. */
function segments(b: Uint8Array): { at: number; offset: number; length: number }[] {
  const out = [];
  let s = word(b, W.headerBytes);
  for (let i = 0; i < word(b, W.segments); i++) {
    const offset = word(b, s / 4), length = word(b, s / 4 + 1);
    out.push({ at: s, offset, length });
    s += 8 + Math.ceil(length / 4) * 4;
  }
  return out;
}

/** A core with room for the largest file and twice its arena; sl_load of `bytes` at its heap base. */
class Loader {
  private constructor(readonly core: Core, readonly fileRoom: number) {}
  static async create(maxFile: number, arena: number): Promise<Loader> {
    const core = await createCore();
    const fileRoom = Math.ceil((maxFile + 1024) / 64) * 64;
    core.reserve(fileRoom + 2 * arena + 64);
    return new Loader(core, fileRoom);
  }
  get arenaAt(): number {
    return this.core.heapBase + this.fileRoom;
  }
  load(bytes: Uint8Array, arena = this.arenaAt): { code: number; need: number; at: number } {
    const ex = this.core.exports;
    new Uint8Array(this.core.memory.buffer, this.core.heapBase, bytes.length).set(bytes);
    const need = ex.sl_plan_bytes(this.core.heapBase, bytes.length);
    const code = ex.sl_load(this.core.heapBase, bytes.length, arena);
    return { code, need, at: ex.sl_error_at() };
  }
}

describe('the core\'s plan loader on crafted plans', () => {
  let mnist: Uint8Array;
  let L: Loader;
  beforeAll(async () => {
    mnist = plans.get('mnist')!;
    L = await Loader.create(mnist.length + 4096, word(mnist, W.arenaBytes));
  });

  it('loads the plans as compiled', () => {
    for (const [name, b] of plans) {
      const r = L.load(b);
      expect(r.code, name).toBe(0);
      expect(r.need, `${name}: sl_plan_bytes is the header's arena bytes`).toBe(word(b, W.arenaBytes));
      expect(readPlanHeader(b).arenaBytes).toBe(r.need);
      expect(word(b, W.magic)).toBe(PLAN_MAGIC);
      expect(word(b, W.version)).toBe(PLAN_VERSION);
    }
  });

  it('calls every cut of a plan truncated (10): 0, each length through the header, each segment boundary +-1, len-1', () => {
    for (const [name, b] of plans) {
      const H = word(b, W.headerBytes);
      const lengths = new Set<number>();
      for (let n = 0; n <= H + 8; n++) lengths.add(n);
      for (const s of segments(b)) for (const at of [s.at, s.at + 8, s.at + 8 + s.length]) for (const d of [-1, 0, 1]) lengths.add(at + d);
      lengths.add(b.length - 1);
      for (const n of [...lengths]) if (n < 0 || n >= b.length) lengths.delete(n);
      for (const n of lengths) {
        const cut = b.slice(0, n);
        expect(L.load(cut).code, `${name} cut to ${n}`).toBe(CODES.truncated);
        // the header's length word made to agree: the segments are what is short
        if (n >= H) expect(L.load(withWord(cut, W.fileBytes, n)).code, `${name} cut to ${n}, length word ${n}`).toBe(CODES.truncated);
      }
      // longer than the header says
      const longer = new Uint8Array(b.length + 4);
      longer.set(b);
      expect(L.load(longer).code).toBe(CODES.truncated);
      expect(L.load(withWord(longer, W.fileBytes, longer.length)).code).toBe(CODES.truncated);
    }
  });

  it('gives each bad header field its code', () => {
    const b = mnist;
    const A = word(b, W.arenaBytes), base = word(b, W.base) >>> 0, H = word(b, W.headerBytes), len = b.length;
    const prog = word(b, W.program) >>> 0;
    const segs = segments(b);
    const cases: [string, Uint8Array, number][] = [
      ['magic', withWord(b, W.magic, 0x4c504c54), CODES.magic],
      ['magic 0', withWord(b, W.magic, 0), CODES.magic],
      ['version 2', withWord(b, W.version, 2), CODES.version],
      ['version 0', withWord(b, W.version, 0), CODES.version],
      ['version -1', withWord(b, W.version, -1), CODES.version],
      ['file bytes + 1', withWord(b, W.fileBytes, len + 1), CODES.truncated],
      ['file bytes -1', withWord(b, W.fileBytes, -1), CODES.truncated],
      ['arena smaller than the file', withWord(b, W.arenaBytes, len - 4), CODES.header],
      ['arena -1', withWord(b, W.arenaBytes, -1), CODES.header],
      ['arena 0x7fffffff', withWord(b, W.arenaBytes, 0x7fffffff), CODES.header],
      ['arena past the memory', withWord(b, W.arenaBytes, 0x7ff00000), CODES.memory],
      ['arena short of the last segment', withWord(b, W.arenaBytes, segs[segs.length - 1].offset + segs[segs.length - 1].length - 4), CODES.range],
      ['header bytes 64', withWord(b, W.headerBytes, 64), CODES.header],
      ['header bytes past the file', withWord(b, W.headerBytes, len + 16), CODES.header],
      ['header bytes unaligned', withWord(b, W.headerBytes, H + 4), CODES.header],
      ['header bytes -16', withWord(b, W.headerBytes, -16), CODES.header],
      ['segments -1', withWord(b, W.segments, -1), CODES.truncated],
      ['segments + 1', withWord(b, W.segments, segs.length + 1), CODES.truncated],
      ['segments - 1', withWord(b, W.segments, segs.length - 1), CODES.truncated],
      ['segments 0x7fffffff', withWord(b, W.segments, 0x7fffffff), CODES.truncated],
      ['a segment in the header', withWordAt(b, segs[0].at, H - 4), CODES.range],
      ['a segment over the one before', withWordAt(b, segs[1].at, segs[0].offset + segs[0].length - 4), CODES.range],
      ['a segment past the arena', withWordAt(b, segs[1].at, A), CODES.range],
      ['a segment length past the file', withWordAt(b, segs[0].at + 4, 0x7ffffff0), CODES.truncated],
      ['batch 0', withWord(b, W.batch, 0), CODES.header],
      ['batch -1', withWord(b, W.batch, -1), CODES.header],
      ['batch 2^24 + 1', withWord(b, W.batch, 0x1000001), CODES.header],
      ['batch 2 (windows past the arena)', withWord(b, W.batch, 4096), CODES.range],
      ['timesteps 0', withWord(b, W.timesteps, 0), CODES.header],
      ['encoder 3', withWord(b, W.encoder, 3), CODES.header],
      ['rank 0', withWord(b, W.rank, 0), CODES.header],
      ['rank 4', withWord(b, W.rank, 4), CODES.header],
      ['input size not the product of the dims', withWord(b, W.inputSize, 785), CODES.header],
      ['channels not dividing the input', withWord(b, W.channels, 3), CODES.header],
      ['channels 0', withWord(b, W.channels, 0), CODES.header],
      ['readout 3', withWord(b, W.readout, 3), CODES.header],
      ['classes 0', withWord(b, W.classes, 0), CODES.header],
      ['outputs 1025', withWord(b, W.outputs, 1025), CODES.header],
      ['outputs past the header', withWord(b, W.outputs, (H - 128) / 64 + 1), CODES.header],
      ['outputs -1', withWord(b, W.outputs, -1), CODES.header],
      ['program in the header', withWord(b, W.program, base + 16), CODES.range],
      ['program before the arena', withWord(b, W.program, base - 64), CODES.range],
      ['program at the arena end', withWord(b, W.program, base + A - 4), CODES.program],
      ['program past the arena', withWord(b, W.program, base + A + 4096), CODES.program],
      ['program 0x7fffffff', withWord(b, W.program, 0x7fffffff), CODES.program],
      ['layers program not a record', withWord(b, W.layersProgram, prog + 4), CODES.range],
      ['layers program past the end', withWord(b, W.layersProgram, base + A), CODES.range],
      ['mean in the header', withWord(b, W.mean, base + 64), CODES.range],
      ['mean at the arena end', withWord(b, W.mean, base + A - 2), CODES.range],
      ['mean 0', withWord(b, W.mean, 0), CODES.range],
      ['mean -1', withWord(b, W.mean, -1), CODES.range],
      ['mean unaligned', withWord(b, W.mean, word(b, W.mean) + 2), CODES.range],
      ['input window over the program', withWord(b, W.input, prog), CODES.range],
      ['input window 0x7ff00000', withWord(b, W.input, 0x7ff00000), CODES.range],
      ['scores past the arena', withWord(b, W.scores, base + A), CODES.range],
      ['rng overlapping the header', withWord(b, W.rng, base + H - 8), CODES.range],
      ['readout source unaligned', withWord(b, W.readoutSource, word(b, W.readoutSource) + 1), CODES.range],
      ['output kind 0', withWord(b, 32, 0), CODES.header],
      ['output kind 4', withWord(b, 32, 4), CODES.header],
      ['output window past the arena', withWord(b, 33, base + A - 16), CODES.range],
      ['output count not batch x shape', withWord(b, 34, word(b, 34) + 1), CODES.header],
      ['output name past the header', withWord(b, 39, H), CODES.header],
      ['a record of an unknown op', withProgWord(b, 0, 99), CODES.record],
      ['a record of the wrong length', withProgWord(b, 1, 7), CODES.record],
      ['a record op -1', withProgWord(b, 0, -1), CODES.record],
      // conv1 (after the direct record's 6 words) with 64 input channels: its input's extent, still inside the arena,
      // ran over its spike lists, and the lists it read back made a wild address (found by the fuzzer, seed 7)
      ['a conv whose input overlaps its spike lists', withProgWord(b, 6 + 2 + 7, 64), CODES.record],
      ['a conv whose counts overlap its lists', withProgWord(b, 6 + 2 + 2, progArg(b, 6, 1) + 64), CODES.record],
      ['a conv whose output overlaps its counts', withProgWord(b, 6 + 2 + 5, progArg(b, 6, 2)), CODES.record],
    ];
    for (const [what, bytes, code] of cases) {
      const r = L.load(bytes);
      expect(r.code, `${what}: ${PLAN_FILE_ERRORS[r.code] ?? r.code} at byte ${r.at}`).toBe(code);
      expect(L.core.exports.sl_header(), what).toBe(0);
    }
  });

  /** Argument i of the record at word k of the program. */
  function progArg(b: Uint8Array, k: number, i: number): number {
    const o = (word(b, W.program) >>> 0) - (word(b, W.base) >>> 0) + 4 * (k + 2 + i);
    const s = segments(b).find((x) => x.offset <= o && o < x.offset + x.length)!;
    return new DataView(b.buffer, b.byteOffset).getInt32(s.at + 8 + (o - s.offset), true);
  }

  /** The plan with word k of its program (from its first record) set to v, in the segment that holds it. */
  function withProgWord(b: Uint8Array, k: number, v: number): Uint8Array {
    const o = (word(b, W.program) >>> 0) - (word(b, W.base) >>> 0) + 4 * k;
    const s = segments(b).find((x) => x.offset <= o && o < x.offset + x.length)!;
    return withWordAt(b, s.at + 8 + (o - s.offset), v);
  }

  it('refuses an arena the memory cannot hold, that is unaligned, or that overlaps the file or the core\'s data (17)', async () => {
    // a host sizes memory from sl_plan_bytes (= the header's arena bytes, word 3) before sl_load
    const b = plans.get('x06')!;
    const core = await createCore();
    const ex = core.exports;
    core.reserve(b.length + 64);
    new Uint8Array(core.memory.buffer, core.heapBase, b.length).set(b);
    const need = ex.sl_plan_bytes(core.heapBase, b.length);
    expect(need).toBe(readPlanHeader(b).arenaBytes);
    const arena = Math.ceil((core.heapBase + b.length) / 64) * 64;
    const pages = (): number => core.memory.buffer.byteLength;
    if (arena + need > pages()) expect(ex.sl_load(core.heapBase, b.length, arena)).toBe(CODES.memory);
    // one byte short: the memory ends inside the arena
    const end = pages();
    expect(ex.sl_load(core.heapBase, b.length, end - need + 16)).toBe(CODES.memory);
    core.reserve(arena + need - core.heapBase);
    expect(ex.sl_load(core.heapBase, b.length, arena + 8)).toBe(CODES.memory);
    expect(ex.sl_load(core.heapBase, b.length, core.heapBase - 1024)).toBe(CODES.memory);
    expect(ex.sl_load(core.heapBase, b.length, arena - 64)).toBe(CODES.memory);
    expect(ex.sl_load(core.heapBase, b.length, 0xfffffff0)).toBe(CODES.memory);
    expect(ex.sl_load(core.heapBase, b.length, arena)).toBe(0);
    // sl_plan_bytes answers minus the code of a file it can tell is bad from the header alone
    expect(ex.sl_plan_bytes(core.heapBase, 100)).toBe(-CODES.truncated);
    new Uint8Array(core.memory.buffer, core.heapBase, 1)[0] ^= 1;
    expect(ex.sl_plan_bytes(core.heapBase, b.length)).toBe(-CODES.magic);
  });

  it('refuses calls out of order and inputs that do not fit (18, 19)', async () => {
    const b = plans.get('x06')!;
    const core = await createCore();
    const ex = core.exports;
    expect(ex.sl_set_input(1, core.heapBase, 80, 0)).toBe(CODES.state);
    expect(ex.sl_run(1)).toBe(CODES.state);
    expect(ex.sl_header()).toBe(0);
    expect(ex.sl_input()).toBe(0);
    const arena = Math.ceil((core.heapBase + b.length) / 64) * 64;
    core.reserve(arena + word(b, W.arenaBytes) - core.heapBase);
    new Uint8Array(core.memory.buffer, core.heapBase, b.length).set(b);
    expect(ex.sl_load(core.heapBase, b.length, arena)).toBe(0);
    const BN = word(b, W.batch) * word(b, W.inputSize), T = word(b, W.timesteps);
    expect(ex.sl_run(1)).toBe(CODES.state);
    const win = ex.sl_input();
    expect(ex.sl_set_input(4, win, BN, 0)).toBe(CODES.input);
    expect(ex.sl_set_input(-1, win, BN, 0)).toBe(CODES.input);
    expect(ex.sl_set_input(1, win, 0, 0)).toBe(CODES.input);
    expect(ex.sl_set_input(1, win, BN + 1, 0)).toBe(CODES.input);
    expect(ex.sl_set_input(1, win, (T + 1) * BN, 0)).toBe(CODES.input);
    expect(ex.sl_set_input(0, win, BN + 1, 0)).toBe(CODES.input);
    expect(ex.sl_set_input(1, core.memory.buffer.byteLength - 8, 2 * BN, 0)).toBe(CODES.input);
    new Uint8Array(core.memory.buffer, win, 2 * BN).fill(1);
    expect(ex.sl_set_input(1, win, 2 * BN, 0)).toBe(0);
    expect(ex.sl_run(0)).toBe(CODES.state);
    expect(ex.sl_run(3)).toBe(CODES.state);
    expect(ex.sl_run(1)).toBe(0);
    expect(ex.sl_run(1)).toBe(0);
    expect(ex.sl_run(1)).toBe(CODES.state);
    expect(ex.sl_steps()).toBe(2);
    // input once per load
    expect(ex.sl_set_input(1, win, BN, 0)).toBe(CODES.state);
  });
});

type Done = {
  counts: { cases: number; loaded: number; ran: number; byCode: Record<string, number>; runCodes: Record<string, number>; maxMs: number; maxCase: string };
  traps: { desc: string; error: string }[];
};

/** Runs plan-fuzz-worker.mjs on `names`' plans; a case that takes 20 s is a hang (one takes well under 1 s). */
async function fuzz(names: readonly string[], options: { seed?: number; cases?: number; sweep?: boolean }): Promise<Done> {
  const data = SPECS.filter((s) => names.includes(s.name)).map((s) => ({ name: s.name, train: s.train, bytes: plans.get(s.name)!.slice().buffer }));
  const worker = new Worker(join(import.meta.dirname, 'plan-fuzz-worker.mjs'), {
    workerData: { wasm: join(REPO, 'packages', 'core-wasm', 'build', 'core.wasm'), plans: data, seed: options.seed ?? 0, cases: options.cases ?? 0, steps: 2, sweep: options.sweep === true },
  });
  try {
    return await new Promise<Done>((resolve, reject) => {
      let last = '(none)', at = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - at > 20_000) {
          clearInterval(timer);
          reject(new Error(`a mutated plan hangs: ${last}`));
        }
      }, 500);
      worker.on('message', (m: { at?: string; done?: Done }) => {
        if (m.at) {
          last = m.at;
          at = Date.now();
        } else if (m.done) {
          clearInterval(timer);
          resolve(m.done);
        }
      });
      worker.on('error', (e) => {
        clearInterval(timer);
        reject(new Error(`the fuzz worker failed at ${last}: ${e.message}`));
      });
    });
  } finally {
    await worker.terminate();
  }
}

function summary(what: string, d: Done): string {
  const c = d.counts;
  const rejected = Object.entries(c.byCode).map(([k, n]) => `${k}:${n}`).join(' ');
  const runs = Object.entries(c.runCodes).map(([k, n]) => `${k}:${n}`).join(' ');
  return `${what}: ${c.cases} cases, ${c.loaded} loaded (${c.ran} ran, by code ${runs}), rejected by code ${rejected}; slowest ${c.maxMs.toFixed(0)} ms (${c.maxCase})`;
}

describe('the core\'s plan loader on fuzzed plans', () => {
  it('never traps or hangs on thousands of mutated plans (a fixed seed)', async () => {
    const CASES = 5000, SEED = 0x51a7;
    // byte flips, words set to boundary values (header, segment and record words), splices and truncations
    const done = await fuzz(['mnist', 'x04', 'x06'], { seed: SEED, cases: CASES });
    console.log(summary(`plan fuzz (seed ${SEED})`, done));
    expect(done.traps).toEqual([]);
    const c = done.counts;
    expect(c.cases).toBe(CASES);
    expect(c.loaded).toBeGreaterThan(CASES / 10);
    for (const code of Object.keys(c.byCode)) expect(PLAN_FILE_ERRORS[Number(code)], `code ${code}`).toBeDefined();
    for (const code of [10, 13, 14, 15]) expect(c.byCode[code], `code ${code}`).toBeGreaterThan(0);
  });

  it('never traps or hangs with any word of any record set to a boundary value', async () => {
    const done = await fuzz(['x04', 'x06'], { sweep: true });
    console.log(summary('plan record sweep', done));
    expect(done.traps).toEqual([]);
    expect(done.counts.loaded).toBeGreaterThan(0);
    expect(done.counts.byCode[CODES.record]).toBeGreaterThan(0);
    expect(done.counts.byCode[CODES.range]).toBeGreaterThan(0);
  });
});

describe('docs/plan-file.md', () => {
  it('lists the error codes of PLAN_FILE_ERRORS and the core\'s constants, word for word', () => {
    const md = readFileSync(join(REPO, 'docs', 'plan-file.md'), 'utf8');
    const section = md.slice(md.indexOf('## Error codes'));
    const rows = [...section.matchAll(/^\| (\d+) \| (`SL_\w+`|-) \| ([^|]+?) \|/gm)];
    const table = Object.fromEntries(rows.map((r) => [Number(r[1]), r[3]]));
    expect(table).toEqual(PLAN_FILE_ERRORS);
    const src = readFileSync(join(REPO, 'packages', 'core-wasm', 'assembly', 'slplan.ts'), 'utf8');
    const consts = Object.fromEntries([...src.matchAll(/export const (SL_\w+): i32 = (\d+);/g)].map((m) => [Number(m[2]), m[1]]));
    const named = Object.fromEntries(rows.filter((r) => r[2] !== '-').map((r) => [Number(r[1]), r[2].slice(1, -1)]));
    expect(named).toEqual(consts);
  });
});
