/**
 * Row ranges and the threads build: conv2d_dense_rows / conv2d_event_rows over any split of the output rows write
 * exactly what the whole-layer kernels write (and nothing outside their rows); the threads build computes the same
 * bits on a shared memory; a helper thread serving row jobs (RowsHelper + the Node worker) fills its half of a layer
 * while the caller fills the rest, with the one-thread result.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CTL_BYTES, DENSE_ROWS, EVENT_ROWS, LINEAR_COLS, RowsHelper, createCore, createThreadsCore, threadsSupported, type Core, type ThreadsCore } from "../src/index.js";
// The worker thread runs compiled code: the built dist (turbo builds before testing).
import { spawnNodeRows } from "../dist/node.js";
import { convArb, type Conv } from "./conv-arb.js";
import { expectSameBits, normals, random, spikes } from "./util.js";

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const kindArb = fc.constantFrom("binary" as const, "signed" as const, "count" as const);

/** Lays out one conv's buffers in a core (weights packed, spike lists built) and runs `fill` on its output. */
function setup(core: Core, c: Conv, x: Float32Array, w: Float32Array, bias: Float32Array | null, base = core.heapBase) {
  const e = core.exports;
  let top = base;
  const alloc = (bytes: number): number => {
    const p = (top + 15) & ~15;
    top = p + bytes;
    core.reserve(top - core.heapBase);
    return p;
  };
  const put = (a: Float32Array): number => {
    const p = alloc(a.length * 4);
    new Float32Array(core.memory.buffer, p, a.length).set(a);
    return p;
  };
  const scratch = alloc(e.scratch_bytes());
  e.set_scratch(scratch);
  const src = put(w);
  const wp = alloc(e.conv2d_packed_len(c.Cout, c.Cin / c.groups, c.kH, c.kW, c.groups) * 4);
  e.conv2d_pack(src, wp, c.Cout, c.Cin / c.groups, c.kH, c.kW, c.groups);
  const xp = put(x);
  const HW = c.H * c.W;
  const idx = alloc(c.B * HW * c.Cin * 4);
  const cnt = alloc(c.B * HW * 4);
  e.spike_index(xp, c.B, c.Cin, HW, idx, cnt);
  const bp = bias ? put(bias) : 0;
  const n = c.B * c.Cout * c.Ho * c.Wo;
  const yp = alloc(n * 4);
  const out = (): Float32Array => new Float32Array(core.memory.buffer, yp, n).slice();
  const clear = (): void => {
    new Float32Array(core.memory.buffer, yp, n).fill(Number.NaN);
  };
  const dense = [xp, wp, bp, yp, c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo, c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.groups];
  const event = [xp, idx, cnt, wp, bp, yp, c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo, c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW];
  return { dense, event, out, clear };
}

type Fn = (...a: number[]) => void;

/** Rows [r0, r1) of every (b, c) plane of y. */
function rows(y: Float32Array, c: Conv, r0: number, r1: number): Float32Array {
  const out: number[] = [];
  for (let p = 0; p < c.B * c.Cout; p++) for (let r = r0; r < r1; r++) for (let q = 0; q < c.Wo; q++) out.push(y[(p * c.Ho + r) * c.Wo + q]);
  return Float32Array.from(out);
}

let core: Core;
beforeAll(async () => {
  core = await createCore();
});

