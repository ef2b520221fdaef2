import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { Arena } from "./arena.js";
import { expectSameBits, normals, outSize, random } from "./util.js";

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

function pool(kind: number, x: Float32Array, dims: number[]): Float32Array {
  const [B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW] = dims;
  arena.reset();
  const xp = arena.f32(x);
  const yp = arena.f32(B * C * Ho * Wo);
  core.exports.pool2d(kind, xp, yp, B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
  arena.checkGuards();
  return arena.readF32(yp, B * C * Ho * Wo);
}

describe("pool2d", () => {
  it("equals the twin bit for bit for avg, sum and max on random shapes and paddings", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2),
        fc.record({
          B: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 4 }),
          H: fc.integer({ min: 1, max: 11 }), W: fc.integer({ min: 1, max: 11 }),
          kH: fc.integer({ min: 1, max: 4 }), kW: fc.integer({ min: 1, max: 4 }),
          sH: fc.integer({ min: 1, max: 4 }), sW: fc.integer({ min: 1, max: 4 }),
          pH: fc.integer({ min: 0, max: 2 }), pW: fc.integer({ min: 0, max: 2 }),
        }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (kind, s, seed) => {
          const Ho = outSize(s.H, s.kH, s.sH, s.pH, 1);
          const Wo = outSize(s.W, s.kW, s.sW, s.pW, 1);
          fc.pre(Ho >= 1 && Wo >= 1);
          const dims = [s.B, s.C, s.H, s.W, Ho, Wo, s.kH, s.kW, s.sH, s.sW, s.pH, s.pW];
          // Negative inputs make max pooling's -inf padding and avg pooling's zero padding both matter.
          const x = normals(random(seed), s.B * s.C * s.H * s.W);
          const expected = new Float32Array(s.B * s.C * Ho * Wo);
          twin.pool2d(kind, x, expected, s.B, s.C, s.H, s.W, Ho, Wo, s.kH, s.kW, s.sH, s.sW, s.pH, s.pW);
          expectSameBits(pool(kind, x, dims), expected, `pool2d kind ${kind}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("counts padding in the average and never picks it as a maximum", () => {
    // 2x2 input, 2x2 window, stride 2, padding 1: every window holds one input and three padding cells.
    const x = new Float32Array([-1, -2, -3, -4]);
    const dims = [1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1];
    expect(Array.from(pool(0, x, dims))).toEqual([-0.25, -0.5, -0.75, -1]);
    expect(Array.from(pool(1, x, dims))).toEqual([-1, -2, -3, -4]);
    expect(Array.from(pool(2, x, dims))).toEqual([-1, -2, -3, -4]);
  });

  it("divides the float32 sum once: fl(sum / (kH*kW))", () => {
    const x = new Float32Array([0.1, 0.2, 0.3]);
    const sum = Math.fround(Math.fround(0.1 + Math.fround(0.2)) + Math.fround(0.3));
    const dims = [1, 1, 1, 3, 1, 1, 1, 3, 1, 3, 0, 0];
    expect(pool(0, x, dims)[0]).toBe(Math.fround(sum / 3));
  });
});
