import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { Arena } from "./arena.js";
import { convArb, type Conv } from "./conv-arb.js";
import { expectSameBits, normals, random, spikes } from "./util.js";

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

function weightLen(c: Conv): number {
  return c.Cout * (c.Cin / c.groups) * c.kH * c.kW;
}

function packed(w: Float32Array, c: Conv): number {
  const CinG = c.Cin / c.groups;
  const wp = arena.f32(core.exports.conv2d_packed_len(c.Cout, CinG, c.kH, c.kW, c.groups));
  core.exports.conv2d_pack(arena.f32(w), wp, c.Cout, CinG, c.kH, c.kW, c.groups);
  return wp;
}

function dense(x: Float32Array, w: Float32Array, bias: Float32Array | null, c: Conv): Float32Array {
  arena.reset();
  const wp = packed(w, c);
  const xp = arena.f32(x);
  const bp = bias ? arena.f32(bias) : 0;
  const n = c.B * c.Cout * c.Ho * c.Wo;
  const yp = arena.f32(n);
  core.exports.conv2d_dense(xp, wp, bp, yp, c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo,
    c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.groups);
  arena.checkGuards();
  return arena.readF32(yp, n);
}

function event(x: Float32Array, w: Float32Array, bias: Float32Array | null, c: Conv): Float32Array {
  arena.reset();
  const wp = packed(w, c);
  const xp = arena.f32(x);
  const HW = c.H * c.W;
  const idx = arena.i32(c.B * HW * c.Cin);
  const cnt = arena.i32(c.B * HW);
  const total = core.exports.spike_index(xp, c.B, c.Cin, HW, idx, cnt);
  expect(total).toBe(twin.countNonzero(x, x.length));
  const bp = bias ? arena.f32(bias) : 0;
  const n = c.B * c.Cout * c.Ho * c.Wo;
  const yp = arena.f32(n);
  core.exports.conv2d_event(xp, idx, cnt, wp, bp, yp, c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo,
    c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW);
  arena.checkGuards();
  return arena.readF32(yp, n);
}

function reference(x: Float32Array, w: Float32Array, bias: Float32Array | null, c: Conv): Float32Array {
  const y = new Float32Array(c.B * c.Cout * c.Ho * c.Wo);
  twin.conv2d(x, w, bias, y, c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo,
    c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW, c.groups);
  return y;
}

function sample(y: Float32Array, b: number, per: number): Float32Array {
  return y.slice(b * per, (b + 1) * per);
}

describe("conv2d_pack", () => {
  it("lays OIHW out as the twin does, in panels of 16 output channels zero-padded", () => {
    fc.assert(
      fc.property(convArb(), seedArb, (c, seed) => {
        const w = normals(random(seed), weightLen(c));
        const CinG = c.Cin / c.groups;
        const len = core.exports.conv2d_packed_len(c.Cout, CinG, c.kH, c.kW, c.groups);
        expect(len).toBe(twin.conv2dPackedLen(c.Cout, CinG, c.kH, c.kW, c.groups));
        const expected = new Float32Array(len);
        twin.conv2dPack(w, expected, c.Cout, CinG, c.kH, c.kW, c.groups);
        arena.reset();
        const wp = packed(w, c);
        arena.checkGuards();
        expectSameBits(arena.readF32(wp, len), expected, "packed weights");
      }),
    );
  });

  it("pads each group's channels separately", () => {
    expect(core.exports.conv2d_packed_len(10, 3, 3, 3, 2)).toBe(2 * 9 * 3 * 16);
    expect(core.exports.conv2d_packed_len(8, 5, 1, 1, 1)).toBe(80);
    // panels of 16 channels: 20 channels take two
    expect(core.exports.conv2d_packed_len(20, 5, 1, 1, 1)).toBe(160);
  });
});

