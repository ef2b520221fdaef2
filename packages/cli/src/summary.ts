import { summaryScores, type Model, type Summary } from '@spikelens/sam';
import type { SimulateResult } from './simulate.js';

export type { Summary };

/** The CLI's summary of one simulation, in the schema of the library's `summarize` (docs/outputs.md). */
export function buildSummary(
  r: SimulateResult,
  o: { model: Model; seed: number; gamma: number; ncs: string; input: string; sam: readonly string[] },
): Summary {
  const labels = o.model.input.labels;
  return {
    schema: 'spikelens.summary/1',
    model: o.model.name,
    input: o.input,
    batch: r.batch,
    timesteps: r.timesteps,
    seed: o.seed,
    predictions: r.predictions,
    labels: labels ? r.predictions.map((p) => labels[p]) : null,
    scores: summaryScores(r.scores, r.classes),
    firingRates: r.firingRates,
    sopsPerImage: r.sopsPerImage,
    seconds: r.seconds,
    sam: o.sam.length ? { layers: [...o.sam], gamma: o.gamma, ncs: o.ncs } : null,
  };
}
