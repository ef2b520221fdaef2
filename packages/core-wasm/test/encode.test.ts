import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { Arena } from "./arena.js";
import { expectSameBits, normals, random } from "./util.js";

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

// docs/semantics.md §6 and conformance/README.md.
const known = [
  { seed: 0, key: 0, state: [0x92ca2f0e, 0x3cd6e3f3, 0x1b147dcc, 0x4c081dbf], next: [0xe308dc58, 0x4392d0e4, 0x03318f97, 0xac593a63] },
  { seed: 7, key: 1, state: [0x722d0163, 0x45461cc7, 0xacc40fc0, 0x41ffe0e5], next: [0xa9877f15, 0xe31dca2d, 0x314d4a57, 0xa1c94c52] },
  { seed: 12345, key: 2, state: [0xc428c1e0, 0x2b10e8c3, 0x86be977b, 0x5ddf8fdc], next: [0xfc752743, 0x57babc3f, 0x689948ac, 0x685aee43] },
];

const poisson = 0;
const signedPoisson = 1;

function seeded(B: number, seed: number, key0: number): number {
  const st = arena.u32(4 * B);
  core.exports.rng_seed(st, B, seed, key0);
  return st;
}

function encodeSteps(x: Float32Array, B: number, N: number, gain: number, kind: number, seed: number, key0: number, T: number) {
  arena.reset();
  const st = seeded(B, seed, key0);
  const xp = arena.f32(x);
  const out = arena.f32(B * N);
  const steps: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    core.exports.encode(xp, out, st, B, N, gain, kind);
    steps.push(arena.readF32(out, B * N));
  }
  arena.checkGuards();
  return { steps, state: arena.readU32(st, 4 * B) };
}

describe("PRNG (docs/semantics.md §6)", () => {
  it.each(known)("twin: seed $seed key $key gives the known state and first outputs", ({ seed, key, state, next }) => {
    const st = new Uint32Array(4);
    twin.rngSeed(st, 1, seed, key);
    expect(Array.from(st)).toEqual(state);
    expect([0, 1, 2, 3].map(() => twin.rngNext(st, 0))).toEqual(next);
  });

  it.each(known)("rng_seed: seed $seed key $key gives the known state", ({ seed, key, state }) => {
    arena.reset();
    expect(Array.from(arena.readU32(seeded(1, seed, key), 4))).toEqual(state);
  });

  it("rng_seed gives sample i the stream of key key0 + i", () => {
    arena.reset();
    const all = arena.readU32(seeded(3, 7, 0), 12);
    expect(Array.from(all.subarray(4, 8))).toEqual(known[1].state);
    const twinState = new Uint32Array(12);
    twin.rngSeed(twinState, 3, 7, 0);
    expect(Array.from(all)).toEqual(Array.from(twinState));
  });

  it("encode draws one number per element: after N elements the state is the twin's after N draws", () => {
    const { seed, key } = known[2];
    const { state } = encodeSteps(new Float32Array(4), 1, 4, 1, poisson, seed, key, 1);
    const st = new Uint32Array(4);
    twin.rngSeed(st, 1, seed, key);
    for (let i = 0; i < 4; i++) twin.rngNext(st, 0);
    expect(Array.from(state)).toEqual(Array.from(st));
  });

  it("spikes iff u < p, with u = (next >>> 8) * 2^-24", () => {
    const u = (0xe308dc58 >>> 8) * 2 ** -24;
    const above = u + 2 ** -24;
    expect(Array.from(encodeSteps(new Float32Array([u]), 1, 1, 1, poisson, 0, 0, 1).steps[0])).toEqual([0]);
    expect(Array.from(encodeSteps(new Float32Array([above]), 1, 1, 1, poisson, 0, 0, 1).steps[0])).toEqual([1]);
    expect(Array.from(encodeSteps(new Float32Array([-above]), 1, 1, 1, signedPoisson, 0, 0, 1).steps[0])).toEqual([-1]);
    const out = new Float32Array(1);
    const st = new Uint32Array(4);
    twin.rngSeed(st, 1, 0, 0);
    twin.encode(new Float32Array([u]), out, st, 1, 1, 1, poisson);
    expect(out[0]).toBe(0);
  });
});

describe("encode", () => {
  it("equals the twin bit for bit for poisson and signed-poisson over several steps", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 40 }), fc.constantFrom(poisson, signedPoisson),
        fc.double({ min: -0.5, max: 3, noNaN: true }), fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (B, N, kind, gain, seed, key0, T, dataSeed) => {
          const x = normals(random(dataSeed), B * N);
          const got = encodeSteps(x, B, N, gain, kind, seed, key0, T);
          const st = new Uint32Array(4 * B);
          twin.rngSeed(st, B, seed, key0);
          const out = new Float32Array(B * N);
          for (let t = 0; t < T; t++) {
            twin.encode(x, out, st, B, N, gain, kind);
            expectSameBits(got.steps[t], out, `step ${t}`);
          }
          expect(Array.from(got.state)).toEqual(Array.from(st));
        },
      ),
    );
  });

  it("gives a sample the same spikes whatever batch it is in", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 99 }), (B, N, seed) => {
        const x = normals(random(seed), B * N).map(Math.abs);
        const all = encodeSteps(x, B, N, 1, poisson, seed, 10, 3).steps;
        for (let b = 0; b < B; b++) {
          const alone = encodeSteps(x.slice(b * N, (b + 1) * N), 1, N, 1, poisson, seed, 10 + b, 3).steps;
          alone.forEach((s, t) => expectSameBits(all[t].slice(b * N, (b + 1) * N), s, `sample ${b} step ${t}`));
        }
      }),
      { numRuns: 50 },
    );
  });

  it("fires at about rate p", () => {
    const N = 20000;
    const x = new Float32Array(N).fill(0.3);
    const spikes = encodeSteps(x, 1, N, 1, poisson, 5, 0, 1).steps[0].reduce((a, b) => a + b, 0);
    expect(Math.abs(spikes / N - 0.3)).toBeLessThan(0.015);
  });
});
