import { at } from "./memory";

const SUBTRACT = 0;
const ZERO = 1;
const NONE = 2;

// docs/semantics.md §3 on n contiguous neurons. `perElement` params advance with the neuron, otherwise one value covers the run.
// reset and delay are constants at every call, so each of the five distinct rules compiles to its own loop.
// A neuron spikes when v > cmp; a subtract reset takes thr away. cmp is thr itself, or the next float32 below thr
// for a layer that fires at v >= thr (`fireAtThreshold`, docs/semantics.md §3): for float32 v, v >= thr is v > below(thr).
@inline function lifRun(
  reset: i32, delay: bool, perElement: bool,
  Ip: usize, sp: usize, vp: usize, n: i32, bp: usize, tp: usize, cp: usize, rp: usize,
): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const beta0 = f32x4.splat(load<f32>(bp));
  const thr0 = f32x4.splat(load<f32>(tp));
  const cmp0 = f32x4.splat(load<f32>(cp));
  const vr0 = f32x4.splat(load<f32>(rp));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const beta = perElement ? v128.load(at(bp, i)) : beta0;
    const cmp = perElement ? v128.load(at(cp, i)) : cmp0;
    const cur = v128.load(at(Ip, i));
    let v = v128.load(at(vp, i));
    let s: v128;
    if (delay) {
      const prev = v128.load(at(sp, i));
      if (reset == SUBTRACT) {
        const thr = perElement ? v128.load(at(tp, i)) : thr0;
        v = f32x4.sub(f32x4.add(f32x4.mul(beta, v), cur), f32x4.mul(thr, prev));
      } else {
        const vr = perElement ? v128.load(at(rp, i)) : vr0;
        v = f32x4.add(f32x4.mul(beta, v128.bitselect(vr, v, f32x4.ne(prev, zero))), cur);
      }
      s = v128.and(f32x4.gt(v, cmp), one);
    } else {
      v = f32x4.add(f32x4.mul(beta, v), cur);
      const fired = f32x4.gt(v, cmp);
      s = v128.and(fired, one);
      if (reset == SUBTRACT) {
        const thr = perElement ? v128.load(at(tp, i)) : thr0;
        v = f32x4.sub(v, f32x4.mul(thr, s));
      } else if (reset == ZERO) {
        const vr = perElement ? v128.load(at(rp, i)) : vr0;
        v = v128.bitselect(vr, v, fired);
      }
    }
    v128.store(at(sp, i), s);
    v128.store(at(vp, i), v);
  }
  for (; i < n; i++) {
    const beta = load<f32>(perElement ? at(bp, i) : bp);
    const thr = load<f32>(perElement ? at(tp, i) : tp);
    const cmp = load<f32>(perElement ? at(cp, i) : cp);
    const vr = load<f32>(perElement ? at(rp, i) : rp);
    const cur = load<f32>(at(Ip, i));
    let v = load<f32>(at(vp, i));
    let s: f32;
    if (delay) {
      const prev = load<f32>(at(sp, i));
      if (reset == SUBTRACT) v = beta * v + cur - thr * prev;
      else v = beta * (prev != 0 ? vr : v) + cur;
      s = v > cmp ? 1 : 0;
    } else {
      v = beta * v + cur;
      s = v > cmp ? 1 : 0;
      if (reset == SUBTRACT) v = v - thr * s;
      else if (reset == ZERO && s != 0) v = vr;
    }
    store<f32>(at(sp, i), s);
    store<f32>(at(vp, i), v);
  }
}

@inline function lifLayer(
  reset: i32, delay: bool,
  I: usize, s: usize, v: usize, beta: usize, thr: usize, cmp: usize, vr: usize, B: i32, C: i32, HW: i32, perNeuron: i32,
): void {
  if (perNeuron || HW == 1) {
    // Per-neuron params, or one neuron per channel: a sample is one run aligned with the params.
    const N = C * HW;
    for (let b = 0; b < B; b++) {
      const o = b * N;
      lifRun(reset, delay, true, at(I, o), at(s, o), at(v, o), N, beta, thr, cmp, vr);
    }
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const o = (b * C + c) * HW;
      lifRun(reset, delay, false, at(I, o), at(s, o), at(v, o), HW, at(beta, c), at(thr, c), at(cmp, c), at(vr, c));
    }
  }
}

export function lif(
  I: usize, s: usize, v: usize, beta: usize, thr: usize, cmp: usize, vr: usize, B: i32, C: i32, HW: i32,
  perNeuron: i32, reset: i32, resetDelay: i32,
): void {
  // With no reset, a delayed reset has nothing to delay.
  if (reset == NONE) lifLayer(NONE, false, I, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron);
  else if (!resetDelay && reset == SUBTRACT) lifLayer(SUBTRACT, false, I, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron);
  else if (!resetDelay) lifLayer(ZERO, false, I, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron);
  else if (reset == SUBTRACT) lifLayer(SUBTRACT, true, I, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron);
  else lifLayer(ZERO, true, I, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron);
}

@inline function liRun(perElement: bool, Ip: usize, vp: usize, n: i32, bp: usize): void {
  const beta0 = f32x4.splat(load<f32>(bp));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const beta = perElement ? v128.load(at(bp, i)) : beta0;
    v128.store(at(vp, i), f32x4.add(f32x4.mul(beta, v128.load(at(vp, i))), v128.load(at(Ip, i))));
  }
  for (; i < n; i++) {
    const beta = load<f32>(perElement ? at(bp, i) : bp);
    store<f32>(at(vp, i), beta * load<f32>(at(vp, i)) + load<f32>(at(Ip, i)));
  }
}

export function li(I: usize, v: usize, beta: usize, B: i32, C: i32, HW: i32, perNeuron: i32): void {
  if (perNeuron || HW == 1) {
    const N = C * HW;
    for (let b = 0; b < B; b++) liRun(true, at(I, b * N), at(v, b * N), N, beta);
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const o = (b * C + c) * HW;
      liRun(false, at(I, o), at(v, o), HW, at(beta, c));
    }
  }
}

/**
 * One current-based LIF step (NIR CubaLIF, snnTorch Synaptic): the synaptic current `i` integrates the input,
 * `i = fl(fl(alpha*i) + I)`, then the membrane takes `i` as its input exactly as `lif` does. The two updates are
 * the `li` and `lif` kernels in one call, so the result is theirs bit for bit.
 */
export function cubalif(
  I: usize, i: usize, s: usize, v: usize, alpha: usize, beta: usize, thr: usize, cmp: usize, vr: usize,
  B: i32, C: i32, HW: i32, perNeuron: i32, reset: i32, resetDelay: i32,
): void {
  li(I, i, alpha, B, C, HW, perNeuron);
  lif(i, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron, reset, resetDelay);
}
