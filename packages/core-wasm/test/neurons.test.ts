import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { below } from "../src/twin/neurons.js";
import { Arena } from "./arena.js";
import { expectSameBits, normals, random, uniforms } from "./util.js";

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
// HW 1 is flat activity, which the kernels vectorise over channels instead of pixels.
const layerArb = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  C: fc.integer({ min: 1, max: 9 }),
  HW: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 23 })),
});

const subtract = 0;
const zero = 1;
const none = 2;

/** `cmp` is the threshold the membrane must exceed: `thr` (spike at v > thr) or below(thr) (spike at v >= thr). */
interface LifParams { beta: Float32Array; thr: Float32Array; cmp: Float32Array; vr: Float32Array }

// How a test picks cmp: thr itself, the float32 below each thr (fireAtThreshold), or values of its own.
type CmpKind = "thr" | "below" | "free";
const cmpArb = fc.constantFrom<CmpKind>("thr", "below", "free");
function cmpOf(kind: CmpKind, thr: Float32Array, rand: () => number): Float32Array {
  if (kind === "thr") return thr;
  if (kind === "below") return thr.map(below);
  return uniforms(rand, thr.length, 0.2, 1.5);
}

/**
 * Neuron data on a coarse dyadic grid (beta 1/2, 3/4 or 1, thresholds and currents multiples of 1/8, spikes in
 * s0 that agree), so membranes land exactly on their thresholds at many steps; or normals.
 */
function neuronData(rand: () => number, dyadic: boolean, params: number, n: number, T: number) {
  const grid = (k: number, lo: number, hi: number) => Float32Array.from({ length: k }, () => (lo + Math.floor(rand() * (hi - lo + 1))) / 8);
  if (dyadic) {
    return {
      beta: Float32Array.from({ length: params }, () => [0.5, 0.75, 1][Math.floor(rand() * 3)]),
      thr: grid(params, 2, 12), vr: grid(params, -2, 2), v0: grid(n, -4, 8),
      currents: Array.from({ length: T }, () => grid(n, -4, 8)),
    };
  }
  return {
    beta: uniforms(rand, params, 0.3, 1.1), thr: uniforms(rand, params, 0.2, 1.5), vr: normals(rand, params, 0.3),
    v0: normals(rand, n), currents: Array.from({ length: T }, () => normals(rand, n, 0.8)),
  };
}

/** Runs lif for each step's currents from state (s, v); returns each step's spikes and membranes. */
function lifSteps(
  currents: Float32Array[], s0: Float32Array, v0: Float32Array, p: LifParams,
  B: number, C: number, HW: number, perNeuron: number, reset: number, resetDelay: number,
): { s: Float32Array[]; v: Float32Array[] } {
  arena.reset();
  const n = B * C * HW;
  const sp = arena.f32(s0);
  const vp = arena.f32(v0);
  const bp = arena.f32(p.beta);
  const tp = arena.f32(p.thr);
  const cp = arena.f32(p.cmp);
  const rp = arena.f32(p.vr);
  const Ip = arena.f32(n);
  const out = { s: [] as Float32Array[], v: [] as Float32Array[] };
  for (const I of currents) {
    new Float32Array(core.memory.buffer, Ip, n).set(I);
    core.exports.lif(Ip, sp, vp, bp, tp, cp, rp, B, C, HW, perNeuron, reset, resetDelay);
    out.s.push(arena.readF32(sp, n));
    out.v.push(arena.readF32(vp, n));
  }
  arena.checkGuards();
  return out;
}

function twinLifSteps(
  currents: Float32Array[], s0: Float32Array, v0: Float32Array, p: LifParams,
  B: number, C: number, HW: number, perNeuron: number, reset: number, resetDelay: number,
): { s: Float32Array[]; v: Float32Array[] } {
  const s = s0.slice();
  const v = v0.slice();
  const out = { s: [] as Float32Array[], v: [] as Float32Array[] };
  for (const I of currents) {
    twin.lif(I, s, v, p.beta, p.thr, p.cmp, p.vr, B, C, HW, perNeuron, reset, resetDelay);
    out.s.push(s.slice());
    out.v.push(v.slice());
  }
  return out;
}

