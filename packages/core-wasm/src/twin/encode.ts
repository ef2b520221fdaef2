const f = Math.fround;

function splitmix32(x: number): number {
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** xoshiro128** state s0..s3 of sample i at state[4i..4i+4), seeded by splitmix32 from seed + 4*0x9E3779B9*key. */
export function rngSeed(state: Uint32Array, B: number, seed: number, key0: number): void {
  for (let i = 0; i < B; i++) {
    let x = (seed + Math.imul(Math.imul(4, 0x9e3779b9), key0 + i)) >>> 0;
    for (let k = 0; k < 4; k++) {
      x = (x + 0x9e3779b9) >>> 0;
      state[4 * i + k] = splitmix32(x);
    }
  }
}

/** Advances sample i's xoshiro128** generator; returns its next u32 output. */
export function rngNext(state: Uint32Array, i: number): number {
  const o = 4 * i;
  const r = Math.imul(rotl(Math.imul(state[o + 1], 5) >>> 0, 7), 9) >>> 0;
  const t = state[o + 1] << 9;
  state[o + 2] ^= state[o];
  state[o + 3] ^= state[o + 1];
  state[o + 1] ^= state[o + 2];
  state[o] ^= state[o + 3];
  state[o + 2] ^= t;
  state[o + 3] = rotl(state[o + 3], 11);
  return r;
}

/**
 * One encoding step over x[B, N], one draw per element in order, u = (next >>> 8) * 2^-24. kind 0 poisson:
 * spike 1 iff u < min(1, max(0, fl(gain*x))); 1 signed-poisson: spike sign(x) iff u < min(1, fl(gain*|x|)).
 */
export function encode(
  x: Float32Array, out: Float32Array, state: Uint32Array, B: number, N: number, gain: number, kind: number,
): void {
  const gf = f(gain);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const u = (rngNext(state, b) >>> 8) * 2 ** -24;
      const v = x[b * N + n];
      if (kind === 0) out[b * N + n] = u < Math.min(1, Math.max(0, f(gf * v))) ? 1 : 0;
      else out[b * N + n] = u < Math.min(1, f(gf * Math.abs(v))) ? Math.sign(v) : 0;
    }
  }
}
