import { describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/errors.js';
import { Adam, Sgd, type Optimizer, type Param } from '../../src/train/optim.js';

/** Gradients for step t (0-based) of element i, not depending on the weights so float64 references can follow. */
const gradAt = (t: number, i: number) => [0.5, -1, 0.25 * (t + 1), 3e-3][i] * (t % 2 === 0 ? 1 : 0.5);

function params(): Param[] {
  return [
    { name: 'w', data: Float32Array.of(1, -2, 0.5, 0.02), grad: new Float32Array(4), decay: true },
    { name: 'b', data: Float32Array.of(0.1), grad: new Float32Array(1), decay: false },
  ];
}

function run(opt: Optimizer, ps: Param[], steps: number, from = 0, lr?: number): void {
  for (let t = from; t < from + steps; t++) {
    ps[0].grad.forEach((_, i) => (ps[0].grad[i] = gradAt(t, i)));
    ps[1].grad[0] = 0.2;
    opt.step(ps, lr);
  }
}

/** The weights after `steps`, from PyTorch's formulas in float64. */
function sgdReference(steps: number, lr: number, mu: number, wd: number, nesterov: boolean): number[][] {
  const ps = params().map((p) => ({ ...p, w: Array.from(p.data), buf: [] as number[] }));
  for (let t = 0; t < steps; t++) {
    for (const p of ps) {
      p.w = p.w.map((w, i) => {
        let g = (p.name === 'w' ? gradAt(t, i) : 0.2) + (p.decay ? wd * w : 0);
        if (mu !== 0) {
          p.buf[i] = t === 0 ? g : mu * p.buf[i] + g;
          g = nesterov ? g + mu * p.buf[i] : p.buf[i];
        }
        return w - lr * g;
      });
    }
  }
  return ps.map((p) => p.w);
}

function adamReference(steps: number, lr: number, wd: number, decoupled: boolean, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[][] {
  const ps = params().map((p) => ({ ...p, w: Array.from(p.data), m: [] as number[], v: [] as number[] }));
  for (let t = 1; t <= steps; t++) {
    for (const p of ps) {
      p.w = p.w.map((w, i) => {
        let g = p.name === 'w' ? gradAt(t - 1, i) : 0.2;
        const d = p.decay ? wd : 0;
        if (decoupled) w *= 1 - lr * d;
        else g += d * w;
        p.m[i] = b1 * (p.m[i] ?? 0) + (1 - b1) * g;
        p.v[i] = b2 * (p.v[i] ?? 0) + (1 - b2) * g * g;
        const stepSize = lr / (1 - b1 ** t);
        return w - (stepSize * p.m[i]) / (Math.sqrt(p.v[i]) / Math.sqrt(1 - b2 ** t) + eps);
      });
    }
  }
  return ps.map((p) => p.w);
}

function expectClose(ps: Param[], want: number[][]): void {
  ps.forEach((p, k) => p.data.forEach((x, i) => expect(Math.abs(x - want[k][i])).toBeLessThan(1e-6)));
}

const bitsOf = (ps: Param[]) => ps.map((p) => Array.from(new Uint32Array(p.data.buffer.slice(0))));

describe('Sgd', () => {
  it('follows torch.optim.SGD by hand for 3 steps', () => {
    // w[0]: grad 0.5, 0.25, 0.5; p = 1, lr 0.1, momentum 0.9, wd 0.01 (b has no decay, grad 0.2).
    // t1: g = 0.5 + 0.01 = 0.51, buf = 0.51, p = 0.949
    // t2: g = 0.25 + 0.00949 = 0.25949, buf = 0.459 + 0.25949 = 0.71849, p = 0.877151
    // t3: g = 0.5 + 0.00877151 = 0.50877151, buf = 0.646641 + 0.50877151 = 1.15541251, p = 0.761609749
    // b: buf 0.2, 0.38, 0.542; p = 0.08, 0.042, -0.0122
    const ps = params();
    const opt = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const seen: number[][] = [];
    for (let t = 0; t < 3; t++) {
      run(opt, ps, 1, t);
      seen.push([ps[0].data[0], ps[1].data[0]]);
    }
    const want = [[0.949, 0.08], [0.877151, 0.042], [0.761609749, -0.0122]];
    seen.forEach((s, t) => s.forEach((x, k) => expect(Math.abs(x - want[t][k])).toBeLessThan(1e-6)));
    expect(opt.steps).toBe(3);
  });

  it.each([
    [0, 0, false],
    [0.9, 0, false],
    [0.9, 5e-4, false],
    [0.5, 0.1, true],
  ])('matches the float64 formulas (momentum %s, wd %s, nesterov %s)', (momentum, weightDecay, nesterov) => {
    const ps = params();
    run(new Sgd({ lr: 0.05, momentum, weightDecay, nesterov }), ps, 3);
    expectClose(ps, sgdReference(3, 0.05, momentum, weightDecay, nesterov));
  });

  it('uses the learning rate given to step', () => {
    const ps = params();
    run(new Sgd({ lr: 1 }), ps, 1, 0, 0.1);
    expect(ps[0].data[0]).toBe(Math.fround(1 - Math.fround(0.1) * 0.5));
  });

  it('refuses bad options', () => {
    expect(() => new Sgd({ lr: -1 })).toThrow(UsageError);
    expect(() => new Sgd({ lr: NaN })).toThrow(UsageError);
    expect(() => new Sgd({ lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
  });
});

describe('Adam', () => {
  it('takes steps of lr with a constant gradient, by hand', () => {
    // m^ = 0.5 and v^ = 0.25 at every step, so each step moves lr * 0.5 / (0.5 + 1e-8).
    const p: Param = { name: 'p', data: Float32Array.of(1), grad: Float32Array.of(0.5), decay: true };
    const opt = new Adam({ lr: 0.01 });
    const want = [0.99000000020000, 0.98000000040000, 0.97000000060000];
    for (const w of want) {
      opt.step([p]);
      expect(Math.abs(p.data[0] - w)).toBeLessThan(1e-6);
    }
  });

  it.each([
    [0, false],
    [0.1, false],
    [0.1, true],
  ])('matches the float64 formulas (wd %s, decoupled %s)', (weightDecay, decoupled) => {
    const ps = params();
    run(new Adam({ lr: 0.01, weightDecay, decoupled }), ps, 3);
    expectClose(ps, adamReference(3, 0.01, weightDecay, decoupled));
  });

  it('matches with other betas and a large lr', () => {
    const ps = params();
    run(new Adam({ lr: 0.3, beta1: 0.5, beta2: 0.9, eps: 1e-6 }), ps, 3);
    expectClose(ps, adamReference(3, 0.3, 0, false, 0.5, 0.9, 1e-6));
  });

  it('refuses bad options', () => {
    expect(() => new Adam({ lr: 0.1, beta1: 1 })).toThrow(UsageError);
    expect(() => new Adam({ lr: 0.1, beta2: -0.1 })).toThrow(UsageError);
    expect(() => new Adam({ lr: 0.1, eps: -1 })).toThrow(UsageError);
  });
});

describe.each([
  ['sgd', () => new Sgd({ lr: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true })],
  ['adam', () => new Adam({ lr: 0.01, weightDecay: 1e-2 })],
  ['adamw', () => new Adam({ lr: 0.01, weightDecay: 1e-2, decoupled: true })],
] as const)('%s state', (_, make) => {
  it('resumes bit for bit from a saved state', () => {
    const ps = params();
    const opt = make();
    run(opt, ps, 2);
    const saved = opt.state();
    const weights = ps.map((p) => p.data.slice());
    run(opt, ps, 3, 2);
    const unbroken = bitsOf(ps);

    // Through plain JSON, the way a checkpoint stores it.
    const json = JSON.parse(
      JSON.stringify({ ...saved, tensors: Object.fromEntries(Object.entries(saved.tensors).map(([k, v]) => [k, Array.from(v)])) }),
    );
    const restored = { ...json, tensors: Object.fromEntries(Object.entries(json.tensors as Record<string, number[]>).map(([k, v]) => [k, Float32Array.from(v)])) };
    const again = params();
    again.forEach((p, k) => p.data.set(weights[k]));
    const opt2 = make();
    opt2.load(restored);
    expect(opt2.steps).toBe(2);
    run(opt2, again, 3, 2);
    expect(bitsOf(again)).toEqual(unbroken);
  });

  it('hands out and takes copies', () => {
    const ps = params();
    const opt = make();
    run(opt, ps, 1);
    const s = opt.state();
    const key = Object.keys(s.tensors)[0];
    expect(key).toMatch(/^w\.(momentum_buffer|exp_avg)$/);
    const before = s.tensors[key].slice();
    run(opt, ps, 1, 1);
    expect(s.tensors[key]).toEqual(before);
    const opt2 = make();
    opt2.load(s);
    s.tensors[key].fill(123);
    expect(opt2.state().tensors[key]).toEqual(before);
  });

  it('refuses a state that does not fit', () => {
    const ps = params();
    const opt = make();
    run(opt, ps, 1);
    const s = opt.state();
    const other = opt.kind === 'sgd' ? new Adam({ lr: 0.1 }) : new Sgd({ lr: 0.1 });
    expect(() => other.load(s)).toThrow(InputError);
    const missing = make();
    missing.load({ ...s, tensors: {} });
    const before = bitsOf(ps);
    expect(() => run(missing, ps, 1, 1)).toThrow(/parameters must be the same/);
    expect(bitsOf(ps)).toEqual(before); // nothing was half-updated
    const short = make();
    short.load({ ...s, tensors: Object.fromEntries(Object.entries(s.tensors).map(([k, v]) => [k, v.subarray(0, 1)])) });
    expect(() => run(short, ps, 1, 1)).toThrow(InputError);
    expect(() => make().load({ ...s, step: -1 })).toThrow(InputError);
  });

  it('refuses parameters that do not fit', () => {
    const ps = params();
    expect(() => make().step([ps[0], ps[0]])).toThrow(/given twice/);
    expect(() => make().step([{ ...ps[0], grad: new Float32Array(1) }])).toThrow(UsageError);
  });
});
