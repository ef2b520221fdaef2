import { at } from "../memory";

const SUBTRACT = 0;
const ZERO = 1;
// Subtract reset with resetDelay true (docs/semantics.md §3): the spike of step t-1 is subtracted while step t
// integrates. Zero and none with resetDelay true need no mode of their own: they are modes 1 and 2 (ABI.md).
const SUBTRACT_DELAY = 3;
const SMOOTH = 3;

// e^x for the smooth surrogate, from plain f32 mul/add/sub/floor only (so the TypeScript twin reproduces it bit for
// bit): x clamped to [-87, 88], x = n*ln2 + r with n = floor(x*log2(e) + 0.5), a degree-6 Taylor polynomial for e^r,
// scaled by 2^n built from its bits. Relative error about 2e-7.
const LOG2E: f32 = 1.4426950408889634;
const LN2HI: f32 = 0.693145751953125;
const LN2LO: f32 = 1.428606765330187e-6;
const C2: f32 = 0.5;
const C3: f32 = 0.16666666666666666;
const C4: f32 = 0.041666666666666664;
const C5: f32 = 0.008333333333333333;
const C6: f32 = 0.001388888888888889;
const PI: f32 = 3.141592653589793;

@inline function expScalar(z: f32): f32 {
  const x = min<f32>(max<f32>(z, -87), 88);
  const n = floor<f32>(x * LOG2E + 0.5);
  const r = x - n * LN2HI - n * LN2LO;
  let p = C6 * r + C5;
  p = p * r + C4;
  p = p * r + C3;
  p = p * r + C2;
  p = p * r + 1;
  p = p * r + 1;
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

@inline function expVec(z: v128): v128 {
  const x = f32x4.min(f32x4.max(z, f32x4.splat(-87)), f32x4.splat(88));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(0.5)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2HI))), f32x4.mul(n, f32x4.splat(LN2LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(C6), r), f32x4.splat(C5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(C4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(C3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(C2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  return f32x4.mul(p, i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23));
}

// s = fl(1 / fl(1 + e^fl(fl(u - thr) * -4)))
@inline function sigmoidScalar(u: f32, thr: f32): f32 {
  return <f32>1 / (<f32>1 + expScalar((u - thr) * -4));
}
@inline function sigmoidVec(u: v128, thr: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expVec(f32x4.mul(f32x4.sub(u, thr), f32x4.splat(-4)))));
}

// ---------------------------------------------------------------------------------------------------------------
// lif_forward_train: `lif` with resetDelay false (the same float operations, so s and v are bit-identical for the
// step-function surrogates) that also writes the pre-reset membrane u. The step spikes when u > cmp (cmp: thr, or
// the float32 below it for `fireAtThreshold`, docs/semantics.md §3); a subtract takes thr. Smooth: s = sigmoid(4*(u - thr)),
// subtract v = fl(u - fl(thr*s)), zero v = fl(u + fl(s*fl(vr - u))), none v = u.
// Mode 3 (subtract, resetDelay true) reads the previous spikes from s: v = fl(fl(fl(beta*v) + I) - fl(thr*s_prev)),
// then s from v (step or smooth) and u = v: `lif`'s delayed subtract, bit for bit for the step surrogates.
@inline function trainRun(
  perElement: bool, reset: i32, smooth: bool,
  Ip: usize, sp: usize, vp: usize, up: usize, n: i32, bp: usize, tp: usize, cp: usize, rp: usize,
): void {
  const one = f32x4.splat(1);
  const beta0 = f32x4.splat(load<f32>(bp));
  const thr0 = f32x4.splat(load<f32>(tp));
  const cmp0 = f32x4.splat(load<f32>(cp));
  const vr0 = f32x4.splat(load<f32>(rp));
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const beta = perElement ? v128.load(at(bp, i)) : beta0;
    const thr = perElement ? v128.load(at(tp, i)) : thr0;
    const cmp = perElement ? v128.load(at(cp, i)) : cmp0;
    let u = f32x4.add(f32x4.mul(beta, v128.load(at(vp, i))), v128.load(at(Ip, i)));
    if (reset == SUBTRACT_DELAY) u = f32x4.sub(u, f32x4.mul(thr, v128.load(at(sp, i))));
    const fired = f32x4.gt(u, cmp);
    const s = smooth ? sigmoidVec(u, thr) : v128.and(fired, one);
    let v = u;
    if (reset == SUBTRACT) v = f32x4.sub(u, f32x4.mul(thr, s));
    else if (reset == ZERO) {
      const vr = perElement ? v128.load(at(rp, i)) : vr0;
      v = smooth ? f32x4.add(u, f32x4.mul(s, f32x4.sub(vr, u))) : v128.bitselect(vr, u, fired);
    }
    v128.store(at(up, i), u);
    v128.store(at(sp, i), s);
    v128.store(at(vp, i), v);
  }
  for (; i < n; i++) {
    const beta = load<f32>(perElement ? at(bp, i) : bp);
    const thr = load<f32>(perElement ? at(tp, i) : tp);
    const cmp = load<f32>(perElement ? at(cp, i) : cp);
    const vr = load<f32>(perElement ? at(rp, i) : rp);
    let u = beta * load<f32>(at(vp, i)) + load<f32>(at(Ip, i));
    if (reset == SUBTRACT_DELAY) u = u - thr * load<f32>(at(sp, i));
    const s: f32 = smooth ? sigmoidScalar(u, thr) : u > cmp ? <f32>1 : <f32>0;
    let v = u;
    if (reset == SUBTRACT) v = u - thr * s;
    else if (reset == ZERO) v = smooth ? u + s * (vr - u) : s != 0 ? vr : u;
    store<f32>(at(up, i), u);
    store<f32>(at(sp, i), s);
    store<f32>(at(vp, i), v);
  }
}