describe("conv2d_dense_rows and conv2d_event_rows", () => {
  it("write exactly their rows, with the whole kernel's bits, for any split point", () => {
    fc.assert(
      fc.property(convArb({ groups: 1, cinG: 6, coutG: 30 }), seedArb, kindArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(), (c, seed, kind, density, cut) => {
        const rand = random(seed);
        const x = spikes(rand, c.B * c.Cin * c.H * c.W, density, kind);
        const w = normals(rand, c.Cout * c.Cin * c.kH * c.kW);
        const s = setup(core, c, x, w, normals(rand, c.Cout));
        const e = core.exports;
        const mid = cut % (c.Ho + 1);
        for (const [whole, part, args] of [
          [e.conv2d_dense, e.conv2d_dense_rows, s.dense],
          [e.conv2d_event, e.conv2d_event_rows, s.event],
        ] as [Fn, Fn, number[]][]) {
          s.clear();
          whole(...args);
          const full = s.out();
          s.clear();
          part(...args, 0, mid);
          const top = s.out();
          expectSameBits(rows(top, c, 0, mid), rows(full, c, 0, mid), "rows [0, mid)");
          expect(rows(top, c, mid, c.Ho).every(Number.isNaN), "rows past the range stay untouched").toBe(true);
          part(...args, mid, c.Ho);
          expectSameBits(s.out(), full, "both ranges");
        }
      }),
      { numRuns: 80 },
    );
  });
});

/** A linear layer as the conv kernels see it: 1x1 kernel on a 1x1 input. */
const linearArb = fc.record({
  B: fc.integer({ min: 1, max: 40 }),
  Cin: fc.integer({ min: 1, max: 70 }),
  Cout: fc.integer({ min: 1, max: 70 }),
}).map(({ B, Cin, Cout }): Conv => ({ B, Cin, Cout, H: 1, W: 1, Ho: 1, Wo: 1, kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 }));

/** linear_event's arguments from setup's conv2d_event ones, for output vectors [v0, v1). */
const linearArgs = (event: number[], c: Conv, v0: number, v1: number): number[] => [...event.slice(0, 8), c.Cout, v0, v1];

describe("linear_event", () => {
  it("writes exactly its output vectors of every sample, with conv2d_event's bits, for any split", () => {
    fc.assert(
      fc.property(linearArb, seedArb, kindArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), fc.nat(), (c, seed, kind, density, withBias, cut) => {
        const rand = random(seed);
        const x = spikes(rand, c.B * c.Cin, density, kind);
        // mixed samples: some binary, some valued, so the per-sample 0/1 flag is exercised both ways in one call
        if (kind !== "binary") for (let b = 0; b < c.B; b += 2) for (let i = 0; i < c.Cin; i++) x[b * c.Cin + i] = x[b * c.Cin + i] ? 1 : 0;
        const s = setup(core, c, x, normals(rand, c.Cout * c.Cin), withBias ? normals(rand, c.Cout) : null);
        const e = core.exports;
        s.clear();
        (e.conv2d_event as Fn)(...s.event);
        const want = s.out();
        const nvec = Math.ceil(c.Cout / 4);
        const v = cut % (nvec + 1);
        s.clear();
        (e.linear_event as Fn)(...linearArgs(s.event, c, 0, v));
        const part = s.out();
        for (let b = 0; b < c.B; b++) {
          for (let o = 0; o < c.Cout; o++) {
            const got = part[b * c.Cout + o];
            if (o < 4 * v) expect(Object.is(got, want[b * c.Cout + o]), `sample ${b} channel ${o}`).toBe(true);
            else expect(Number.isNaN(got), `sample ${b} channel ${o} is past the range`).toBe(true);
          }
        }
        (e.linear_event as Fn)(...linearArgs(s.event, c, v, nvec + 3));
        expectSameBits(s.out(), want, "both ranges");
      }),
      { numRuns: 120 },
    );
  });
});

/** 40 sampled convs with spike inputs (up to 60 % active) and normal weights, for tests that run outside fc.assert. */
function cases(arb: fc.Arbitrary<Conv>): [Conv, Float32Array, Float32Array][] {
  const runs: [Conv, Float32Array, Float32Array][] = [];
  fc.assert(
    fc.property(arb, seedArb, kindArb, fc.double({ min: 0, max: 0.6, noNaN: true }), (c, seed, kind, density) => {
      const rand = random(seed);
      runs.push([c, spikes(rand, c.B * c.Cin * c.H * c.W, density, kind), normals(rand, c.Cout * c.Cin * c.kH * c.kW)]);
    }),
    { numRuns: 40 },
  );
  return runs;
}

