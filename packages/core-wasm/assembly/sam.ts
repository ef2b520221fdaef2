import { at } from "./memory";

const INCLUSIVE = 0;
const STRICT = 1;

// nc holds the inclusive trace A_t = g*A_{t-1} + S_t in modes 0 and 1: strict's N_t = g*(N_{t-1} + S_{t-1}) is
// exactly fl(g*A_{t-1}), so both modes keep one float of state per neuron. Mode 2 (official) keeps its own N.
@inline function samSample(mode: i32, sp: usize, np: usize, mp: usize, C: i32, HW: i32, g: f32, silent: f32): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  const gv = f32x4.splat(g);
  const quiet = f32x4.splat(silent);
  memory.fill(mp, 0, <usize>HW << 2);
  for (let k = 0; k < C; k++) {
    const sk = at(sp, k * HW);
    const nk = at(np, k * HW);
    let p = 0;
    for (; p + 4 <= HW; p += 4) {
      const S = v128.load(at(sk, p));
      const old = v128.load(at(nk, p));
      let N: v128;
      if (mode == STRICT) {
        N = f32x4.mul(gv, old);
        v128.store(at(nk, p), f32x4.add(N, S));
      } else {
        const add = mode == INCLUSIVE ? S : v128.bitselect(one, quiet, f32x4.ne(S, zero));
        N = f32x4.add(f32x4.mul(gv, old), add);
        v128.store(at(nk, p), N);
      }
      v128.store(at(mp, p), f32x4.add(v128.load(at(mp, p)), f32x4.mul(N, S)));
    }
    for (; p < HW; p++) {
      const S = load<f32>(at(sk, p));
      const old = load<f32>(at(nk, p));
      let N: f32;
      if (mode == STRICT) {
        N = g * old;
        store<f32>(at(nk, p), N + S);
      } else {
        N = g * old + (mode == INCLUSIVE ? S : S != 0 ? <f32>1 : silent);
        store<f32>(at(nk, p), N);
      }
      store<f32>(at(mp, p), load<f32>(at(mp, p)) + N * S);
    }
  }
}

export function sam_step(s: usize, nc: usize, m: usize, B: i32, C: i32, HW: i32, g: f32, mode: i32, silent: f32): void {
  for (let b = 0; b < B; b++) {
    const o = b * C * HW;
    const sp = at(s, o), np = at(nc, o), mp = at(m, b * HW);
    if (mode == INCLUSIVE) samSample(INCLUSIVE, sp, np, mp, C, HW, g, silent);
    else if (mode == STRICT) samSample(STRICT, sp, np, mp, C, HW, g, silent);
    else samSample(2, sp, np, mp, C, HW, g, silent);
  }
}
