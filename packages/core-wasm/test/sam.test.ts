import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCore, type Core } from "../src/index.js";
import * as twin from "../src/twin.js";
import { Arena } from "./arena.js";
import { expectSameBits, random, spikes } from "./util.js";

let core: Core;
let arena: Arena;

beforeAll(async () => {
  core = await createCore();
  arena = new Arena(core);
});

const inclusive: number = 0;
const strict: number = 1;
const official: number = 2;

const caseArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  C: fc.integer({ min: 1, max: 9 }),
  HW: fc.integer({ min: 1, max: 23 }),
  T: fc.integer({ min: 1, max: 30 }),
  gamma: fc.double({ min: 0.05, max: 2, noNaN: true }),
  density: fc.double({ min: 0, max: 1, noNaN: true }),
  mode: fc.constantFrom(inclusive, strict, official),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});

interface Case { B: number; C: number; HW: number; T: number; gamma: number; density: number; mode: number; seed: number }

function train(c: Case): Float32Array[] {
  const rand = random(c.seed);
  return Array.from({ length: c.T }, () => spikes(rand, c.B * c.C * c.HW, c.density, "binary"));
}

const silentAt = (gamma: number, t: number) => Math.fround(Math.exp(-gamma * t));

/** The map of every step from the core, the trace starting at 0. */
function maps(c: Case, S: Float32Array[]): Float32Array[] {
  arena.reset();
  const n = c.B * c.C * c.HW;
  const sp = arena.f32(n);
  const nc = arena.f32(new Float32Array(n));
  const mp = arena.f32(c.B * c.HW);
  const g = Math.fround(Math.exp(-c.gamma));
  return S.map((St, t) => {
    new Float32Array(core.memory.buffer, sp, n).set(St);
    core.exports.sam_step(sp, nc, mp, c.B, c.C, c.HW, g, c.mode, silentAt(c.gamma, t));
    return arena.readF32(mp, c.B * c.HW);
  });
}

describe("sam_step", () => {
  it("equals the twin bit for bit in every mode", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const S = train(c);
        const got = maps(c, S);
        arena.checkGuards();
        const nc = new Float32Array(c.B * c.C * c.HW);
        const m = new Float32Array(c.B * c.HW);
        S.forEach((St, t) => {
          twin.samStep(St, nc, m, c.B, c.C, c.HW, Math.exp(-c.gamma), c.mode, silentAt(c.gamma, t));
          expectSameBits(got[t], m, `map at step ${t}`);
        });
      }),
      { numRuns: 150 },
    );
  });

  it("equals a float64 direct sum of exp(-gamma (t - t')) within 1e-5 relative (docs/semantics.md §8)", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const S = train(c);
        const got = maps(c, S);
        const plane = c.C * c.HW;
        for (let t = 0; t < c.T; t++) {
          for (let b = 0; b < c.B; b++) {
            for (let p = 0; p < c.HW; p++) {
              let expected = 0;
              for (let k = 0; k < c.C; k++) {
                const i = b * plane + k * c.HW + p;
                if (S[t][i] === 0) continue;
                let N = 0;
                for (let u = 0; u <= t; u++) {
                  const fired = S[u][i] !== 0;
                  if (c.mode === inclusive && fired) N += Math.exp(-c.gamma * (t - u));
                  if (c.mode === strict && fired && u < t) N += Math.exp(-c.gamma * (t - u));
                  if (c.mode === official) N += Math.exp(-c.gamma * (t - (fired ? u : 0)));
                }
                expected += N;
              }
              const actual = got[t][b * c.HW + p];
              if (!(Math.abs(actual - expected) <= 1e-5 * Math.abs(expected))) {
                throw new Error(`mode ${c.mode}, step ${t}, sample ${b}, pixel ${p}: ${actual}, direct sum ${expected}`);
              }
            }
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("keeps strict mode equal to the recursion of docs/semantics.md §8 N_t = fl(g*fl(N_{t-1} + S_{t-1})) bit for bit", () => {
    fc.assert(
      fc.property(caseArb, (c0) => {
        const c = { ...c0, mode: strict };
        const S = train(c);
        const got = maps(c, S);
        const g = Math.fround(Math.exp(-c.gamma));
        const n = c.B * c.C * c.HW;
        const N = new Float32Array(n);
        const prev = new Float32Array(n);
        S.forEach((St, t) => {
          for (let i = 0; i < n; i++) N[i] = Math.fround(g * Math.fround(N[i] + prev[i]));
          prev.set(St);
          const m = new Float32Array(c.B * c.HW);
          for (let b = 0; b < c.B; b++) {
            for (let p = 0; p < c.HW; p++) {
              let acc = 0;
              for (let k = 0; k < c.C; k++) {
                const i = (b * c.C + k) * c.HW + p;
                acc = Math.fround(acc + Math.fround(N[i] * St[i]));
              }
              m[b * c.HW + p] = acc;
            }
          }
          expectSameBits(got[t], m, `strict map at step ${t}`);
        });
      }),
      { numRuns: 60 },
    );
  });

  it("adds exp(-gamma t) for a silent step in official mode only", () => {
    // One neuron, spikes at t = 1 only; gamma = ln 2 so every term is a power of two.
    const S = [0, 1, 0].map((v) => new Float32Array([v]));
    const c: Case = { B: 1, C: 1, HW: 1, T: 3, gamma: Math.LN2, density: 0, mode: official, seed: 0 };
    expect(maps(c, S)[1][0]).toBeCloseTo(0.5 * 1 + 1, 6);
    expect(maps({ ...c, mode: inclusive }, S)[1][0]).toBe(1);
    expect(maps({ ...c, mode: strict }, S)[1][0]).toBe(0);
  });
});
