import { rngNext, rngSeed } from '@spikelens/core-wasm/twin';

/**
 * Uniform draws in [0, 1) for sample `key` of a run with `seed`, from the generator of docs/semantics.md §6
 * (splitmix32-seeded xoshiro128**, u = (next >>> 8) * 2^-24) on a stream of its own: the generator's seed is
 * `(seed XOR NOISE_SEED) + stream * STREAM_STEP` (mod 2^32), so these draws never repeat the encoder's. Stream 0:
 * `random` maps and PGD's random start; stream 1 + j: max-sensitivity's draw j (docs/explain.md).
 */
export function uniformStream(seed: number, key: number, stream = 0): () => number {
  const state = new Uint32Array(4);
  rngSeed(state, 1, (((seed ^ NOISE_SEED) >>> 0) + Math.imul(stream, STREAM_STEP)) >>> 0, key >>> 0);
  return () => (rngNext(state, 0) >>> 8) * 2 ** -24;
}

/** Streams of one sample are this far apart in seed. */
export const STREAM_STEP = 0x632be5ab;

/** XORed into the run's seed for noise streams (docs/explain.md). */
export const NOISE_SEED = 0x5bd1e995;