export function lif_forward_train(
  I: usize, s: usize, v: usize, u: usize, beta: usize, thr: usize, cmp: usize, vr: usize, B: i32, C: i32, HW: i32,
  perNeuron: i32, reset: i32, surrogate: i32,
): void {
  const smooth = surrogate == SMOOTH;
  if (perNeuron || HW == 1) {
    const N = C * HW;
    for (let b = 0; b < B; b++) {
      const o = b * N;
      trainRun(true, reset, smooth, at(I, o), at(s, o), at(v, o), at(u, o), N, beta, thr, cmp, vr);
    }
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const o = (b * C + c) * HW;
      trainRun(false, reset, smooth, at(I, o), at(s, o), at(v, o), at(u, o), HW, at(beta, c), at(thr, c), at(cmp, c), at(vr, c));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Surrogate derivatives sg(u) (ABI.md), each as this exact sequence of f32 operations:
// 0 triangle fl(fl(0.3 * max(0, fl(1 - |fl(fl(u/thr) - 1)|))) / thr); 1 atan fl(1 / fl(1 + fl(k*k))), k = fl(pi*fl(u - thr));
// 2 fast-sigmoid fl(1 / fl(a*a)), a = fl(1 + fl(25*|fl(u - thr)|)); 3 smooth fl(fl(4*s) * fl(1 - s)).
// They centre on the real threshold thr also when the forward compared with cmp (`fireAtThreshold`): the backward
// reads the recorded s and never needs cmp.
@inline function sgVec(surrogate: i32, u: v128, s: v128, thr: v128): v128 {
  const one = f32x4.splat(1);
  if (surrogate == 0) {
    const c = f32x4.abs(f32x4.sub(f32x4.div(u, thr), one));
    const e = f32x4.max(f32x4.splat(0), f32x4.sub(one, c));
    return f32x4.div(f32x4.mul(f32x4.splat(0.3), e), thr);
  }
  if (surrogate == 1) {
    const k = f32x4.mul(f32x4.splat(PI), f32x4.sub(u, thr));
    return f32x4.div(one, f32x4.add(one, f32x4.mul(k, k)));
  }
  if (surrogate == 2) {
    const a = f32x4.add(one, f32x4.mul(f32x4.splat(25), f32x4.abs(f32x4.sub(u, thr))));
    return f32x4.div(one, f32x4.mul(a, a));
  }
  return f32x4.mul(f32x4.mul(f32x4.splat(4), s), f32x4.sub(one, s));
}

@inline function sgScalar(surrogate: i32, u: f32, s: f32, thr: f32): f32 {
  if (surrogate == 0) return (<f32>0.3 * max<f32>(0, <f32>1 - abs<f32>(u / thr - 1))) / thr;
  if (surrogate == 1) {
    const k = PI * (u - thr);
    return <f32>1 / (<f32>1 + k * k);
  }
  if (surrogate == 2) {
    const a = <f32>1 + <f32>25 * abs<f32>(u - thr);
    return <f32>1 / (a * a);
  }
  return (<f32>4 * s) * (<f32>1 - s);
}

// du = fl(fl(ds*sg) + fl(gv*dvdu)); dvdu: subtract 1 (detached) or fl(1 - fl(thr*sg)) (kept); zero fl(1 - s), kept
// fl(fl(1 - s) + fl(fl(vr - u)*sg)); none 1. Writes dI = du and gv = fl(beta*du); returns du.
// Mode 3 (delayed subtract, u = v_t): g = fl(fl(ds*sg) + fl(gv*m)), m = beta (detached) or fl(beta - fl(thr*sg))
// (kept); writes dI = g and gv = g (dL/dv_t, not times beta); returns g.
@inline function lifBackVec(
  surrogate: i32, reset: i32, keep: bool, o: usize,
  ds: usize, u: usize, s: usize, gv: usize, dI: usize, beta: v128, thr: v128, vr: v128,
): v128 {
  const one = f32x4.splat(1);
  const uu = v128.load(u + o);
  const ss = v128.load(s + o);
  const sg = sgVec(surrogate, uu, ss, thr);
  if (reset == SUBTRACT_DELAY) {
    // gv holds dL/dv_{t+1} itself; dv_{t+1}/dv_t = beta, minus thr*sg through s_t when the reset is kept.
    const m = keep ? f32x4.sub(beta, f32x4.mul(thr, sg)) : beta;
    const g = f32x4.add(f32x4.mul(v128.load(ds + o), sg), f32x4.mul(v128.load(gv + o), m));
    v128.store(dI + o, g);
    v128.store(gv + o, g);
    return g;
  }
  let dvdu = one;
  if (reset == SUBTRACT) {
    if (keep) dvdu = f32x4.sub(one, f32x4.mul(thr, sg));
  } else if (reset == ZERO) {
    dvdu = f32x4.sub(one, ss);
    if (keep) dvdu = f32x4.add(dvdu, f32x4.mul(f32x4.sub(vr, uu), sg));
  }
  const du = f32x4.add(f32x4.mul(v128.load(ds + o), sg), f32x4.mul(v128.load(gv + o), dvdu));
  v128.store(dI + o, du);
  v128.store(gv + o, f32x4.mul(beta, du));
  return du;
}

@inline function lifBackScalar(
  surrogate: i32, reset: i32, keep: bool, o: usize,
  ds: usize, u: usize, s: usize, gv: usize, dI: usize, beta: f32, thr: f32, vr: f32,
): f32 {
  const uu = load<f32>(u + o);
  const ss = load<f32>(s + o);
  const sg = sgScalar(surrogate, uu, ss, thr);
  if (reset == SUBTRACT_DELAY) {
    const m = keep ? beta - thr * sg : beta;
    const g = load<f32>(ds + o) * sg + load<f32>(gv + o) * m;
    store<f32>(dI + o, g);
    store<f32>(gv + o, g);
    return g;
  }
  let dvdu: f32 = 1;
  if (reset == SUBTRACT) {
    if (keep) dvdu = <f32>1 - thr * sg;
  } else if (reset == ZERO) {
    dvdu = <f32>1 - ss;
    if (keep) dvdu = dvdu + (vr - uu) * sg;
  }
  const du = load<f32>(ds + o) * sg + load<f32>(gv + o) * dvdu;
  store<f32>(dI + o, du);
  store<f32>(gv + o, beta * du);
  return du;
}

export function lif_backward(
  ds: usize, u: usize, s: usize, vprev: usize, gv: usize, dI: usize, dbeta: usize,
  beta: usize, thr: usize, vr: usize, B: i32, C: i32, HW: i32, perNeuron: i32, reset: i32, surrogate: i32,
  keepReset: i32,
): void {
  const keep = keepReset != 0;
  if (perNeuron || HW == 1) {
    // One parameter per neuron of a sample: neurons are the lanes, dbeta sums over b in order.
    const N = C * HW;
    const ns = <usize>N << 2;
    let i = 0;
    for (; i + 4 <= N; i += 4) {
      const bv = v128.load(at(beta, i)), tv = v128.load(at(thr, i)), rv = v128.load(at(vr, i));
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) {
        const o = (<usize>i << 2) + <usize>b * ns;
        const du = lifBackVec(surrogate, reset, keep, o, ds, u, s, gv, dI, bv, tv, rv);
        acc = f32x4.add(acc, f32x4.mul(du, v128.load(vprev + o)));
      }
      if (dbeta) v128.store(at(dbeta, i), f32x4.add(v128.load(at(dbeta, i)), acc));
    }
    for (; i < N; i++) {
      const bs = load<f32>(at(beta, i)), ts = load<f32>(at(thr, i)), rs = load<f32>(at(vr, i));
      let acc: f32 = 0;
      for (let b = 0; b < B; b++) {
        const o = (<usize>i << 2) + <usize>b * ns;
        const du = lifBackScalar(surrogate, reset, keep, o, ds, u, s, gv, dI, bs, ts, rs);
        acc += du * load<f32>(vprev + o);
      }
      if (dbeta) store<f32>(at(dbeta, i), load<f32>(at(dbeta, i)) + acc);
    }
    return;
  }
  // One parameter per channel: pixels are the lanes, dbeta[c] sums over (b, p) element by element in order.
  for (let c = 0; c < C; c++) {
    const bs = load<f32>(at(beta, c)), ts = load<f32>(at(thr, c)), rs = load<f32>(at(vr, c));
    const bv = f32x4.splat(bs), tv = f32x4.splat(ts), rv = f32x4.splat(rs);
    let acc: f32 = 0;
    for (let b = 0; b < B; b++) {
      const base = <usize>((b * C + c) * HW) << 2;
      let p = 0;
      for (; p + 4 <= HW; p += 4) {
        const o = base + (<usize>p << 2);
        const du = lifBackVec(surrogate, reset, keep, o, ds, u, s, gv, dI, bv, tv, rv);
        const prod = f32x4.mul(du, v128.load(vprev + o));
        acc += f32x4.extract_lane(prod, 0);
        acc += f32x4.extract_lane(prod, 1);
        acc += f32x4.extract_lane(prod, 2);
        acc += f32x4.extract_lane(prod, 3);
      }
      for (; p < HW; p++) {
        const o = base + (<usize>p << 2);
        const du = lifBackScalar(surrogate, reset, keep, o, ds, u, s, gv, dI, bs, ts, rs);
        acc += du * load<f32>(vprev + o);
      }
    }
    if (dbeta) store<f32>(at(dbeta, c), load<f32>(at(dbeta, c)) + acc);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// g = fl(dv + gv) (g = gv when dv is 0); dI = g; gv = fl(beta*g); dbeta = fl(dbeta + S), S the in-order sum of
// fl(g*vprev) over b (per neuron) or (b, p) (per channel).
export function li_backward(
  dv: usize, gv: usize, dI: usize, vprev: usize, dbeta: usize, beta: usize, B: i32, C: i32, HW: i32,
  perNeuron: i32,
): void {
  if (perNeuron || HW == 1) {
    const N = C * HW;
    const ns = <usize>N << 2;
    let i = 0;
    for (; i + 4 <= N; i += 4) {
      const bv = v128.load(at(beta, i));
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) {
        const o = (<usize>i << 2) + <usize>b * ns;
        let g = v128.load(gv + o);
        if (dv) g = f32x4.add(v128.load(dv + o), g);
        v128.store(dI + o, g);
        v128.store(gv + o, f32x4.mul(bv, g));
        acc = f32x4.add(acc, f32x4.mul(g, v128.load(vprev + o)));
      }
      if (dbeta) v128.store(at(dbeta, i), f32x4.add(v128.load(at(dbeta, i)), acc));
    }
    for (; i < N; i++) {
      const bs = load<f32>(at(beta, i));
      let acc: f32 = 0;
      for (let b = 0; b < B; b++) {
        const o = (<usize>i << 2) + <usize>b * ns;
        let g = load<f32>(gv + o);
        if (dv) g = load<f32>(dv + o) + g;
        store<f32>(dI + o, g);
        store<f32>(gv + o, bs * g);
        acc += g * load<f32>(vprev + o);
      }
      if (dbeta) store<f32>(at(dbeta, i), load<f32>(at(dbeta, i)) + acc);
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    const bs = load<f32>(at(beta, c));
    const bv = f32x4.splat(bs);
    let acc: f32 = 0;
    for (let b = 0; b < B; b++) {
      const base = <usize>((b * C + c) * HW) << 2;
      let p = 0;
      for (; p + 4 <= HW; p += 4) {
        const o = base + (<usize>p << 2);
        let g = v128.load(gv + o);
        if (dv) g = f32x4.add(v128.load(dv + o), g);
        v128.store(dI + o, g);
        v128.store(gv + o, f32x4.mul(bv, g));
        const prod = f32x4.mul(g, v128.load(vprev + o));
        acc += f32x4.extract_lane(prod, 0);
        acc += f32x4.extract_lane(prod, 1);
        acc += f32x4.extract_lane(prod, 2);
        acc += f32x4.extract_lane(prod, 3);
      }
      for (; p < HW; p++) {
        const o = base + (<usize>p << 2);
        let g = load<f32>(gv + o);
        if (dv) g = load<f32>(dv + o) + g;
        store<f32>(dI + o, g);
        store<f32>(gv + o, bs * g);
        acc += g * load<f32>(vprev + o);
      }
    }
    if (dbeta) store<f32>(at(dbeta, c), load<f32>(at(dbeta, c)) + acc);
  }
}
