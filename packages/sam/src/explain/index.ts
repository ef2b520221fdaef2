import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import type { NetworkInput } from '../network.js';
import { gradcam } from './gradcam.js';
import { input } from './input.js';
import { random } from './random.js';
import { sam } from './sam.js';
import { saliency } from './saliency.js';
import type { Explainer, ExplainOptions, Explanation } from './types.js';

/** Every explanation method, by name (docs/explain.md). */
export const EXPLAINERS: Readonly<Record<string, Explainer>> = { sam, gradcam, saliency, random, input };
export const METHOD_NAMES = Object.keys(EXPLAINERS);

export function explainerOf(method: string): Explainer {
  const e = Object.hasOwn(EXPLAINERS, method) ? EXPLAINERS[method] : undefined;
  if (!e) throw new UsageError(`unknown method "${method.slice(0, 40)}" (one of ${METHOD_NAMES.join(', ')})`);
  return e;
}

/** Maps of B samples by one method: `[T, B, H, W]` with the targets, scores and predictions (see Explanation). */
export async function explain(method: string, model: Model, x: NetworkInput, batch: number, options: ExplainOptions = {}): Promise<Explanation> {
  const e = explainerOf(method);
  e.check(model, x, options);
  return e.explain(model, x, batch, options);
}
