/**
 * xorshift32 as a uniform [0, 1) source: small, seeded, and the same in every engine. For weight initialisation and
 * test data; the encoder's spikes use the PRNG of docs/semantics.md §6 in the core instead.
 */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
