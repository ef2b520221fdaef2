import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { accuracy, countCorrect, detExp, detLog, softmaxCrossEntropy } from '../../src/train/loss.js';

/** Deterministic pseudo-random numbers for test inputs. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('detExp / detLog', () => {
  it('agree with Math.exp and Math.log to about an ulp', () => {
    const rnd = lcg(1);
    for (let k = 0; k < 20000; k++) {
      const x = (rnd() - 0.9) * 200; // mostly negative, as in the loss
      const e = detExp(x);
      expect(Math.abs(e - Math.exp(x))).toBeLessThanOrEqual(2 * Number.EPSILON * Math.exp(x));
      const y = 10 ** ((rnd() - 0.5) * 40);
      expect(Math.abs(detLog(y) - Math.log(y))).toBeLessThanOrEqual(4 * Number.EPSILON * Math.max(1, Math.abs(Math.log(y))));
    }
  });
  it('handle the edges', () => {
    expect(detExp(0)).toBe(1);
    expect(detExp(1)).toBeCloseTo(Math.E, 15);
    expect(detExp(-800)).toBe(0);
    expect(detExp(800)).toBe(Infinity);
    expect(detExp(-740)).toBeCloseTo(Math.exp(-740), 320); // subnormal
    expect(detExp(709.7)).toBeCloseTo(Math.exp(709.7), -295);
    expect(detExp(NaN)).toBeNaN();
    expect(detLog(1)).toBe(0);
    expect(detLog(2)).toBeCloseTo(Math.LN2, 16);
    expect(detLog(0)).toBe(-Infinity);
    expect(detLog(-1)).toBeNaN();
    expect(detLog(Infinity)).toBe(Infinity);
    expect(detLog(5e-324)).toBeCloseTo(Math.log(5e-324), 12);
  });
});

describe('softmaxCrossEntropy', () => {
  it('matches hand-computed values', () => {
    // Row 0: scores 1 2 3, label 2: loss log(1 + e^-1 + e^-2); row 1: two equal scores, loss ln 2.
    const scores = Float32Array.of(1, 2, 3, 5, 5, -Infinity);
    const grad = new Float32Array(6);
    const loss = softmaxCrossEntropy(scores, [2, 0], grad);
    const l0 = Math.log(1 + Math.exp(-1) + Math.exp(-2));
    expect(loss).toBeCloseTo((l0 + Math.LN2) / 2, 14);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    const want = [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z - 1, 0.5 - 1, 0.5, 0].map((g) => g / 2);
    want.forEach((g, i) => expect(grad[i]).toBeCloseTo(g, 7));
    expect(Array.from(grad.subarray(3))).toEqual([-0.25, 0.25, 0]);
  });

  it('matches central finite differences', () => {
    const rnd = lcg(7);
    const B = 4;
    const K = 6;
    const scores = Float32Array.from({ length: B * K }, () => (rnd() - 0.5) * 8);
    const labels = Uint8Array.from({ length: B }, () => Math.floor(rnd() * K));
    const grad = new Float32Array(B * K);
    softmaxCrossEntropy(scores, labels, grad);
    for (let i = 0; i < B * K; i++) {
      const s = scores[i];
      const plus = Math.fround(s + 1e-3);
      const minus = Math.fround(s - 1e-3);
      scores[i] = plus;
      const lp = softmaxCrossEntropy(scores, labels);
      scores[i] = minus;
      const lm = softmaxCrossEntropy(scores, labels);
      scores[i] = s;
      expect(Math.abs((lp - lm) / (plus - minus) - grad[i])).toBeLessThan(1e-6);
    }
  });

  it('is stable for large scores and gives rows that sum to zero', () => {
    const scores = Float32Array.of(1000, 0, -1000, 0, 1e30, -1e30);
    const grad = new Float32Array(6);
    const loss = softmaxCrossEntropy(scores, [0, 0], grad);
    expect(loss).toBeCloseTo(0.5e30, -24); // row 0 ~0, row 1 = 1e30
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad[0] + grad[1] + grad[2]).toBeCloseTo(0, 7);
    expect(softmaxCrossEntropy(Float32Array.of(0, 1000), [0])).toBe(1000);
  });

  it('is deterministic and leaves NaN scores as a NaN loss', () => {
    const scores = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * 10);
    const a = new Float32Array(50);
    const b = new Float32Array(50);
    expect(softmaxCrossEntropy(scores, [1, 2, 3, 4, 5], a)).toBe(softmaxCrossEntropy(scores, [1, 2, 3, 4, 5], b));
    expect(a).toEqual(b);
    expect(softmaxCrossEntropy(Float32Array.of(NaN, 0), [0])).toBeNaN();
  });

  it('refuses shapes and labels that do not fit', () => {
    expect(() => softmaxCrossEntropy(new Float32Array(5), [0, 1])).toThrow(UsageError);
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0, 2])).toThrow(/label 2 of row 1/);
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0, 1], new Float32Array(3))).toThrow(UsageError);
    expect(() => softmaxCrossEntropy(new Float32Array(0), [])).toThrow(UsageError);
  });
});

describe('accuracy', () => {
  it('takes the lowest index on ties', () => {
    const scores = Float32Array.of(1, 1, 0, 0, 2, 2, 3, 1, 3);
    expect(countCorrect(scores, [0, 1, 0])).toBe(3);
    expect(countCorrect(scores, [1, 2, 2])).toBe(0);
    expect(accuracy(scores, [0, 2, 2])).toBeCloseTo(1 / 3, 15);
  });
});
