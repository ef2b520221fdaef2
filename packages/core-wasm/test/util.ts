/** A small seeded generator (mulberry32), so fast-check shrinks shapes while the data follow from one seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Float32 normals: almost never dyadic, so every summation order gives different bits. */
export function normals(rand: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    out[i] = scale * r * Math.cos(2 * Math.PI * rand());
  }
  return out;
}

export function uniforms(rand: () => number, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** Spike-like inputs: each element is active with probability `density`; values 0/1, -1/0/1 or counts 0..255. */
export function spikes(rand: () => number, n: number, density: number, kind: "binary" | "signed" | "count"): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (rand() >= density) continue;
    if (kind === "binary") out[i] = 1;
    else if (kind === "signed") out[i] = rand() < 0.5 ? -1 : 1;
    else out[i] = 1 + Math.floor(rand() * 255);
  }
  return out;
}

/**
 * Throws, naming the first differing element, unless the arrays hold the same floats: Object.is per element, so +0
 * and -0 differ while any NaN equals any NaN (WebAssembly leaves a NaN's sign and payload unspecified).
 */
export function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${Object.is(actual[i], -0) ? "-0" : actual[i]}, expected ${Object.is(expected[i], -0) ? "-0" : expected[i]}`);
    }
  }
}

export function outSize(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}
