import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { below } from "../src/twin/neurons.js";
import { Arena } from "./arena.js";
import { convArb as baseConvArb, type Conv } from "./conv-arb.js";
import { expectSameBits, normals, outSize, random, spikes, uniforms } from "./util.js";

// cinG up to 9 and coutG up to 11 reach every register tile of the kernels (4 input channels and a tail; 8, 4 and
// partial output lanes).
const convArb = (o: Parameters<typeof baseConvArb>[0] = {}) => baseConvArb({ B: 3, cinG: 9, W: 11, ...o });

const linearConv = (B: number, Cin: number, Cout: number, groups = 1): Conv => ({
  B, Cin, H: 1, W: 1, Cout, Ho: 1, Wo: 1, kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups,
});

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

const wLen = (c: Conv) => c.Cout * (c.Cin / c.groups) * c.kH * c.kW;
const xLen = (c: Conv) => c.B * c.Cin * c.H * c.W;
const yLen = (c: Conv) => c.B * c.Cout * c.Ho * c.Wo;
const dims = (c: Conv) =>
  [c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo, c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.groups] as const;

function wasmBackInput(dy: Float32Array, w: Float32Array, c: Conv): Float32Array {
  arena.reset();
  const dyp = arena.f32(dy);
  const wp = arena.f32(w);
  const dxp = arena.f32(xLen(c)); // NaN-filled: every element must be written
  core.exports.conv2d_backward_input(dyp, wp, dxp, ...dims(c));
  arena.checkGuards();
  return arena.readF32(dxp, xLen(c));
}

function twinBackInput(dy: Float32Array, w: Float32Array, c: Conv): Float32Array {
  const dx = new Float32Array(xLen(c)).fill(Number.NaN);
  twin.conv2dBackwardInput(dy, w, dx, ...dims(c));
  return dx;
}

function wasmBackWeight(x: Float32Array, dy: Float32Array, dw0: Float32Array, c: Conv): Float32Array {
  arena.reset();
  const xp = arena.f32(x);
  const dyp = arena.f32(dy);
  const dwp = arena.f32(dw0);
  core.exports.conv2d_backward_weight(xp, dyp, dwp, ...dims(c));
  arena.checkGuards();
  return arena.readF32(dwp, dw0.length);
}

function twinBackWeight(x: Float32Array, dy: Float32Array, dw0: Float32Array, c: Conv): Float32Array {
  const dw = dw0.slice();
  twin.conv2dBackwardWeight(x, dy, dw, ...dims(c));
  return dw;
}

/** Input data of one of three kinds: analog normals, binary spikes (sparse), or counts. */
function inputs(rand: () => number, n: number, kind: number): Float32Array {
  if (kind === 0) return normals(rand, n);
  return spikes(rand, n, 0.05 + 0.4 * rand(), kind === 1 ? "binary" : "count");
}

/** float64 dx and dw straight from the conv definition, with the magnitude sums that bound float32 error. */
function reference64(x: Float32Array, w: Float32Array, dy: Float32Array, c: Conv) {
  const CinG = c.Cin / c.groups;
  const CoutG = c.Cout / c.groups;
  const dx = new Float64Array(xLen(c)), dxMag = new Float64Array(xLen(c));
  const dw = new Float64Array(wLen(c)), dwMag = new Float64Array(wLen(c));
  for (let b = 0; b < c.B; b++) {
    for (let co = 0; co < c.Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oy = 0; oy < c.Ho; oy++) {
        for (let ox = 0; ox < c.Wo; ox++) {
          const d = dy[((b * c.Cout + co) * c.Ho + oy) * c.Wo + ox];
          for (let ci = 0; ci < CinG; ci++) {
            for (let ky = 0; ky < c.kH; ky++) {
              for (let kx = 0; kx < c.kW; kx++) {
                const iy = oy * c.sH - c.pH + ky * c.dH;
                const ix = ox * c.sW - c.pW + kx * c.dW;
                if (iy < 0 || iy >= c.H || ix < 0 || ix >= c.W) continue;
                const xi = ((b * c.Cin + g * CinG + ci) * c.H + iy) * c.W + ix;
                const wi = ((co * CinG + ci) * c.kH + ky) * c.kW + kx;
                dx[xi] += w[wi] * d;
                dxMag[xi] += Math.abs(w[wi] * d);
                dw[wi] += x[xi] * d;
                dwMag[wi] += Math.abs(x[xi] * d);
              }
            }
          }
        }
      }
    }
  }
  return { dx, dxMag, dw, dwMag };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, mag: ArrayLike<number>, rel: number, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rel * mag[i] + 1e-30)) {
      throw new Error(`${what}: element ${i} is ${got[i]}, float64 ${want[i]} (magnitude ${mag[i]})`);
    }
  }
}

describe("conv2d_backward_input", () => {
  it("equals the twin bit for bit on random shapes, strides, paddings, dilations, groups and batches", () => {
    fc.assert(
      fc.property(convArb(), seedArb, (c, seed) => {
        const rand = random(seed);
        const w = normals(rand, wLen(c));
        const dy = normals(rand, yLen(c));
        expectSameBits(wasmBackInput(dy, w, c), twinBackInput(dy, w, c), "conv2d_backward_input");
      }),
      { numRuns: 250 },
    );
  });

  it("equals the twin on linear layers (batch tiles of 4, channel tiles of 8 and 4, tails)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 13 }), seedArb,
        (B, groups, cinG, coutG, seed) => {
          const c = linearConv(B, groups * cinG, groups * coutG, groups);
          const rand = random(seed);
          const w = normals(rand, wLen(c));
          const dy = normals(rand, yLen(c));
          expectSameBits(wasmBackInput(dy, w, c), twinBackInput(dy, w, c), "linear backward input");
        },
      ),
    );
  });

  it("equals the twin on a wide linear layer (8195 inputs, 10 outputs, batch 64)", () => {
    const c = linearConv(64, 8195, 10);
    const rand = random(8195);
    const w = normals(rand, wLen(c), 0.05);
    const dy = normals(rand, yLen(c));
    expectSameBits(wasmBackInput(dy, w, c), twinBackInput(dy, w, c), "wide linear backward input");
  });

  it("sums in the order (ky, kx, co), co fastest", () => {
    // One input pixel (W 1, kW 2, pW 1) fed by taps kx 0 (ox 1) and kx 1 (ox 0) of two channels, dy all 1. Terms in
    // the order (kx, co): w[0][0], w[1][0], w[0][1], w[1][1] = 2^-24, 1, 2^-24, 0 sum to 1; in the order (co, kx)
    // they would give 1 + 2^-23.
    const c: Conv = { B: 1, Cin: 1, H: 1, W: 1, Cout: 2, Ho: 1, Wo: 2, kH: 1, kW: 2, sH: 1, sW: 1, pH: 0, pW: 1, dH: 1, dW: 1, groups: 1 };
    const dy = new Float32Array([1, 1, 1, 1]);
    const w = new Float32Array([2 ** -24, 2 ** -24, 1, 0]); // w[co][kx]
    expect(wasmBackInput(dy, w, c)[0]).toBe(1);
    expect(twinBackInput(dy, w, c)[0]).toBe(1);
    // co order within a tap: (1 + 2^-24) + 2^-24 = 1, (2^-24 + 2^-24) + 1 = 1 + 2^-23.
    const three: Conv = { ...c, W: 2, Cout: 3, kW: 1, pW: 0, Wo: 2 };
    const dy3 = new Float32Array(6).fill(1);
    expect(wasmBackInput(dy3, new Float32Array([1, 2 ** -24, 2 ** -24]), three)[0]).toBe(1);
    expect(wasmBackInput(dy3, new Float32Array([2 ** -24, 2 ** -24, 1]), three)[1]).toBe(1 + 2 ** -23);
  });

  it("agrees with a float64 transposed convolution from the definition (1e-4 relative)", () => {
    fc.assert(
      fc.property(convArb(), seedArb, (c, seed) => {
        const rand = random(seed);
        const w = normals(rand, wLen(c));
        const dy = normals(rand, yLen(c));
        const ref = reference64(new Float32Array(xLen(c)), w, dy, c);
        expectClose(wasmBackInput(dy, w, c), ref.dx, ref.dxMag, 1e-4, "dx vs float64");
      }),
      { numRuns: 100 },
    );
  });

  it("is the adjoint of conv2d: <dy, conv(x)> == <conv_backward_input(dy), x> in float64", () => {
    fc.assert(
      fc.property(convArb(), seedArb, (c, seed) => {
        const rand = random(seed);
        const w = normals(rand, wLen(c));
        const x = normals(rand, xLen(c));
        const dy = normals(rand, yLen(c));
        const y = new Float32Array(yLen(c));
        twin.conv2d(x, w, null, y, ...dims(c));
        const dx = wasmBackInput(dy, w, c);
        let lhs = 0, rhs = 0, mag = 0;
        for (let i = 0; i < y.length; i++) lhs += dy[i] * y[i];
        for (let i = 0; i < x.length; i++) rhs += dx[i] * x[i];
        const ref = reference64(x, w, dy, c);
        for (let i = 0; i < x.length; i++) mag += ref.dxMag[i] * Math.abs(x[i]);
        expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-5 * mag + 1e-30);
      }),
      { numRuns: 100 },
    );
  });
});

