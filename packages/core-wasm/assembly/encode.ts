import { at } from "./memory";

// docs/semantics.md §6. Keys are 4 splitmix32 steps apart, so consecutive samples seed from disjoint splitmix outputs.
const GOLDEN: u32 = 0x9e3779b9;
const TWO_M24: f32 = 5.9604644775390625e-8;

export function rng_seed(state: usize, B: i32, seed: u32, key0: u32): void {
  for (let i = 0; i < B; i++) {
    let x: u32 = seed + (GOLDEN << 2) * (key0 + <u32>i);
    for (let k = 0; k < 4; k++) {
      x += GOLDEN;
      let z = x;
      z = (z ^ (z >>> 16)) * 0x85ebca6b;
      z = (z ^ (z >>> 13)) * 0xc2b2ae35;
      store<u32>(at(state, 4 * i + k), z ^ (z >>> 16));
    }
  }
}

@inline function encodeRows(signed: bool, x: usize, out: usize, state: usize, B: i32, N: i32, gain: f32): void {
  for (let b = 0; b < B; b++) {
    const st = at(state, 4 * b);
    let s0 = load<u32>(st), s1 = load<u32>(st, 4), s2 = load<u32>(st, 8), s3 = load<u32>(st, 12);
    const xr = at(x, b * N);
    const yr = at(out, b * N);
    for (let n = 0; n < N; n++) {
      const r = rotl<u32>(s1 * 5, 7) * 9;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl<u32>(s3, 11);
      const u = <f32>(r >>> 8) * TWO_M24;
      const v = load<f32>(at(xr, n));
      let spike: f32 = 0;
      if (signed) {
        if (u < min<f32>(1, gain * abs<f32>(v))) spike = v > 0 ? 1 : -1;
      } else if (u < min<f32>(1, max<f32>(0, gain * v))) {
        spike = 1;
      }
      store<f32>(at(yr, n), spike);
    }
    store<u32>(st, s0);
    store<u32>(st, s1, 4);
    store<u32>(st, s2, 8);
    store<u32>(st, s3, 12);
  }
}

export function encode(x: usize, out: usize, state: usize, B: i32, N: i32, gain: f32, kind: i32): void {
  if (kind == 1) encodeRows(true, x, out, state, B, N, gain);
  else encodeRows(false, x, out, state, B, N, gain);
}
