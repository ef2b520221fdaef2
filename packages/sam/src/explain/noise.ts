import { rngNext, rngSeed } from '@spikelens/core-wasm/twin';

/**
 * Uniform draws in [0, 1) for sample `key` of a run with `seed`, from the generator of docs/semantics.md §6
 * (splitmix32-seeded xoshiro128**, u = (next >>> 8) * 2^-24) on a stream of its own: the seed is offset so these
 * draws never repeat the encoder's. Used by the `random` maps and by PGD's random start.
 */
export function uniformStream(seed: number, key: number): () => number {
  const state = new Uint32Array(4);
  rngSeed(state, 1, (seed ^ NOISE_SEED) >>> 0, key >>> 0);
  return () => (rngNext(state, 0) >>> 8) * 2 ** -24;
}

/** XORed into the run's seed for noise streams (docs/explain.md). */
export const NOISE_SEED = 0x5bd1e995;