describe("linear_event on more inputs than one pass takes (4096)", () => {
  it("carries each sum across the passes with conv2d_event's bits, for any split", () => {
    fc.assert(
      fc.property(
        fc.record({ B: fc.integer({ min: 1, max: 5 }), Cin: fc.integer({ min: 4097, max: 9000 }), Cout: fc.integer({ min: 1, max: 40 }) }),
        seedArb, kindArb, fc.double({ min: 0, max: 0.2, noNaN: true }), fc.boolean(), fc.nat(),
        ({ B, Cin, Cout }, seed, kind, density, withBias, cut) => {
          const c: Conv = { B, Cin, Cout, H: 1, W: 1, Ho: 1, Wo: 1, kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 };
          const rand = random(seed);
          const s = setup(core, c, spikes(rand, B * Cin, density, kind), normals(rand, Cout * Cin), withBias ? normals(rand, Cout) : null);
          s.clear();
          (core.exports.conv2d_event as Fn)(...s.event);
          const want = s.out();
          const nvec = Math.ceil(Cout / 4);
          const v = cut % (nvec + 1);
          s.clear();
          (core.exports.linear_event as Fn)(...linearArgs(s.event, c, 0, v));
          (core.exports.linear_event as Fn)(...linearArgs(s.event, c, v, nvec));
          expectSameBits(s.out(), want, "two ranges");
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe.runIf(threadsSupported())("the threads build", () => {
  let tcore: ThreadsCore;
  let helper: RowsHelper;
  // The helper's control block and scratch stay put below every layout the runs make.
  let base = 0;
  beforeAll(async () => {
    tcore = await createThreadsCore();
    expect(tcore.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const ctl = tcore.heapBase;
    const scratch = ctl + CTL_BYTES;
    base = scratch + tcore.exports.scratch_bytes();
    tcore.reserve(base - tcore.heapBase);
    helper = await RowsHelper.start(tcore, ctl, scratch, spawnNodeRows);
  });
  afterAll(() => helper?.close());

  it("computes the one-thread build's bits, and a helper thread its half of each layer", () => {
    for (const [c, x, w] of cases(convArb({ groups: 1, cinG: 5, coutG: 26, H: 12 }))) {
      const one = setup(core, c, x, w, null);
      (core.exports.conv2d_event as Fn)(...one.event);
      const want = one.out();
      const s = setup(tcore, c, x, w, null, base);
      (tcore.exports.conv2d_event as Fn)(...s.event);
      expectSameBits(s.out(), want, "threads build, one thread");
      const mid = c.Ho >> 1;
      for (const [kind, part, args] of [[EVENT_ROWS, tcore.exports.conv2d_event_rows, s.event], [DENSE_ROWS, tcore.exports.conv2d_dense_rows, s.dense]] as [number, Fn, number[]][]) {
        s.clear();
        helper.post(kind, [...args, 0, mid]);
        part(...args, mid, c.Ho);
        helper.wait();
        expectSameBits(s.out(), want, `two threads, ${kind === EVENT_ROWS ? "event" : "dense"}`);
      }
    }
  }, 60_000);

  it("splits a linear layer by output vectors between the helper and the caller with one thread's bits", () => {
    for (const [c, x, w] of cases(linearArb)) {
      const one = setup(core, c, x, w, null);
      (core.exports.conv2d_event as Fn)(...one.event);
      const want = one.out();
      const s = setup(tcore, c, x, w, null, base);
      const mid = Math.ceil(c.Cout / 8);
      s.clear();
      helper.post(LINEAR_COLS, linearArgs(s.event, c, 0, mid));
      (tcore.exports.linear_event as Fn)(...linearArgs(s.event, c, mid, Math.ceil(c.Cout / 4)));
      helper.wait();
      expectSameBits(s.out(), want, "two threads, linear by vectors");
    }
  }, 60_000);
});
