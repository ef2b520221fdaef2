import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { lrAt, type Schedule } from '../../src/train/schedule.js';

const f = Math.fround;

describe('lrAt', () => {
  it('constant is the base rate, in float32', () => {
    expect(lrAt({ kind: 'constant', lr: 0.1 }, 7, 3, 10)).toBe(f(0.1));
  });

  it('step drops 10x every stepSize epochs', () => {
    const s: Schedule = { kind: 'step', lr: 0.1, stepSize: 3 };
    expect([0, 1, 2].map((e) => lrAt(s, e, 0, 5))).toEqual([f(0.1), f(0.1), f(0.1)]);
    expect(lrAt(s, 2, 4, 5)).toBe(f(0.1));
    expect(lrAt(s, 3, 0, 5)).toBe(f(0.01));
    expect(lrAt(s, 5, 4, 5)).toBe(f(0.01));
    expect(lrAt(s, 6, 0, 5)).toBe(f(0.001));
    expect(lrAt(s, 3, 0, 5) / lrAt(s, 2, 0, 5)).toBeCloseTo(0.1, 7);
  });

  it('step at milestones, with another gamma', () => {
    const s: Schedule = { kind: 'step', lr: 1, milestones: [2, 5], gamma: 0.5 };
    expect([0, 1, 2, 4, 5, 9].map((e) => lrAt(s, e, 0, 1))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.25]);
  });

  it('cosine over epochs: lr at the start, lr/2 halfway, 0 at the end', () => {
    const s: Schedule = { kind: 'cosine', lr: 0.1, epochs: 10 };
    expect(lrAt(s, 0, 0, 7)).toBe(f(0.1));
    expect(lrAt(s, 0, 6, 7)).toBe(f(0.1)); // per epoch: constant within it
    expect(lrAt(s, 5, 0, 7)).toBe(f(0.05));
    expect(lrAt(s, 10, 0, 7)).toBe(0);
    expect(lrAt(s, 12, 0, 7)).toBe(0); // held, not rising again
    expect(lrAt(s, 2, 0, 7)).toBe(f((0.1 * (1 + Math.cos(Math.PI / 5))) / 2));
  });

  it('cosine per step', () => {
    const s: Schedule = { kind: 'cosine', lr: 0.2, epochs: 2, perStep: true };
    expect(lrAt(s, 1, 0, 50)).toBe(f(0.1)); // step 50 of 100
    expect(lrAt(s, 0, 25, 50)).toBeCloseTo((0.2 * (1 + Math.SQRT1_2)) / 2, 7);
    expect(lrAt(s, 1, 49, 50)).toBeCloseTo((0.2 * (1 + Math.cos((Math.PI * 99) / 100))) / 2, 9);
    expect(lrAt({ ...s, etaMin: 0.02 }, 1, 0, 50)).toBe(f(0.11));
  });

  it('warms up linearly over the first batches', () => {
    const s: Schedule = { kind: 'constant', lr: 0.4, warmupEpochs: 1 };
    expect([0, 1, 2, 3].map((b) => lrAt(s, 0, b, 4))).toEqual([f(0.1), f(0.2), f(0.3), f(0.4)]);
    expect(lrAt(s, 1, 0, 4)).toBe(f(0.4));
    const c: Schedule = { kind: 'cosine', lr: 0.4, epochs: 4, warmupEpochs: 0.5 };
    expect(lrAt(c, 0, 0, 4)).toBe(f(0.2)); // 1 of 2 warmup batches
    expect(lrAt(c, 2, 0, 4)).toBe(f(0.2)); // cosine halfway
  });

  it('refuses positions and settings that make no sense', () => {
    const s: Schedule = { kind: 'constant', lr: 0.1 };
    expect(() => lrAt(s, -1, 0, 1)).toThrow(UsageError);
    expect(() => lrAt(s, 0, 3, 3)).toThrow(/past the 3 batches/);
    expect(() => lrAt(s, 0, 0, 0)).toThrow(UsageError);
    expect(() => lrAt({ kind: 'step', lr: 0.1 }, 0, 0, 1)).toThrow(/exactly one/);
    expect(() => lrAt({ kind: 'step', lr: 0.1, stepSize: 2, milestones: [1] }, 0, 0, 1)).toThrow(/exactly one/);
    expect(() => lrAt({ kind: 'cosine', lr: 0.1, epochs: 0 }, 0, 0, 1)).toThrow(UsageError);
    expect(() => lrAt({ kind: 'constant', lr: -0.1 }, 0, 0, 1)).toThrow(UsageError);
  });
});
