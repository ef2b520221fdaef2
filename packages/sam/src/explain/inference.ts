import type { Model } from '../model.js';
import type { NetworkInput } from '../network.js';
import { memoryInput, simulate } from '../run.js';
import type { ExplainOptions } from './types.js';

/** The clean scores and predictions of B samples (for methods that need no gradient), as `spikelens run` gives them. */
export async function inference(model: Model, input: NetworkInput, B: number, o: ExplainOptions) {
  const r = await simulate({ model, source: memoryInput(input, B), seed: o.seed, keyOffset: o.keyOffset, keys: o.keys, timesteps: o.timesteps, threads: o.threads });
  return { scores: r.scores, predictions: r.predictions };
}
