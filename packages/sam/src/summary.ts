import type { SimulateResult } from './run.js';

/** Most scores a summary lists (B x K); a larger run's scores are in its output.npy only. */
export const SUMMARY_SCORES = 2 ** 20;

/** Scores `[B, K]` as the summary lists them, or null past SUMMARY_SCORES. */
export function summaryScores(raw: Float32Array, K: number): number[][] | null {
  if (raw.length > SUMMARY_SCORES) return null;
  const scores: number[][] = [];
  for (let b = 0; b * K < raw.length; b++) scores.push(Array.from(raw.subarray(b * K, (b + 1) * K)));
  return scores;
}

/**
 * The `summary.json` schema of `spikelens run` / `explain` and of the web page's JSON download (docs/outputs.md).
 * Version the string when a field changes.
 */
export interface Summary {
  readonly schema: 'spikelens.summary/1';
  readonly model: string;
  readonly input: string;
  readonly batch: number;
  readonly timesteps: number;
  readonly seed: number;
  readonly predictions: number[];
  readonly labels: string[] | null;
  /** `[B][K]`; null when B x K is over SUMMARY_SCORES (read output.npy then). */
  readonly scores: number[][] | null;
  readonly firingRates: Record<string, number>;
  readonly sopsPerImage: number;
  readonly seconds: number;
  readonly sam: { readonly layers: string[]; readonly gamma: number; readonly ncs: string } | null;
}

export interface SummaryOptions {
  /** The input as the user named it (a file name). */
  readonly input: string;
  readonly sam: { readonly layers: readonly string[]; readonly gamma: number; readonly ncs: string } | null;
}

/** The summary of a finished `simulate` run. */
export function summarize(r: SimulateResult, o: SummaryOptions): Summary {
  const labels = r.net.model.input.labels;
  return {
    schema: 'spikelens.summary/1',
    model: r.net.model.name,
    input: o.input,
    batch: r.batch,
    timesteps: r.timesteps,
    seed: r.net.seed,
    predictions: r.predictions,
    labels: labels ? r.predictions.map((p) => labels[p]) : null,
    scores: summaryScores(r.scores, r.classes),
    firingRates: r.firingRates,
    sopsPerImage: r.sopsPerImage,
    seconds: r.seconds,
    sam: o.sam && o.sam.layers.length ? { layers: [...o.sam.layers], gamma: o.sam.gamma, ncs: o.sam.ncs } : null,
  };
}