describe("affine", () => {
  it("equals the twin bit for bit, out of place and in place", () => {
    fc.assert(
      fc.property(layerArb, seedArb, fc.boolean(), ({ B, C, HW }, seed, inPlace) => {
        const rand = random(seed);
        const x = normals(rand, B * C * HW);
        const scale = normals(rand, C);
        const shift = normals(rand, C);
        const expected = new Float32Array(x.length);
        twin.affine(x, expected, scale, shift, B, C, HW);
        arena.reset();
        const xp = arena.f32(x);
        const yp = inPlace ? xp : arena.f32(x.length);
        core.exports.affine(xp, yp, arena.f32(scale), arena.f32(shift), B, C, HW);
        arena.checkGuards();
        expectSameBits(arena.readF32(yp, x.length), expected, "affine");
      }),
    );
  });

  it("rounds the product before adding the shift", () => {
    // fl(fl(x*s) + h) differs from a fused fl(x*s + h) here.
    const x = 1 + 2 ** -12;
    const h = -1 - 2 ** -11;
    arena.reset();
    const xp = arena.f32([x]);
    core.exports.affine(xp, xp, arena.f32([x]), arena.f32([h]), 1, 1, 1);
    expect(arena.readF32(xp, 1)[0]).toBe(Math.fround(Math.fround(x * x) + h));
    expect(Math.fround(Math.fround(x * x) + h)).not.toBe(Math.fround(x * x + h));
  });
});

describe("relu", () => {
  it("equals the twin bit for bit, including -0 and NaN", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 41 }), seedArb, (n, seed) => {
        const x = normals(random(seed), n);
        if (n > 2) {
          x[0] = -0;
          x[1] = Number.NaN;
        }
        const expected = new Float32Array(n);
        twin.relu(x, expected, n);
        arena.reset();
        const xp = arena.f32(x);
        const yp = arena.f32(n);
        core.exports.relu(xp, yp, n);
        arena.checkGuards();
        expectSameBits(arena.readF32(yp, n), expected, "relu");
      }),
    );
  });
});

