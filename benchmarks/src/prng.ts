/**
 * The benchmarks' own seeded generator for weights and pixels (mulberry32): tiny, fast, and independent of the
 * encoder's xoshiro128** so that workload data never shares a stream with the Poisson spikes it is fed to.
 * Math.random is never used: a workload must be the same bytes on every machine and every run.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Next 32-bit output. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 2 ** 32;
  }
}