describe("conv2d_dense", () => {
  // Random shapes, strides, paddings, dilations, groups and batches; then wide groups, whose tiles span several
  // 16-channel panels of the packed weights.
  for (const [what, arb, numRuns] of [
    ["on random shapes, strides, paddings, dilations, groups and batches", convArb(), 150],
    ["on wide groups too (tiles over several 16-channel panels)", convArb({ coutG: 70, H: 5, W: 5, B: 2, cinG: 3 }), 60],
  ] as const) {
    it(`equals the twin bit for bit ${what}`, () => {
      fc.assert(
        fc.property(arb, seedArb, fc.boolean(), (c, seed, withBias) => {
          const rand = random(seed);
          const w = normals(rand, weightLen(c));
          const x = normals(rand, c.B * c.Cin * c.H * c.W);
          const bias = withBias ? normals(rand, c.Cout) : null;
          expectSameBits(dense(x, w, bias, c), reference(x, w, bias, c), "conv2d_dense");
        }),
        { numRuns },
      );
    });
  }

  it("computes PyTorch's conv2d: the twin matches a float64 conv over an explicitly zero-padded input", () => {
    fc.assert(
      fc.property(convArb(), seedArb, (c, seed) => {
        const rand = random(seed);
        const w = normals(rand, weightLen(c));
        const x = normals(rand, c.B * c.Cin * c.H * c.W);
        const Hp = c.H + 2 * c.pH;
        const Wp = c.W + 2 * c.pW;
        const padded = new Float64Array(c.B * c.Cin * Hp * Wp);
        for (let bc = 0; bc < c.B * c.Cin; bc++) {
          for (let i = 0; i < c.H; i++) {
            for (let j = 0; j < c.W; j++) padded[(bc * Hp + i + c.pH) * Wp + j + c.pW] = x[(bc * c.H + i) * c.W + j];
          }
        }
        const CinG = c.Cin / c.groups;
        const CoutG = c.Cout / c.groups;
        const got = reference(x, w, null, c);
        for (let b = 0; b < c.B; b++) {
          for (let co = 0; co < c.Cout; co++) {
            for (let oy = 0; oy < c.Ho; oy++) {
              for (let ox = 0; ox < c.Wo; ox++) {
                let sum = 0;
                let mag = 0;
                for (let ci = 0; ci < CinG; ci++) {
                  const cin = Math.floor(co / CoutG) * CinG + ci;
                  for (let ky = 0; ky < c.kH; ky++) {
                    for (let kx = 0; kx < c.kW; kx++) {
                      const term = w[((co * CinG + ci) * c.kH + ky) * c.kW + kx]
                        * padded[((b * c.Cin + cin) * Hp + oy * c.sH + ky * c.dH) * Wp + ox * c.sW + kx * c.dW];
                      sum += term;
                      mag += Math.abs(term);
                    }
                  }
                }
                const y = got[((b * c.Cout + co) * c.Ho + oy) * c.Wo + ox];
                if (Math.abs(y - sum) > 1e-5 * mag + 1e-30) throw new Error(`output (${b}, ${co}, ${oy}, ${ox}): ${y}, float64 ${sum}`);
              }
            }
          }
        }
      }),
    );
  });

  it("equals the twin on linear layers (1x1 images, 1x1 kernels), which tile over the batch", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 23 }), seedArb,
        (B, groups, cinG, coutG, seed) => {
          const c: Conv = { B, Cin: groups * cinG, H: 1, W: 1, Cout: groups * coutG, Ho: 1, Wo: 1,
            kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups };
          const rand = random(seed);
          const w = normals(rand, weightLen(c));
          const x = normals(rand, B * c.Cin);
          const bias = normals(rand, c.Cout);
          expectSameBits(dense(x, w, bias, c), reference(x, w, bias, c), "linear");
        },
      ),
    );
  });

  it("equals the twin on a wide linear layer (8195 inputs, 10 outputs, batch 5)", () => {
    const c: Conv = { B: 5, Cin: 8195, H: 1, W: 1, Cout: 10, Ho: 1, Wo: 1,
      kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 };
    const rand = random(8195);
    const w = normals(rand, weightLen(c), 0.05);
    const x = normals(rand, c.B * c.Cin);
    const bias = normals(rand, c.Cout);
    expectSameBits(dense(x, w, bias, c), reference(x, w, bias, c), "wide linear");
  });

  it("sums in the order (ky, kx, cin), not any other", () => {
    // 1 + 2^-24 rounds back to 1 unless the small terms are added first, so the order shows in the result.
    const c: Conv = { B: 1, Cin: 3, H: 1, W: 1, Cout: 1, Ho: 1, Wo: 1,
      kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 };
    const x = new Float32Array([1, 2 ** -24, 2 ** -24]);
    expect(dense(x, new Float32Array([1, 1, 1]), null, c)[0]).toBe(1);
    const reversed = new Float32Array([2 ** -24, 2 ** -24, 1]);
    expect(dense(reversed, new Float32Array([1, 1, 1]), null, c)[0]).toBe(1 + 2 ** -23);
    // The bias comes after the sum: 2^-24 + 2^-24 + 1 is exact, 1 + 2^-24 + 2^-24 is not.
    const pair = { ...c, Cin: 2 };
    const tiny = new Float32Array([2 ** -24, 2 ** -24]);
    expect(dense(tiny, new Float32Array([1, 1]), new Float32Array([1]), pair)[0]).toBe(1 + 2 ** -23);
  });

  it("gives a batch of n the same bits as n runs of 1", () => {
    fc.assert(
      fc.property(convArb({ B: 6 }), seedArb, (c, seed) => {
        const rand = random(seed);
        const w = normals(rand, weightLen(c));
        const x = normals(rand, c.B * c.Cin * c.H * c.W);
        const bias = normals(rand, c.Cout);
        const all = dense(x, w, bias, c);
        const one = { ...c, B: 1 };
        const per = c.Cout * c.Ho * c.Wo;
        for (let b = 0; b < c.B; b++) {
          const alone = dense(sample(x, b, c.Cin * c.H * c.W), w, bias, one);
          expectSameBits(sample(all, b, per), alone, `sample ${b}`);
        }
      }),
      { numRuns: 60 },
    );
  });
});