describe("conv2d_backward_weight", () => {
  it("equals the twin bit for bit on random shapes and inputs (analog, spikes, counts), accumulating into dw", () => {
    fc.assert(
      fc.property(convArb(), seedArb, fc.constantFrom(0, 1, 2), (c, seed, kind) => {
        const rand = random(seed);
        const x = inputs(rand, xLen(c), kind);
        const dy = normals(rand, yLen(c));
        const dw0 = normals(rand, wLen(c), 0.1);
        expectSameBits(wasmBackWeight(x, dy, dw0, c), twinBackWeight(x, dy, dw0, c), "conv2d_backward_weight");
      }),
      { numRuns: 250 },
    );
  });

  it("equals the twin on linear layers and on a wide one (8195 inputs, 10 outputs, batch 64)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 13 }), seedArb, fc.constantFrom(0, 1),
        (B, groups, cinG, coutG, seed, kind) => {
          const c = linearConv(B, groups * cinG, groups * coutG, groups);
          const rand = random(seed);
          const x = inputs(rand, xLen(c), kind);
          const dy = normals(rand, yLen(c));
          const dw0 = normals(rand, wLen(c), 0.1);
          expectSameBits(wasmBackWeight(x, dy, dw0, c), twinBackWeight(x, dy, dw0, c), "linear backward weight");
        },
      ),
    );
    const c = linearConv(64, 8195, 10);
    const rand = random(64);
    const x = spikes(rand, xLen(c), 0.2, "binary");
    const dy = normals(rand, yLen(c));
    const dw0 = new Float32Array(wLen(c));
    expectSameBits(wasmBackWeight(x, dy, dw0, c), twinBackWeight(x, dy, dw0, c), "wide linear backward weight");
  });

  it("sums each element over (b, oy, ox) from +0, then adds the sum to dw once", () => {
    // dw = 1, products 2^-24 and 2^-24: adding the finished sum gives 1 + 2^-23; adding each product would give 1.
    const c: Conv = { B: 2, Cin: 1, H: 1, W: 1, Cout: 1, Ho: 1, Wo: 1, kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 };
    const got = wasmBackWeight(new Float32Array([1, 1]), new Float32Array([2 ** -24, 2 ** -24]), new Float32Array([1]), c);
    expect(got[0]).toBe(1 + 2 ** -23);
    const conv = { ...c, B: 1, W: 3, Wo: 3 };
    const seq = wasmBackWeight(new Float32Array([1, 1, 1]), new Float32Array([1, 2 ** -24, 2 ** -24]), new Float32Array([0]), conv);
    expect(seq[0]).toBe(1); // (1 + 2^-24) + 2^-24 in order
    const two = { ...c, B: 1, W: 2, Wo: 2 };
    expect(wasmBackWeight(new Float32Array([1, 1]), new Float32Array([2 ** -24, 2 ** -24]), new Float32Array([1]), two)[0]).toBe(1 + 2 ** -23);
  });

  it("agrees with a float64 gradient from the definition (1e-4 relative)", () => {
    fc.assert(
      fc.property(convArb(), seedArb, fc.constantFrom(0, 1), (c, seed, kind) => {
        const rand = random(seed);
        const x = inputs(rand, xLen(c), kind);
        const dy = normals(rand, yLen(c));
        const ref = reference64(x, new Float32Array(wLen(c)), dy, c);
        expectClose(wasmBackWeight(x, dy, new Float32Array(wLen(c)), c), ref.dw, ref.dwMag, 1e-4, "dw vs float64");
      }),
      { numRuns: 100 },
    );
  });

  it("gives the same bits for binary spikes whether or not their zeros are skipped", () => {
    // The twin skips x == 0; a float64-free check: the plain definition without the skip, in float32.
    fc.assert(
      fc.property(convArb({ B: 2 }), seedArb, (c, seed) => {
        const rand = random(seed);
        const x = spikes(rand, xLen(c), 0.2, "binary");
        const dy = normals(rand, yLen(c));
        const got = wasmBackWeight(x, dy, new Float32Array(wLen(c)), c);
        const CinG = c.Cin / c.groups, CoutG = c.Cout / c.groups;
        for (let co = 0; co < c.Cout; co++) {
          const g = Math.floor(co / CoutG);
          for (let ci = 0; ci < CinG; ci++) {
            for (let ky = 0; ky < c.kH; ky++) {
              for (let kx = 0; kx < c.kW; kx++) {
                let acc = 0;
                for (let b = 0; b < c.B; b++) {
                  for (let oy = 0; oy < c.Ho; oy++) {
                    for (let ox = 0; ox < c.Wo; ox++) {
                      const iy = oy * c.sH - c.pH + ky * c.dH, ix = ox * c.sW - c.pW + kx * c.dW;
                      const xv = iy >= 0 && iy < c.H && ix >= 0 && ix < c.W ? x[((b * c.Cin + g * CinG + ci) * c.H + iy) * c.W + ix] : 0;
                      acc = Math.fround(acc + Math.fround(dy[((b * c.Cout + co) * c.Ho + oy) * c.Wo + ox] * xv));
                    }
                  }
                }
                const o = ((co * CinG + ci) * c.kH + ky) * c.kW + kx;
                if (!Object.is(got[o], Math.fround(0 + acc))) throw new Error(`dw ${o}: ${got[o]} vs ${acc}`);
              }
            }
          }
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("bias_backward", () => {
  it("equals the twin bit for bit (conv-shaped and flat)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 11 }), fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 30 })), seedArb,
        (B, C, HW, seed) => {
          const rand = random(seed);
          const dy = normals(rand, B * C * HW);
          const db0 = normals(rand, C);
          const want = db0.slice();
          twin.biasBackward(dy, want, B, C, HW);
          arena.reset();
          const dbp = arena.f32(db0);
          core.exports.bias_backward(arena.f32(dy), dbp, B, C, HW);
          arena.checkGuards();
          expectSameBits(arena.readF32(dbp, C), want, "bias_backward");
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
interface Pool { B: number; C: number; H: number; W: number; Ho: number; Wo: number; kH: number; kW: number; sH: number; sW: number; pH: number; pW: number }
const poolArb = fc
  .record({
    B: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 9 }),
    kH: fc.integer({ min: 1, max: 4 }), kW: fc.integer({ min: 1, max: 4 }),
    sH: fc.integer({ min: 1, max: 4 }), sW: fc.integer({ min: 1, max: 4 }),
    pH: fc.integer({ min: 0, max: 2 }), pW: fc.integer({ min: 0, max: 2 }),
  })
  .map((s): Pool => ({ ...s, Ho: outSize(s.H, s.kH, s.sH, s.pH, 1), Wo: outSize(s.W, s.kW, s.sW, s.pW, 1) }))
  .filter((p) => p.Ho >= 1 && p.Wo >= 1 && p.pH < p.kH && p.pW < p.kW);
const pdims = (p: Pool) => [p.B, p.C, p.H, p.W, p.Ho, p.Wo, p.kH, p.kW, p.sH, p.sW, p.pH, p.pW] as const;

function wasmPoolBack(kind: number, x: Float32Array, dy: Float32Array, p: Pool): Float32Array {
  arena.reset();
  const xp = arena.f32(x);
  const dyp = arena.f32(dy);
  const dxp = arena.f32(x.length);
  core.exports.pool2d_backward(kind, xp, dyp, dxp, ...pdims(p));
  arena.checkGuards();
  return arena.readF32(dxp, x.length);
}

/** Inputs whose values differ by at least 0.008 (multiples of 0.01 plus non-dyadic noise under 0.001). */
function separated(rand: () => number, n: number): Float32Array {
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
  return Float32Array.from(order, (k) => 0.01 * (k - n / 2) + 0.001 * rand());
}

describe("pool2d_backward", () => {
  it("equals the twin bit for bit for avg, sum and max (overlapping windows, padding)", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2), poolArb, seedArb, fc.boolean(), (kind, p, seed, ties) => {
        const rand = random(seed);
        const n = p.B * p.C * p.H * p.W;
        // Spikes make ties, which max must break toward the first element.
        const x = ties ? spikes(rand, n, 0.5, "binary") : normals(rand, n);
        const dy = normals(rand, p.B * p.C * p.Ho * p.Wo);
        const want = new Float32Array(n).fill(Number.NaN);
        twin.pool2dBackward(kind, x, dy, want, ...pdims(p));
        expectSameBits(wasmPoolBack(kind, x, dy, p), want, `pool2d_backward kind ${kind}`);
      }),
      { numRuns: 200 },
    );
  });

  it("sends a max window's gradient to its first maximum", () => {
    const p: Pool = { B: 1, C: 1, H: 2, W: 2, Ho: 1, Wo: 1, kH: 2, kW: 2, sH: 2, sW: 2, pH: 0, pW: 0 };
    expect(Array.from(wasmPoolBack(2, new Float32Array([0, 1, 1, 0]), new Float32Array([0.7]), p))).toEqual([0, Math.fround(0.7), 0, 0]);
    expect(Array.from(wasmPoolBack(0, new Float32Array(4), new Float32Array([1]), p))).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it("matches central differences of the twin pool (avg, sum; max where the maximum is unique)", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2), poolArb, seedArb, (kind, p, seed) => {
        const rand = random(seed);
        const n = p.B * p.C * p.H * p.W;
        const m = p.B * p.C * p.Ho * p.Wo;
        const x = kind === 2 ? separated(rand, n) : normals(rand, n);
        const c = normals(rand, m);
        const y = new Float32Array(m);
        const loss = (xs: Float32Array) => {
          twin.pool2d(kind, xs, y, ...pdims(p));
          let L = 0;
          for (let i = 0; i < m; i++) L += c[i] * y[i];
          return L;
        };
        const g = wasmPoolBack(kind, x, c, p);
        const h = kind === 2 ? 1e-3 : 0.1; // avg and sum are linear; max must keep its argmax
        for (let i = 0; i < n; i++) {
          const xp = x.slice(), xm = x.slice();
          xp[i] += h;
          xm[i] -= h;
          const fd = (loss(xp) - loss(xm)) / (Math.fround(xp[i]) - Math.fround(xm[i]));
          expect(Math.abs(g[i] - fd), `input ${i}`).toBeLessThanOrEqual(1e-3 * (1 + Math.abs(fd)));
        }
      }),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
const layerArb = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  C: fc.integer({ min: 1, max: 9 }),
  HW: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 23 })),
});

describe("affine_backward", () => {
  it("equals the twin bit for bit, with every output present or skipped, and dx in place of dy", () => {
    fc.assert(
      fc.property(layerArb, seedArb, fc.constantFrom(0, 1, 2, 3), ({ B, C, HW }, seed, mode) => {
        const rand = random(seed);
        const n = B * C * HW;
        const x = normals(rand, n), dy = normals(rand, n), scale = normals(rand, C);
        const ds0 = normals(rand, C), dh0 = normals(rand, C);
        const skip = mode === 3;
        const inPlace = mode === 2;
        const wdx = new Float32Array(n), wds = ds0.slice(), wdh = dh0.slice();
        twin.affineBackward(x, dy, scale, mode === 1 ? null : wdx, skip ? null : wds, skip ? null : wdh, B, C, HW);
        arena.reset();
        const xp = arena.f32(x), dyp = arena.f32(dy), sp = arena.f32(scale);
        const dxp = mode === 1 ? 0 : inPlace ? dyp : arena.f32(n);
        const dsp = arena.f32(ds0), dhp = arena.f32(dh0);
        core.exports.affine_backward(xp, dyp, sp, dxp, skip ? 0 : dsp, skip ? 0 : dhp, B, C, HW);
        arena.checkGuards();
        if (dxp) expectSameBits(arena.readF32(dxp, n), wdx, "dx");
        expectSameBits(arena.readF32(dsp, C), skip ? ds0 : wds, "dscale");
        expectSameBits(arena.readF32(dhp, C), skip ? dh0 : wdh, "dshift");
      }),
      { numRuns: 150 },
    );
  });

  it("matches central differences of the twin affine", () => {
    fc.assert(
      fc.property(layerArb, seedArb, ({ B, C, HW }, seed) => {
        const rand = random(seed);
        const n = B * C * HW;
        const x = normals(rand, n), c = normals(rand, n), scale = normals(rand, C), shift = normals(rand, C);
        const y = new Float32Array(n);
        const loss = (xs: Float32Array, sc: Float32Array, sh: Float32Array) => {
          twin.affine(xs, y, sc, sh, B, C, HW);
          let L = 0;
          for (let i = 0; i < n; i++) L += c[i] * y[i];
          return L;
        };
        arena.reset();
        const dxp = arena.f32(n), dsp = arena.f32(new Float32Array(C)), dhp = arena.f32(new Float32Array(C));
        core.exports.affine_backward(arena.f32(x), arena.f32(c), arena.f32(scale), dxp, dsp, dhp, B, C, HW);
        const gx = arena.readF32(dxp, n), gs = arena.readF32(dsp, C), gh = arena.readF32(dhp, C);
        const h = 0.01;
        const fd = (arr: Float32Array, i: number) => {
          const keep = arr[i];
          arr[i] = keep + h;
          const hi = Math.fround(keep + h);
          const Lp = loss(x, scale, shift);
          arr[i] = keep - h;
          const lo = Math.fround(keep - h);
          const Lm = loss(x, scale, shift);
          arr[i] = keep;
          return (Lp - Lm) / (hi - lo);
        };
        let mag = 1;
        for (let i = 0; i < n; i++) mag += Math.abs(c[i] * x[i]);
        for (let i = 0; i < n; i++) expect(Math.abs(gx[i] - fd(x, i))).toBeLessThanOrEqual(2e-3 * (1 + Math.abs(gx[i])));
        for (let k = 0; k < C; k++) {
          expect(Math.abs(gs[k] - fd(scale, k))).toBeLessThanOrEqual(1e-3 * mag);
          expect(Math.abs(gh[k] - fd(shift, k))).toBeLessThanOrEqual(1e-3 * mag);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe("relu_backward", () => {
  it("equals the twin bit for bit, out of place and in place, and matches central differences", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 41 }), seedArb, fc.boolean(), (n, seed, inPlace) => {
        const rand = random(seed);
        const x = normals(rand, n), dy = normals(rand, n);
        if (n > 2) x[0] = -0;
        const want = new Float32Array(n);
        twin.reluBackward(x, dy, want, n);
        arena.reset();
        const xp = arena.f32(x), dyp = arena.f32(dy);
        const dxp = inPlace ? dyp : arena.f32(n);
        core.exports.relu_backward(xp, dyp, dxp, n);
        arena.checkGuards();
        const got = arena.readF32(dxp, n);
        expectSameBits(got, want, "relu_backward");
        const y = new Float32Array(1);
        for (let i = 0; i < n; i++) {
          if (Math.abs(x[i]) < 0.02) continue;
          const h = 0.01;
          twin.relu(new Float32Array([x[i] + h]), y, 1);
          const yp = y[0];
          twin.relu(new Float32Array([x[i] - h]), y, 1);
          const fd = (dy[i] * (yp - y[0])) / (Math.fround(x[i] + h) - Math.fround(x[i] - h));
          expect(Math.abs(got[i] - fd)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(fd)));
        }
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
const subtract = 0, zero = 1, none = 2, subtractDelay = 3;

// cmp, the threshold the membrane must exceed: thr (spike at v > thr), the float32 below thr (fireAtThreshold: spike
// at v >= thr), or values of its own.
type CmpKind = "thr" | "below" | "free";
const cmpArb = fc.constantFrom<CmpKind>("thr", "below", "free");
const cmpOf = (kind: CmpKind, thr: Float32Array, rand: () => number): Float32Array =>
  kind === "thr" ? thr : kind === "below" ? thr.map(below) : uniforms(rand, thr.length, 0.2, 1.5);

/**
 * Neuron parameters, and a draw of inputs: on a coarse dyadic grid (beta 1/2, 3/4 or 1; thresholds, currents and
 * membranes multiples of 1/8) so membranes land exactly on their thresholds, or uniforms and normals.
 */
function neuronSet(rand: () => number, dyadic: boolean, np: number, n: number) {
  const grid = (k: number, lo: number, hi: number) => Float32Array.from({ length: k }, () => (lo + Math.floor(rand() * (hi - lo + 1))) / 8);
  const p = dyadic
    ? { beta: Float32Array.from({ length: np }, () => [0.5, 0.75, 1][Math.floor(rand() * 3)]), thr: grid(np, 2, 12), vr: grid(np, -2, 2) }
    : { beta: uniforms(rand, np, 0.3, 1.1), thr: uniforms(rand, np, 0.2, 1.5), vr: normals(rand, np, 0.3) };
  const draw = () => (dyadic ? grid(n, -8, 12) : normals(rand, n, 1.5));
  return { ...p, v0: dyadic ? grid(n, -4, 8) : normals(rand, n), draw };
}

describe("lif_forward_train", () => {
  it("equals the twin bit for bit for every surrogate, reset (delayed subtract too), layout and cmp over several steps", () => {
    fc.assert(
      fc.property(
        layerArb, fc.constantFrom(subtract, zero, none, subtractDelay), fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1),
        fc.integer({ min: 1, max: 4 }), cmpArb, fc.boolean(), seedArb,
        ({ B, C, HW }, reset, sur, perNeuron, T, cmpKind, dyadic, seed) => {
          const rand = random(seed);
          const n = B * C * HW;
          const np = perNeuron ? C * HW : C;
          const { beta, thr, vr, v0, draw } = neuronSet(rand, dyadic, np, n);
          const cmp = cmpOf(cmpKind, thr, rand);
          // the delayed subtract reads the previous spikes (0/1, or smooth ones); the other modes ignore s on entry
          const s0 = reset !== subtractDelay ? null : sur === 3 ? uniforms(rand, n, 0, 1) : spikes(rand, n, 0.4, "binary");
          const s = s0 ? s0.slice() : new Float32Array(n), v = v0.slice(), u = new Float32Array(n);
          arena.reset();
          const Ip = arena.f32(n), sp = s0 ? arena.f32(s0) : arena.f32(n), vp = arena.f32(v), up = arena.f32(n);
          const bp = arena.f32(beta), tp = arena.f32(thr), cp = arena.f32(cmp), rp = arena.f32(vr);
          for (let t = 0; t < T; t++) {
            const I = draw();
            new Float32Array(core.memory.buffer, Ip, n).set(I);
            core.exports.lif_forward_train(Ip, sp, vp, up, bp, tp, cp, rp, B, C, HW, perNeuron, reset, sur);
            twin.lifForwardTrain(I, s, v, u, beta, thr, cmp, vr, B, C, HW, perNeuron, reset, sur);
            expectSameBits(arena.readF32(up, n), u, `u at step ${t}`);
            expectSameBits(arena.readF32(sp, n), s, `s at step ${t}`);
            expectSameBits(arena.readF32(vp, n), v, `v at step ${t}`);
          }
          arena.checkGuards();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("gives the lif kernel's s and v (resetDelay 0) for the step surrogates, for every cmp", () => {
    fc.assert(
      fc.property(
        layerArb, fc.constantFrom(subtract, zero, none), fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1), cmpArb, fc.boolean(), seedArb,
        ({ B, C, HW }, reset, sur, perNeuron, cmpKind, dyadic, seed) => {
          const rand = random(seed);
          const n = B * C * HW;
          const np = perNeuron ? C * HW : C;
          const { beta, thr, vr, v0, draw } = neuronSet(rand, dyadic, np, n);
          const cmp = cmpOf(cmpKind, thr, rand);
          arena.reset();
          const bp = arena.f32(beta), tp = arena.f32(thr), cp = arena.f32(cmp), rp = arena.f32(vr);
          const s1 = arena.f32(new Float32Array(n)), v1 = arena.f32(v0), s2 = arena.f32(n), v2 = arena.f32(v0), up = arena.f32(n);
          const Ip = arena.f32(n);
          for (let t = 0; t < 3; t++) {
            new Float32Array(core.memory.buffer, Ip, n).set(draw());
            core.exports.lif(Ip, s1, v1, bp, tp, cp, rp, B, C, HW, perNeuron, reset, 0);
            core.exports.lif_forward_train(Ip, s2, v2, up, bp, tp, cp, rp, B, C, HW, perNeuron, reset, sur);
            expectSameBits(arena.readF32(s2, n), arena.readF32(s1, n), "s");
            expectSameBits(arena.readF32(v2, n), arena.readF32(v1, n), "v");
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("spikes smoothly with surrogate 3: sigmoid(4*(u - thr)) within 1e-6", () => {
    for (const d of [-30, -3, -0.7, -0.1, 0, 0.05, 0.4, 2, 25]) {
      const thr = 0.9;
      const u = Math.fround(thr + d);
      const exact = 1 / (1 + Math.exp(-4 * (u - Math.fround(thr))));
      expect(Math.abs(twin.smoothSpike(u, Math.fround(thr)) - exact)).toBeLessThanOrEqual(1e-6 * Math.max(exact, 1e-3));
    }
    for (let z = -80; z < 80; z += 0.37) {
      expect(Math.abs(twin.expCore(Math.fround(z)) / Math.exp(Math.fround(z)) - 1)).toBeLessThan(1e-6);
    }
  });
});

describe("lif_forward_train on the threshold", () => {
  // u lands exactly on thr or one float32 ulp either side; cmp = thr (spike at u > thr) or below(thr) (u >= thr).
  const next = (x: number, dir: 1 | -1): number => {
    if (x === 0) return dir * 2 ** -149;
    const f = new Float32Array([x]);
    const u = new Uint32Array(f.buffer);
    u[0] += (x > 0) === (dir > 0) ? 1 : -1;
    return f[0];
  };
  const run = (L: Float32Array, p: { thr: Float32Array; cmp: Float32Array }, C: number, HW: number, perNeuron: number, mode: number, sur: number) => {
    const n = L.length;
    arena.reset();
    const np = p.thr.length;
    const Ip = arena.f32(L), sp = arena.f32(new Float32Array(n)), vp = arena.f32(new Float32Array(n)), up = arena.f32(n);
    const bp = arena.f32(new Float32Array(np).fill(1)), tp = arena.f32(p.thr), cp = arena.f32(p.cmp), rp = arena.f32(new Float32Array(np).fill(0.25));
    core.exports.lif_forward_train(Ip, sp, vp, up, bp, tp, cp, rp, 1, C, HW, perNeuron, mode, sur);
    arena.checkGuards();
    return { s: arena.readF32(sp, n), v: arena.readF32(vp, n), u: arena.readF32(up, n) };
  };

  it("fires at u >= thr with cmp = below(thr), at u > thr with cmp = thr, subtracting thr itself, in every mode", () => {
    for (const t of [1, 0.75, 0, -0, 2 ** -149, -(2 ** -149), -0.5]) {
      for (const fire of [false, true]) {
        for (const mode of [subtract, zero, none, subtractDelay]) {
          for (const sur of [0, 1, 2]) {
            for (const [C, HW, perNeuron] of [[1, 5, 0], [1, 6, 1], [6, 1, 0], [2, 7, 0]]) {
              const n = C * HW;
              const thr = new Float32Array(perNeuron ? n : C).fill(t);
              const p = { thr, cmp: fire ? thr.map(below) : thr };
              const L = Float32Array.from({ length: n }, (_, i) => [t, next(t, -1), next(t, 1)][i % 3]);
              const got = run(L, p, C, HW, perNeuron, mode, sur);
              const what = `thr ${Object.is(t, -0) ? "-0" : t}, fire ${fire}, mode ${mode}, surrogate ${sur}, ${C}x${HW}/${perNeuron}`;
              for (let i = 0; i < n; i++) {
                const u = Math.fround(0 + L[i]);
                const spike = fire ? u >= Math.fround(t) : u > Math.fround(t);
                expect(got.s[i], `${what}: neuron ${i}`).toBe(spike ? 1 : 0);
                const v = !spike || mode === none || mode === subtractDelay ? u : mode === zero ? 0.25 : Math.fround(u - Math.fround(t));
                expect(got.v[i], `${what}: neuron ${i} membrane`).toBe(v);
              }
              // and the twin agrees bit for bit
              const s = new Float32Array(n), v = new Float32Array(n), u = new Float32Array(n);
              const np = thr.length;
              twin.lifForwardTrain(L, s, v, u, new Float32Array(np).fill(1), p.thr, p.cmp, new Float32Array(np).fill(0.25), 1, C, HW, perNeuron, mode, sur);
              expectSameBits(got.s, s, `${what}: twin s`);
              expectSameBits(got.v, v, `${what}: twin v`);
              expectSameBits(got.u, u, `${what}: twin u`);
            }
          }
        }
      }
    }
  });

  it("the smooth surrogate's spike is centred on thr and ignores cmp", () => {
    const thr = new Float32Array([1]);
    const L = Float32Array.of(1, next(1, -1), next(1, 1), 0.5, 1.5);
    for (const mode of [subtract, zero, none, subtractDelay]) {
      const a = run(L, { thr, cmp: thr }, 1, 5, 0, mode, 3);
      const b = run(L, { thr, cmp: thr.map(below) }, 1, 5, 0, mode, 3);
      expectSameBits(b.s, a.s, `mode ${mode}: s`);
      expectSameBits(b.v, a.v, `mode ${mode}: v`);
      expect(a.s[0]).toBe(0.5);
    }
  });
});

/** Runs lif_backward on the core, returning dI, gv (out) and dbeta. */
function wasmLifBack(
  a: { ds: Float32Array; u: Float32Array; s: Float32Array; vprev: Float32Array; gv: Float32Array; dbeta: Float32Array | null; beta: Float32Array; thr: Float32Array; vr: Float32Array },
  B: number, C: number, HW: number, perNeuron: number, reset: number, sur: number, keep: number, dIonDs = false,
) {
  arena.reset();
  const n = B * C * HW;
  const dsp = arena.f32(a.ds), up = arena.f32(a.u), sp = arena.f32(a.s), vpp = arena.f32(a.vprev), gvp = arena.f32(a.gv);
  const dIp = dIonDs ? dsp : arena.f32(n);
  const dbp = a.dbeta ? arena.f32(a.dbeta) : 0;
  core.exports.lif_backward(dsp, up, sp, vpp, gvp, dIp, dbp, arena.f32(a.beta), arena.f32(a.thr), arena.f32(a.vr),
    B, C, HW, perNeuron, reset, sur, keep);
  arena.checkGuards();
  return { dI: arena.readF32(dIp, n), gv: arena.readF32(gvp, n), dbeta: a.dbeta ? arena.readF32(dbp, a.dbeta.length) : null };
}

describe("lif_backward", () => {
  it("equals the twin bit for bit for every surrogate, reset rule, keepReset and parameter layout", () => {
    fc.assert(
      fc.property(
        layerArb, fc.constantFrom(subtract, zero, none, subtractDelay), fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1),
        fc.constantFrom(0, 1), fc.constantFrom(0, 1, 2), seedArb,
        ({ B, C, HW }, reset, sur, keep, perNeuron, mode, seed) => {
          const rand = random(seed);
          const n = B * C * HW;
          const np = perNeuron ? C * HW : C;
          const thr = uniforms(rand, np, 0.2, 1.5);
          const u = normals(rand, n, 1.2);
          const s = sur === 3 ? uniforms(rand, n, 0, 1) : new Float32Array(n).map(() => (rand() < 0.4 ? 1 : 0));
          const a = {
            ds: normals(rand, n), u, s, vprev: normals(rand, n), gv: normals(rand, n),
            dbeta: mode === 1 ? null : normals(rand, np), beta: uniforms(rand, np, 0.3, 1), thr, vr: normals(rand, np, 0.3),
          };
          const got = wasmLifBack(a, B, C, HW, perNeuron, reset, sur, keep, mode === 2);
          const dI = new Float32Array(n), gv = a.gv.slice(), dbeta = a.dbeta ? a.dbeta.slice() : null;
          twin.lifBackward(a.ds, u, s, a.vprev, gv, dI, dbeta, a.beta, thr, a.vr, B, C, HW, perNeuron, reset, sur, keep);
          expectSameBits(got.dI, dI, "dI");
          expectSameBits(got.gv, gv, "gv");
          if (dbeta) expectSameBits(got.dbeta!, dbeta, "dbeta");
        },
      ),
      { numRuns: 400 },
    );
  });

  // With ds = 1 and gv = 0, du = sg(u): the kernel's surrogate at chosen points.
  const sg = (sur: number, us: number[], thr: number) => {
    const n = us.length;
    const a = {
      ds: new Float32Array(n).fill(1), u: Float32Array.from(us), s: new Float32Array(n), vprev: new Float32Array(n),
      gv: new Float32Array(n), dbeta: null, beta: new Float32Array([1]), thr: new Float32Array([thr]), vr: new Float32Array(1),
    };
    return Array.from(wasmLifBack(a, 1, 1, n, 0, subtract, sur, 0).dI);
  };

  it("has the triangle surrogate of the SAM paper's code: 0.3/thr at u = thr, zero from |u/thr - 1| >= 1", () => {
    for (const thr of [1, 0.5, 1.7]) {
      const got = sg(0, [thr, thr * 0.5, thr * 1.5, 0, 2 * thr, -thr, 3 * thr, thr * 1.25, thr], thr);
      const want = [0.3 / thr, 0.15 / thr, 0.15 / thr, 0, 0, 0, 0, 0.225 / thr, 0.3 / thr];
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 6);
    }
  });

  it("has snnTorch's atan (alpha 2) and fast-sigmoid (slope 25) surrogates: 1 at u = thr", () => {
    const thr = 0.8;
    const us = [thr, thr + 1 / Math.PI, thr - 1 / Math.PI, thr + 0.3, thr - 2, thr, thr + 0.04, thr - 0.12];
    const atan = sg(1, us, thr);
    const fast = sg(2, us, thr);
    for (let i = 0; i < us.length; i++) {
      const d = Math.fround(Math.fround(us[i]) - Math.fround(thr));
      expect(atan[i]).toBeCloseTo(1 / (1 + (Math.PI * d) ** 2), 6);
      expect(fast[i]).toBeCloseTo(1 / (1 + 25 * Math.abs(d)) ** 2, 6);
    }
    expect(atan[0]).toBe(1);
    expect(fast[0]).toBe(1);
    expect(atan[1]).toBeCloseTo(0.5, 6);
    expect(fast[6]).toBeCloseTo(0.25, 6);
  });

  it("has the smooth surrogate's exact derivative: 4*s*(1 - s) of the recorded spike", () => {
    const n = 5;
    const s = Float32Array.from([0.5, 0.1, 0.9, 0.01, 0.999]);
    const a = {
      ds: new Float32Array(n).fill(1), u: new Float32Array(n), s, vprev: new Float32Array(n), gv: new Float32Array(n),
      dbeta: null, beta: new Float32Array([1]), thr: new Float32Array([1]), vr: new Float32Array(1),
    };
    const got = wasmLifBack(a, 1, 1, n, 0, subtract, 3, 0).dI;
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(4 * s[i] * (1 - s[i]), 6);
  });

  it("passes gv through the reset: dv/du is 1 (subtract, detached), 1 - thr*sg (kept), 1 - s (zero)", () => {
    const a = {
      ds: new Float32Array([0, 0]), u: new Float32Array([1, 1]), s: new Float32Array([1, 0]), vprev: new Float32Array([2, 3]),
      gv: new Float32Array([0.5, 0.5]), dbeta: new Float32Array([0]), beta: new Float32Array([0.5]),
      thr: new Float32Array([1]), vr: new Float32Array([0.25]),
    };
    // triangle at u = thr: sg = 0.3
    expect(Array.from(wasmLifBack({ ...a }, 1, 1, 2, 0, subtract, 0, 0).dI)).toEqual([0.5, 0.5]);
    const kept = wasmLifBack({ ...a }, 1, 1, 2, 0, subtract, 0, 1);
    expect(kept.dI[0]).toBeCloseTo(0.5 * 0.7, 6);
    expect(kept.gv[0]).toBeCloseTo(0.25 * 0.7, 6);
    expect(kept.dbeta![0]).toBeCloseTo(0.35 * 2 + 0.35 * 3, 5);
    expect(Array.from(wasmLifBack({ ...a }, 1, 1, 2, 0, zero, 0, 0).dI)).toEqual([0, 0.5]);
    const zk = wasmLifBack({ ...a }, 1, 1, 2, 0, zero, 0, 1).dI;
    expect(zk[0]).toBeCloseTo(0.5 * (0 + (0.25 - 1) * 0.3), 6);
    expect(Array.from(wasmLifBack({ ...a }, 1, 1, 2, 0, none, 0, 1).dI)).toEqual([0.5, 0.5]);
  });
});

describe("li_backward", () => {
  it("equals the twin bit for bit with and without a readout gradient, per channel and per neuron", () => {
    fc.assert(
      fc.property(layerArb, fc.constantFrom(0, 1), fc.constantFrom(0, 1, 2, 3), seedArb, ({ B, C, HW }, perNeuron, mode, seed) => {
        const rand = random(seed);
        const n = B * C * HW;
        const np = perNeuron ? C * HW : C;
        const dv = mode === 1 ? null : normals(rand, n);
        const gv0 = normals(rand, n), vprev = normals(rand, n), beta = uniforms(rand, np, 0.2, 1.2);
        const dbeta0 = mode === 2 ? null : normals(rand, np);
        const dI = new Float32Array(n), gv = gv0.slice(), dbeta = dbeta0 ? dbeta0.slice() : null;
        twin.liBackward(dv, gv, dI, vprev, dbeta, beta, B, C, HW, perNeuron);
        arena.reset();
        const dvp = dv ? arena.f32(dv) : 0;
        const gvp = arena.f32(gv0);
        const dIp = mode === 3 ? dvp : arena.f32(n);
        const dbp = dbeta0 ? arena.f32(dbeta0) : 0;
        core.exports.li_backward(dvp, gvp, dIp, arena.f32(vprev), dbp, arena.f32(beta), B, C, HW, perNeuron);
        arena.checkGuards();
        expectSameBits(arena.readF32(dIp, n), dI, "dI");
        expectSameBits(arena.readF32(gvp, n), gv, "gv");
        if (dbeta) expectSameBits(arena.readF32(dbp, np), dbeta, "dbeta");
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// resetDelay true and cubalif in training (ABI.md, "Backward kernels"): the delayed subtract is mode 3 of
// lif_forward_train / lif_backward; zero and none with resetDelay true are modes 1 and 2; cubalif is li then the
// lif step forward, lif_backward then li_backward (alpha as beta) back.
const mem = (p: number, n: number) => new Float32Array(core.memory.buffer, p, n);
const copyF32 = (src: number, dst: number, n: number) => mem(dst, n).set(mem(src, n));

describe("lif_forward_train with resetDelay true", () => {
  it("mode 3 is lif's delayed subtract bit for bit for the step surrogates and every cmp, with u = v (u may be v)", () => {
    fc.assert(
      fc.property(layerArb, fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1), fc.boolean(), cmpArb, fc.boolean(), seedArb, ({ B, C, HW }, sur, perNeuron, alias, cmpKind, dyadic, seed) => {
        const rand = random(seed);
        const n = B * C * HW;
        const np = perNeuron ? C * HW : C;
        const { beta, thr, vr, v0, draw } = neuronSet(rand, dyadic, np, n);
        const cmp = cmpOf(cmpKind, thr, rand);
        arena.reset();
        const bp = arena.f32(beta), tp = arena.f32(thr), cp = arena.f32(cmp), rp = arena.f32(vr);
        const s1 = arena.f32(new Float32Array(n)), v1 = arena.f32(v0), s2 = arena.f32(new Float32Array(n)), v2 = arena.f32(v0);
        const up = alias ? v2 : arena.f32(n);
        const Ip = arena.f32(n);
        for (let t = 0; t < 5; t++) {
          mem(Ip, n).set(draw());
          core.exports.lif(Ip, s1, v1, bp, tp, cp, rp, B, C, HW, perNeuron, subtract, 1);
          core.exports.lif_forward_train(Ip, s2, v2, up, bp, tp, cp, rp, B, C, HW, perNeuron, subtractDelay, sur);
          expectSameBits(arena.readF32(s2, n), arena.readF32(s1, n), `s at step ${t}`);
          expectSameBits(arena.readF32(v2, n), arena.readF32(v1, n), `v at step ${t}`);
          expectSameBits(arena.readF32(up, n), arena.readF32(v1, n), `u at step ${t}`);
        }
        arena.checkGuards();
      }),
      { numRuns: 120 },
    );
  });

  it("zero and none with resetDelay true are modes 1 and 2: the same spikes, u the delayed form's membrane, for every cmp", () => {
    fc.assert(
      fc.property(layerArb, fc.constantFrom(zero, none), fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1), cmpArb, fc.boolean(), seedArb, ({ B, C, HW }, reset, sur, perNeuron, cmpKind, dyadic, seed) => {
        const rand = random(seed);
        const n = B * C * HW;
        const np = perNeuron ? C * HW : C;
        const { beta, thr, vr, v0, draw } = neuronSet(rand, dyadic, np, n);
        const cmp = cmpOf(cmpKind, thr, rand);
        arena.reset();
        const bp = arena.f32(beta), tp = arena.f32(thr), cp = arena.f32(cmp), rp = arena.f32(vr);
        const s1 = arena.f32(new Float32Array(n)), v1 = arena.f32(v0), s2 = arena.f32(n), v2 = arena.f32(v0), up = arena.f32(n);
        const Ip = arena.f32(n);
        for (let t = 0; t < 6; t++) {
          mem(Ip, n).set(draw());
          core.exports.lif(Ip, s1, v1, bp, tp, cp, rp, B, C, HW, perNeuron, reset, 1);
          core.exports.lif_forward_train(Ip, s2, v2, up, bp, tp, cp, rp, B, C, HW, perNeuron, reset, sur);
          expectSameBits(arena.readF32(s2, n), arena.readF32(s1, n), `s at step ${t}`);
          expectSameBits(arena.readF32(up, n), arena.readF32(v1, n), `u at step ${t}`);
        }
        arena.checkGuards();
      }),
      { numRuns: 120 },
    );
  });

  it("cubalif's training step (li, then lif_forward_train on the current) is the cubalif kernel bit for bit, for every cmp", () => {
    fc.assert(
      fc.property(
        layerArb, fc.constantFrom(subtract, zero, none), fc.constantFrom(0, 1), fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1), cmpArb, fc.boolean(), seedArb,
        ({ B, C, HW }, reset, delay, sur, perNeuron, cmpKind, dyadic, seed) => {
          const rand = random(seed);
          const n = B * C * HW;
          const np = perNeuron ? C * HW : C;
          const { beta, thr, vr, v0, draw } = neuronSet(rand, dyadic, np, n);
          const alpha = dyadic ? Float32Array.from({ length: np }, () => (rand() < 0.5 ? 0.5 : 1)) : uniforms(rand, np, 0.2, 1);
          const cmp = cmpOf(cmpKind, thr, rand);
          const mode = delay && reset === subtract ? subtractDelay : reset;
          arena.reset();
          const ap = arena.f32(alpha), bp = arena.f32(beta), tp = arena.f32(thr), cp = arena.f32(cmp), rp = arena.f32(vr);
          const i1 = arena.f32(new Float32Array(n)), s1 = arena.f32(new Float32Array(n)), v1 = arena.f32(v0);
          const i2 = arena.f32(new Float32Array(n)), s2 = arena.f32(new Float32Array(n)), v2 = arena.f32(v0);
          const up = mode === subtractDelay ? v2 : arena.f32(n);
          const Ip = arena.f32(n);
          for (let t = 0; t < 5; t++) {
            mem(Ip, n).set(draw());
            core.exports.cubalif(Ip, i1, s1, v1, ap, bp, tp, cp, rp, B, C, HW, perNeuron, reset, delay);
            core.exports.li(Ip, i2, ap, B, C, HW, perNeuron);
            core.exports.lif_forward_train(i2, s2, v2, up, bp, tp, cp, rp, B, C, HW, perNeuron, mode, sur);
            expectSameBits(arena.readF32(i2, n), arena.readF32(i1, n), `i at step ${t}`);
            expectSameBits(arena.readF32(s2, n), arena.readF32(s1, n), `s at step ${t}`);
            // the delayed zero's membrane is the immediate form's u
            expectSameBits(arena.readF32(delay && reset === zero ? up : v2, n), arena.readF32(v1, n), `v at step ${t}`);
          }
          arena.checkGuards();
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("lif_backward with resetDelay true", () => {
  it("mode 3 carries dL/dv itself: g = ds*sg + gv*beta, minus gv*thr*sg with the reset kept", () => {
    const a = {
      ds: new Float32Array([0, 1]), u: new Float32Array([1, 1]), s: new Float32Array([1, 0]), vprev: new Float32Array([2, 3]),
      gv: new Float32Array([0.5, 0.5]), dbeta: new Float32Array([0]), beta: new Float32Array([0.5]),
      thr: new Float32Array([1]), vr: new Float32Array([0.25]),
    };
    // triangle at u = thr: sg = 0.3
    const det = wasmLifBack({ ...a }, 1, 1, 2, 0, subtractDelay, 0, 0);
    expect(Array.from(det.dI)).toEqual([0.25, Math.fround(Math.fround(0.3) + 0.25)]);
    expect(Array.from(det.gv)).toEqual(Array.from(det.dI));
    expect(det.dbeta![0]).toBeCloseTo(0.25 * 2 + 0.55 * 3, 5);
    const kept = wasmLifBack({ ...a }, 1, 1, 2, 0, subtractDelay, 0, 1);
    expect(kept.dI[0]).toBeCloseTo(0.5 * (0.5 - 0.3), 6);
    expect(kept.dI[1]).toBeCloseTo(0.3 + 0.5 * (0.5 - 0.3), 6);
    expect(Array.from(kept.gv)).toEqual(Array.from(kept.dI));
  });

  it("BPTT through the delayed subtract and zero, lif and cubalif, matches central differences of a float64 forward", () => {
    // Smooth spikes, reset kept: the kernels' gradient of L = sum over t, i of c_t*s_t with respect to every input
    // current and to beta, against the float64 definitions (docs/semantics.md §3 with s = sigmoid(4*(v - thr)):
    // subtract v_t = beta*v_{t-1} + x_t - thr*s_{t-1}; zero v_t = beta*(v_{t-1} + s_{t-1}*(vr - v_{t-1})) + x_t;
    // cubalif x_t = i_t = alpha*i_{t-1} + I_t).
    const B = 2, C = 3, HW = 5, T = 6, n = B * C * HW;
    for (const [reset, cuba] of [[subtract, false], [zero, false], [subtract, true], [zero, true]] as const) {
      for (const perNeuron of [0, 1]) {
        const rand = random(97 + reset * 7 + (cuba ? 3 : 0) + perNeuron);
        const np = perNeuron ? C * HW : C;
        const beta = uniforms(rand, np, 0.5, 0.95), thr = uniforms(rand, np, 0.4, 1.1), vr = normals(rand, np, 0.2);
        const alpha = uniforms(rand, np, 0.3, 0.9);
        const I = Array.from({ length: T }, () => normals(rand, n, cuba ? 0.5 : 0.9));
        const c = Array.from({ length: T }, () => normals(rand, n));
        const k = (i: number) => (perNeuron ? i % (C * HW) : Math.floor(i / HW) % C);
        const ref = (I64: Float64Array[], beta64: Float64Array): number => {
          const v = Float64Array.from({ length: n }, (_, i) => vr[k(i)]);
          const p = new Float64Array(n), syn = new Float64Array(n);
          let L = 0;
          for (let t = 0; t < T; t++) {
            for (let i = 0; i < n; i++) {
              const q = k(i);
              let x = I64[t][i];
              if (cuba) x = syn[i] = alpha[q] * syn[i] + x;
              if (reset === subtract) v[i] = beta64[q] * v[i] + x - thr[q] * p[i];
              else v[i] = beta64[q] * (v[i] + p[i] * (vr[q] - v[i])) + x;
              p[i] = 1 / (1 + Math.exp(-4 * (v[i] - thr[q])));
              L += c[t][i] * p[i];
            }
          }
          return L;
        };

        arena.reset();
        const mode = reset === subtract ? subtractDelay : zero;
        const bp = arena.f32(beta), tp = arena.f32(thr), rp = arena.f32(vr), ap = arena.f32(alpha);
        const vInit = arena.f32(Float32Array.from({ length: n }, (_, i) => vr[k(i)]));
        const zeros = arena.f32(new Float32Array(n));
        const Ip = I.map((x) => arena.f32(x)), cp = c.map((x) => arena.f32(x));
        const xs = cuba ? I.map(() => arena.f32(n)) : Ip;
        const ss = I.map(() => arena.f32(n)), vs = I.map(() => arena.f32(n));
        const us = mode === subtractDelay ? vs : I.map(() => arena.f32(n));
        for (let t = 0; t < T; t++) {
          if (cuba) {
            copyF32(t ? xs[t - 1] : zeros, xs[t], n);
            core.exports.li(Ip[t], xs[t], ap, B, C, HW, perNeuron);
          }
          copyF32(t ? vs[t - 1] : vInit, vs[t], n);
          copyF32(t ? ss[t - 1] : zeros, ss[t], n);
          core.exports.lif_forward_train(xs[t], ss[t], vs[t], us[t], bp, tp, tp, rp, B, C, HW, perNeuron, mode, 3);
        }
        const gv = arena.f32(new Float32Array(n)), gi = arena.f32(new Float32Array(n)), dbeta = arena.f32(new Float32Array(np));
        const dx = I.map(() => arena.f32(n));
        for (let t = T - 1; t >= 0; t--) {
          core.exports.lif_backward(cp[t], us[t], ss[t], t ? vs[t - 1] : vInit, gv, dx[t], dbeta, bp, tp, rp, B, C, HW, perNeuron, mode, 3, 1);
          if (cuba) core.exports.li_backward(dx[t], gi, dx[t], zeros, 0, ap, B, C, HW, perNeuron);
        }
        arena.checkGuards();
        const what = `${reset === subtract ? "subtract" : "zero"} delayed${cuba ? ", cubalif" : ""}, perNeuron ${perNeuron}`;
        const I64 = I.map((x) => Float64Array.from(x));
        const beta64 = Float64Array.from(beta);
        const h = 1e-5;
        const fd = (arr: Float64Array, i: number) => {
          const keep = arr[i];
          arr[i] = keep + h;
          const up = ref(I64, beta64);
          arr[i] = keep - h;
          const down = ref(I64, beta64);
          arr[i] = keep;
          return (up - down) / (2 * h);
        };
        const gI = dx.map((p) => arena.readF32(p, n));
        const scale = Math.max(...gI.map((g) => Math.max(...g.map(Math.abs))));
        expect(scale, what).toBeGreaterThan(0.05);
        for (let t = 0; t < T; t++) {
          for (let i = 0; i < n; i++) {
            const num = fd(I64[t], i);
            expect(Math.abs(gI[t][i] - num), `${what}: dI[${t}][${i}] ${gI[t][i]} vs ${num}`).toBeLessThanOrEqual(1e-4 * scale + 1e-4 * Math.abs(num));
          }
        }
        const gb = arena.readF32(dbeta, np);
        const bScale = Math.max(...gb.map(Math.abs));
        expect(bScale, what).toBeGreaterThan(0.05);
        for (let q = 0; q < np; q++) {
          const num = fd(beta64, q);
          expect(Math.abs(gb[q] - num), `${what}: dbeta[${q}] ${gb[q]} vs ${num}`).toBeLessThanOrEqual(1e-4 * bScale + 1e-4 * Math.abs(num));
        }
      }
    }
  });
});
