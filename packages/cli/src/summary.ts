import type { SimulateResult } from './simulate.js';

/** The `summary.json` / `--json` schema (docs/outputs.md): version it when it changes. */
export interface Summary {
  readonly schema: 'spikelens.summary/1';
  readonly model: string;
  readonly input: string;
  readonly batch: number;
  readonly timesteps: number;
  readonly seed: number;
  readonly predictions: number[];
  readonly labels: string[] | null;
  readonly scores: number[][];
  readonly firingRates: Record<string, number>;
  readonly sopsPerImage: number;
  readonly seconds: number;
  readonly sam: { readonly layers: string[]; readonly gamma: number; readonly ncs: string } | null;
}

export function buildSummary(r: SimulateResult, o: { seed: number; gamma: number; ncs: string; input: string }): Summary {
  const { net } = r;
  const K = net.classes;
  const labels = net.model.input.labels;
  const scores: number[][] = [];
  for (let b = 0; b < net.batch; b++) scores.push(Array.from(r.scores.subarray(b * K, (b + 1) * K)));
  return {
    schema: 'spikelens.summary/1',
    model: net.model.name,
    input: o.input,
    batch: net.batch,
    timesteps: r.timesteps,
    seed: o.seed,
    predictions: r.predictions,
    labels: labels ? r.predictions.map((p) => labels[p]) : null,
    scores,
    firingRates: net.firingRates(),
    sopsPerImage: net.sops / net.batch,
    seconds: r.seconds,
    sam: r.sams.length ? { layers: r.sams.map((s) => s.layer), gamma: o.gamma, ncs: o.ncs } : null,
  };
}
