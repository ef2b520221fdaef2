import { summarize, type Summary } from '@spikelens/sam';
import type { SimulateResult } from './simulate.js';

export type { Summary };

/** The CLI's summary of one simulation: `summarize` of @spikelens/sam, which the web page uses too. */
export function buildSummary(r: SimulateResult, o: { gamma: number; ncs: string; input: string }): Summary {
  return summarize(r.net, {
    input: o.input,
    scores: r.scores,
    seconds: r.seconds,
    sam: { layers: r.sams.map((s) => s.layer), gamma: o.gamma, ncs: o.ncs },
  });
}