const densityArb = fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true }));
const kindArb = fc.constantFrom("binary" as const, "signed" as const, "count" as const);

describe("conv2d_event", () => {
  it("equals conv2d_dense and the twin bit for bit on spikes of any density and kind", () => {
    fc.assert(
      fc.property(convArb({ groups: 1, cinG: 9 }), seedArb, densityArb, kindArb, fc.boolean(), (c, seed, density, kind, withBias) => {
        const rand = random(seed);
        const w = normals(rand, weightLen(c));
        const x = spikes(rand, c.B * c.Cin * c.H * c.W, density, kind);
        const bias = withBias ? normals(rand, c.Cout) : null;
        const byEvents = event(x, w, bias, c);
        expectSameBits(byEvents, dense(x, w, bias, c), "conv2d_event vs conv2d_dense");

        const HW = c.H * c.W;
        const idx = new Int32Array(c.B * HW * c.Cin);
        const cnt = new Int32Array(c.B * HW);
        twin.spikeIndex(x, c.B, c.Cin, HW, idx, cnt);
        const y = new Float32Array(byEvents.length);
        twin.conv2dEvent(x, idx, cnt, w, bias, y, c.B, c.Cin, c.H, c.W, c.Cout, c.Ho, c.Wo,
          c.kH, c.kW, c.sH, c.sW, c.pH, c.pW, c.dH, c.dW);
        expectSameBits(byEvents, y, "conv2d_event vs twin");
      }),
      { numRuns: 150 },
    );
  });

  it("equals conv2d_dense bit for bit with many output channels (tiles of 6, 4, 2 and 1 vectors)", () => {
    fc.assert(
      fc.property(convArb({ groups: 1, cinG: 6, coutG: 70, H: 6, W: 6, B: 2 }), seedArb, densityArb, kindArb, fc.boolean(), (c, seed, density, kind, withBias) => {
        const rand = random(seed);
        const w = normals(rand, weightLen(c));
        const x = spikes(rand, c.B * c.Cin * c.H * c.W, density, kind);
        const bias = withBias ? normals(rand, c.Cout) : null;
        expectSameBits(event(x, w, bias, c), dense(x, w, bias, c), "conv2d_event vs conv2d_dense");
      }),
      { numRuns: 60 },
    );
  });

  it("takes the per-tap path, with the same bits, when a receptive field is larger than the combined list holds", () => {
    // 3x3 taps x 3700 channels = 33,300 possible entries per output pixel, over the kernel's 32,768.
    for (const [density, kind] of [[0.3, "binary"], [0.5, "count"], [1, "binary"]] as const) {
      const c: Conv = { B: 1, Cin: 3700, H: 3, W: 3, Cout: 6, Ho: 3, Wo: 3, kH: 3, kW: 3, sH: 1, sW: 1, pH: 1, pW: 1, dH: 1, dW: 1, groups: 1 } as Conv;
      const rand = random(41);
      const w = normals(rand, weightLen(c));
      const x = spikes(rand, c.B * c.Cin * c.H * c.W, density, kind);
      expectSameBits(event(x, w, null, c), dense(x, w, null, c), `per-tap path, ${kind} at ${density}`);
    }
  });

  it("gives a batch of n the same bits as n runs of 1", () => {
    fc.assert(
      fc.property(convArb({ groups: 1, B: 6 }), seedArb, densityArb, (c, seed, density) => {
        const rand = random(seed);
        const w = normals(rand, weightLen(c));
        const x = spikes(rand, c.B * c.Cin * c.H * c.W, density, "binary");
        const all = event(x, w, null, c);
        const per = c.Cout * c.Ho * c.Wo;
        for (let b = 0; b < c.B; b++) {
          const alone = event(sample(x, b, c.Cin * c.H * c.W), w, null, { ...c, B: 1 });
          expectSameBits(sample(all, b, per), alone, `sample ${b}`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("equals conv2d_dense on a sparse wide linear layer", () => {
    const c: Conv = { B: 3, Cin: 8192, H: 1, W: 1, Cout: 10, Ho: 1, Wo: 1,
      kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 };
    const rand = random(77);
    const w = normals(rand, weightLen(c), 0.05);
    const x = spikes(rand, c.B * c.Cin, 0.1, "binary");
    const bias = normals(rand, c.Cout);
    expectSameBits(event(x, w, bias, c), dense(x, w, bias, c), "sparse linear");
  });
});

describe("spike_index", () => {
  it("lists each pixel's nonzero channels in ascending order, as the twin does", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 30 }),
        seedArb, densityArb, kindArb,
        (B, C, HW, seed, density, kind) => {
          const x = spikes(random(seed), B * C * HW, density, kind);
          const idx = new Int32Array(B * HW * C);
          const cnt = new Int32Array(B * HW);
          const total = twin.spikeIndex(x, B, C, HW, idx, cnt);
          arena.reset();
          const xp = arena.f32(x);
          const ip = arena.i32(B * HW * C);
          const cp = arena.i32(B * HW);
          expect(core.exports.spike_index(xp, B, C, HW, ip, cp)).toBe(total);
          arena.checkGuards();
          const gotCnt = arena.readI32(cp, B * HW);
          const gotIdx = arena.readI32(ip, B * HW * C);
          expect(Array.from(gotCnt)).toEqual(Array.from(cnt));
          for (let q = 0; q < B * HW; q++) {
            expect(Array.from(gotIdx.subarray(q * C, q * C + cnt[q]))).toEqual(Array.from(idx.subarray(q * C, q * C + cnt[q])));
          }
        },
      ),
    );
  });
});

describe("count_nonzero", () => {
  it("counts what the twin counts: -0 is zero, NaN is not", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 45 }), seedArb, densityArb, (n, seed, density) => {
        const x = spikes(random(seed), n, density, "signed");
        if (n > 3) {
          x[1] = -0;
          x[2] = Number.NaN;
        }
        arena.reset();
        expect(core.exports.count_nonzero(arena.f32(x), n)).toBe(twin.countNonzero(x, n));
      }),
    );
  });
});

describe("simd_peak", () => {
  it("runs every chain n times: its result is the float32 arithmetic of the ten chains", () => {
    const f = Math.fround;
    // Chains: 5 of a = a*m and 5 of b = b+c from x0; lane 0 of (a0+a1)+(a2+a3)+a4 + (b0+b1)+(b2+b3)+b4.
    const expected = (n: number, x0: number, m: number, c: number): number => {
      let a = f(x0);
      let b = f(x0);
      for (let i = 0; i < n; i++) {
        a = f(a * f(m));
        b = f(b + f(c));
      }
      const sa = f(f(f(f(a + a) + f(a + a)) + a));
      const sb = f(f(f(b + b) + f(b + b)) + b);
      return f(sa + sb);
    };
    for (const [n, x0, m, c] of [[0, 1, 2, 3], [1, 1, 2, 3], [7, 0.5, 1.5, -0.25], [1000, 1, 1, 1], [100000, 0, 1, 1]]) {
      expect(core.exports.simd_peak(n, x0, m, c), `n ${n}`).toBe(expected(n, x0, m, c));
    }
  });
});