describe("lif", () => {
  it("equals the twin bit for bit over several steps for every reset rule, delay, parameter layout and cmp", () => {
    fc.assert(
      fc.property(
        layerArb, fc.constantFrom(subtract, zero, none), fc.constantFrom(0, 1), fc.constantFrom(0, 1),
        fc.integer({ min: 1, max: 6 }), cmpArb, fc.boolean(), seedArb,
        ({ B, C, HW }, reset, resetDelay, perNeuron, T, cmpKind, dyadic, seed) => {
          const rand = random(seed);
          const n = B * C * HW;
          const params = perNeuron ? C * HW : C;
          const d = neuronData(rand, dyadic, params, n, T);
          const p = { beta: d.beta, thr: d.thr, cmp: cmpOf(cmpKind, d.thr, rand), vr: d.vr };
          const s0 = new Float32Array(n).map(() => (rand() < 0.5 ? 1 : 0));
          const { v0, currents } = d;
          const got = lifSteps(currents, s0, v0, p, B, C, HW, perNeuron, reset, resetDelay);
          const want = twinLifSteps(currents, s0, v0, p, B, C, HW, perNeuron, reset, resetDelay);
          for (let t = 0; t < T; t++) {
            expectSameBits(got.s[t], want.s[t], `spikes at step ${t}`);
            expectSameBits(got.v[t], want.v[t], `membrane at step ${t}`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  // beta 0.5, threshold 1, vReset 0.25, constant current 0.75, all exact in float32.
  const golden = (reset: number, resetDelay: number) => {
    const currents = Array.from({ length: 4 }, () => new Float32Array([0.75]));
    const p = { beta: new Float32Array([0.5]), thr: new Float32Array([1]), cmp: new Float32Array([1]), vr: new Float32Array([0.25]) };
    return lifSteps(currents, new Float32Array(1), new Float32Array(1), p, 1, 1, 1, 0, reset, resetDelay);
  };
  const trace = (r: { s: Float32Array[]; v: Float32Array[] }) => ({ s: r.s.map((a) => a[0]), v: r.v.map((a) => a[0]) });

  it("follows docs/semantics.md §3 with an immediate reset", () => {
    expect(trace(golden(subtract, 0))).toEqual({ s: [0, 1, 0, 1], v: [0.75, 0.125, 0.8125, 0.15625] });
    expect(trace(golden(zero, 0))).toEqual({ s: [0, 1, 0, 1], v: [0.75, 0.25, 0.875, 0.25] });
    expect(trace(golden(none, 0))).toEqual({ s: [0, 1, 1, 1], v: [0.75, 1.125, 1.3125, 1.40625] });
  });

  it("follows docs/semantics.md §3 with a delayed reset (snnTorch)", () => {
    // The spike of step 1 is subtracted (or reset) at step 2.
    expect(trace(golden(subtract, 1))).toEqual({ s: [0, 1, 0, 0], v: [0.75, 1.125, 0.3125, 0.90625] });
    expect(trace(golden(zero, 1))).toEqual({ s: [0, 1, 0, 1], v: [0.75, 1.125, 0.875, 1.1875] });
    expect(trace(golden(none, 1))).toEqual(trace(golden(none, 0)));
  });

  it("spikes only when v is strictly above the threshold, in every rule, on SIMD lanes and scalar tails", () => {
    // Five neurons (a vector and a tail) whose membrane lands exactly on the threshold, or one ulp above it.
    const above = Math.fround(1 + 2 ** -23);
    for (const reset of [subtract, zero, none]) {
      for (const resetDelay of [0, 1]) {
        for (const [C, HW, perNeuron] of [[1, 5, 0], [1, 5, 1], [5, 1, 0]]) {
          const params = perNeuron ? C * HW : C;
          const thr = new Float32Array(params).fill(1);
          const p = { beta: new Float32Array(params).fill(1), thr, cmp: thr, vr: new Float32Array(params) };
          const run = (I: number) =>
            Array.from(lifSteps([new Float32Array(5).fill(I)], new Float32Array(5), new Float32Array(5), p, 1, C, HW, perNeuron, reset, resetDelay).s[0]);
          expect(run(1), `reset ${reset}, delay ${resetDelay}, C ${C}`).toEqual([0, 0, 0, 0, 0]);
          expect(run(above), `reset ${reset}, delay ${resetDelay}, C ${C}`).toEqual([1, 1, 1, 1, 1]);
        }
      }
    }
  });

  // A membrane landing exactly on the threshold or one float32 ulp either side, for thresholds of every kind
  // (0, -0, denormals, negative, the largest float32); cmp = thr (spike at v > thr) or below(thr) (v >= thr).
  const next = (x: number, dir: 1 | -1): number => {
    if (x === 0) return dir * 2 ** -149;
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer);
    u[0] += (x > 0) === (dir > 0) ? 1 : -1;
    return f[0];
  };
  const thresholds = [1, 0.75, 0.3, 0, -0, 2 ** -149, 2 ** -140, -(2 ** -149), -0.5, 3.4028234663852886e38];

  it("below(thr) is the float32 just under thr, and v > below(thr) is v >= thr, at 0, -0 and denormals", () => {
    expect(below(1)).toBe(Math.fround(1 - 2 ** -24));
    expect(below(0)).toBe(-(2 ** -149));
    expect(below(-0)).toBe(-(2 ** -149));
    expect(below(2 ** -149)).toBe(0);
    expect(below(-(2 ** -149))).toBe(-(2 ** -148));
    expect(below(-0.5)).toBe(-0.5 - 2 ** -24);
    expect(below(-3.4028234663852886e38)).toBe(-Infinity);
    for (const t of thresholds) {
      const t32 = Math.fround(t);
      for (const v of [t32, next(t32, 1), next(t32, -1), -0, 0, -(2 ** -149), 2 ** -149]) {
        if (!Number.isFinite(v)) continue;
        expect(v > below(t32), `v ${v}, thr ${t32}`).toBe(v >= t32);
      }
    }
  });

  it("fires at v >= thr with cmp = below(thr) and at v > thr with cmp = thr, subtracting thr itself, in every rule", () => {
    for (const t of thresholds) {
      for (const fire of [false, true]) {
        for (const reset of [subtract, zero, none]) {
          for (const resetDelay of [0, 1]) {
            // 1x5 and 1x6 (a vector and a tail; per channel and per neuron), 6x1 (flat), 2x7 (two runs per sample).
            for (const [C, HW, perNeuron] of [[1, 5, 0], [1, 5, 1], [6, 1, 0], [2, 7, 0], [1, 6, 1]]) {
              const n = C * HW;
              const params = perNeuron ? n : C;
              const thr = new Float32Array(params).fill(t);
              const p = { beta: new Float32Array(params).fill(1), thr, cmp: fire ? thr.map(below) : thr, vr: new Float32Array(params).fill(0.25) };
              // each neuron lands on thr, one ulp below it or one ulp above it
              const L = Float32Array.from({ length: n }, (_, i) => [t, next(t, -1), next(t, 1)][i % 3]);
              const what = `thr ${Object.is(t, -0) ? "-0" : t}, fire ${fire}, reset ${reset}, delay ${resetDelay}, ${C}x${HW}/${perNeuron}`;
              const got = lifSteps([L], new Float32Array(n), new Float32Array(n), p, 1, C, HW, perNeuron, reset, resetDelay);
              const want = twinLifSteps([L], new Float32Array(n), new Float32Array(n), p, 1, C, HW, perNeuron, reset, resetDelay);
              expectSameBits(got.s[0], want.s[0], `${what}: spikes`);
              expectSameBits(got.v[0], want.v[0], `${what}: membrane`);
              for (let i = 0; i < n; i++) {
                const v = Math.fround(0 + L[i]); // beta*0 + I
                const spike = fire ? v >= Math.fround(t) : v > Math.fround(t);
                expect(got.s[0][i], `${what}: neuron ${i} at ${v}`).toBe(spike ? 1 : 0);
                // the delayed forms subtract or reset at the next step; the immediate subtract takes thr exactly
                const after = resetDelay || !spike || reset === none ? v : reset === zero ? 0.25 : Math.fround(v - Math.fround(t));
                expect(got.v[0][i], `${what}: neuron ${i} membrane`).toBe(after);
              }
            }
          }
        }
      }
    }
  });

  // beta 1, threshold 1, vReset 0.25, constant current 0.5: the membrane lands exactly on 1 at step 1.
  const landing = (reset: number, resetDelay: number, fire: boolean) => {
    const currents = Array.from({ length: 4 }, () => new Float32Array([0.5]));
    const thr = new Float32Array([1]);
    const p = { beta: new Float32Array([1]), thr, cmp: fire ? thr.map(below) : thr, vr: new Float32Array([0.25]) };
    return trace(lifSteps(currents, new Float32Array(1), new Float32Array(1), p, 1, 1, 1, 0, reset, resetDelay));
  };

  it("with fireAtThreshold a membrane exactly at the threshold fires, and the subtract leaves v - thr (docs/semantics.md §3)", () => {
    expect(landing(subtract, 0, true)).toEqual({ s: [0, 1, 0, 1], v: [0.5, 0, 0.5, 0] });
    expect(landing(zero, 0, true)).toEqual({ s: [0, 1, 0, 1], v: [0.5, 0.25, 0.75, 0.25] });
    expect(landing(none, 0, true)).toEqual({ s: [0, 1, 1, 1], v: [0.5, 1, 1.5, 2] });
    expect(landing(subtract, 1, true)).toEqual({ s: [0, 1, 0, 1], v: [0.5, 1, 0.5, 1] });
    expect(landing(zero, 1, true)).toEqual({ s: [0, 1, 0, 1], v: [0.5, 1, 0.75, 1.25] });
    expect(landing(none, 1, true)).toEqual(landing(none, 0, true));
  });

  it("without it the same membrane waits for the next step", () => {
    expect(landing(subtract, 0, false)).toEqual({ s: [0, 0, 1, 0], v: [0.5, 1, 0.5, 1] });
    expect(landing(zero, 0, false)).toEqual({ s: [0, 0, 1, 0], v: [0.5, 1, 0.25, 0.75] });
    expect(landing(none, 0, false)).toEqual({ s: [0, 0, 1, 1], v: [0.5, 1, 1.5, 2] });
    expect(landing(subtract, 1, false)).toEqual({ s: [0, 0, 1, 0], v: [0.5, 1, 1.5, 1] });
    expect(landing(zero, 1, false)).toEqual({ s: [0, 0, 1, 0], v: [0.5, 1, 1.5, 0.75] });
  });
});

describe("li", () => {
  it("equals the twin bit for bit over several steps, per channel and per neuron", () => {
    fc.assert(
      fc.property(layerArb, fc.constantFrom(0, 1), fc.integer({ min: 1, max: 5 }), seedArb, ({ B, C, HW }, perNeuron, T, seed) => {
        const rand = random(seed);
        const n = B * C * HW;
        const beta = uniforms(rand, perNeuron ? C * HW : C, 0.2, 1.2);
        const v = normals(rand, n);
        arena.reset();
        const vp = arena.f32(v);
        const bp = arena.f32(beta);
        const Ip = arena.f32(n);
        for (let t = 0; t < T; t++) {
          const I = normals(rand, n);
          new Float32Array(core.memory.buffer, Ip, n).set(I);
          core.exports.li(Ip, vp, bp, B, C, HW, perNeuron);
          twin.li(I, v, beta, B, C, HW, perNeuron);
          expectSameBits(arena.readF32(vp, n), v, `li step ${t}`);
        }
        arena.checkGuards();
      }),
    );
  });
});

describe("cubalif", () => {
  it("equals the twin bit for bit over several steps for every reset rule, delay, parameter layout and cmp", () => {
    fc.assert(
      fc.property(
        layerArb, fc.constantFrom(subtract, zero, none), fc.constantFrom(0, 1), fc.constantFrom(0, 1),
        fc.integer({ min: 1, max: 6 }), cmpArb, fc.boolean(), seedArb,
        ({ B, C, HW }, reset, resetDelay, perNeuron, T, cmpKind, dyadic, seed) => {
          const rand = random(seed);
          const n = B * C * HW;
          const params = perNeuron ? C * HW : C;
          // dyadic: alpha 1/2 or 1 and currents on the 1/8 grid keep the synaptic current and membrane exact
          const d = neuronData(rand, dyadic, params, n, T);
          const alpha = dyadic ? Float32Array.from({ length: params }, () => (rand() < 0.5 ? 0.5 : 1)) : uniforms(rand, params, 0.2, 1.0);
          const { beta, thr, vr } = d;
          const cmp = cmpOf(cmpKind, thr, rand);
          const i = dyadic ? d.currents[0].map((x) => x / 2) : normals(rand, n, 0.5);
          const s = new Float32Array(n).map(() => (rand() < 0.5 ? 1 : 0));
          const v = d.v0.slice();
          arena.reset();
          const ip = arena.f32(i);
          const sp = arena.f32(s);
          const vp = arena.f32(v);
          const ap = arena.f32(alpha);
          const bp = arena.f32(beta);
          const tp = arena.f32(thr);
          const cp = arena.f32(cmp);
          const rp = arena.f32(vr);
          const Ip = arena.f32(n);
          for (let t = 0; t < T; t++) {
            const I = d.currents[t];
            new Float32Array(core.memory.buffer, Ip, n).set(I);
            core.exports.cubalif(Ip, ip, sp, vp, ap, bp, tp, cp, rp, B, C, HW, perNeuron, reset, resetDelay);
            twin.cubalif(I, i, s, v, alpha, beta, thr, cmp, vr, B, C, HW, perNeuron, reset, resetDelay);
            expectSameBits(arena.readF32(ip, n), i, `synaptic current at step ${t}`);
            expectSameBits(arena.readF32(sp, n), s, `spikes at step ${t}`);
            expectSameBits(arena.readF32(vp, n), v, `membrane at step ${t}`);
          }
          arena.checkGuards();
        },
      ),
      { numRuns: 200 },
    );
  });

  // alpha 0.5, beta 0.5, threshold 1, input 1 at step 0 only, all exact: i = 1, .5, .25; v = 1, 1, .75 (subtract, no delay).
  it("follows the synaptic current into the membrane (snnTorch Synaptic)", () => {
    arena.reset();
    const ip = arena.f32(new Float32Array(1));
    const sp = arena.f32(new Float32Array(1));
    const vp = arena.f32(new Float32Array(1));
    const half = arena.f32(new Float32Array([0.5]));
    const one = arena.f32(new Float32Array([1]));
    const zeroP = arena.f32(new Float32Array([0]));
    const Ip = arena.f32(new Float32Array([1.25]));
    const rows: number[][] = [];
    for (let t = 0; t < 4; t++) {
      if (t === 1) new Float32Array(core.memory.buffer, Ip, 1)[0] = 0;
      core.exports.cubalif(Ip, ip, sp, vp, half, half, one, one, zeroP, 1, 1, 1, 0, subtract, 0);
      rows.push([arena.readF32(ip, 1)[0], arena.readF32(sp, 1)[0], arena.readF32(vp, 1)[0]]);
    }
    // t0: i 1.25, v 1.25 > 1 fires, v .25; t1: i .625, v .75; t2: i .3125, v .6875; t3: i .15625, v .5
    expect(rows).toEqual([[1.25, 1, 0.25], [0.625, 0, 0.75], [0.3125, 0, 0.6875], [0.15625, 0, 0.5]]);
  });
});
