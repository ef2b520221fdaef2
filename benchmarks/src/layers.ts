/**
 * LAYERS: where B1's time goes, layer by layer, against this machine's gather ceiling (the event conv's inner loop
 * alone, `gather_peak`): the library's own profiler (`benchmark`, which times the compiled plan's records one at a
 * time over whole runs) at batch 1 on one thread and on two. Printed, never asserted.
 */
import { benchmark, type BenchReport } from '@spikelens/sam';
import { b1 } from './workloads.js';
import { table } from './report.js';

export const LAYERS_ID = 'LAYERS';

export interface LayersResult {
  readonly id: typeof LAYERS_ID;
  readonly workload: 'B1';
  readonly reports: readonly BenchReport[];
}

export async function benchLayers(o: { runs: number; log: (line: string) => void }): Promise<LayersResult> {
  o.log('LAYERS: B1 at batch 1, profiled layer by layer on 1 and 2 threads ...');
  const w = await b1(1);
  const reports: BenchReport[] = [];
  for (const threads of [1, 2] as const) {
    reports.push(await benchmark(w.model, { batch: 1, threads, input: { kind: 'pixels', data: w.pixels }, seed: w.seed, runs: o.runs, warmups: 2 }));
  }
  return { id: LAYERS_ID, workload: 'B1', reports };
}

export function formatLayers(r: LayersResult): string {
  const [one, two] = r.reports;
  const ceiling = one.ceilingGsops;
  const rows = one.layers.map((l, i) => {
    const t = two.layers[i];
    const rate = (x?: number, threads = 1): string => (x === undefined ? '' : `${x.toFixed(2)} (${((100 * x) / (ceiling * threads)).toFixed(0)} %)`);
    return [l.name, l.op, l.ms.toFixed(3), `${(100 * l.share).toFixed(1)} %`, rate(l.gsops), t.ms.toFixed(3), rate(t.gsops, 2)];
  });
  return [
    `\nLAYERS: B1 batch 1, blocks of ${one.blockSteps} steps; gather ceiling ${ceiling.toFixed(1)} G SOP/s a thread (6 accumulators, 72 KiB of weights)`,
    `whole run: 1 thread ${(one.seconds.median * 1e3).toFixed(2)} ms (${one.gsops.toFixed(2)} G SOP/s), 2 threads ${(two.seconds.median * 1e3).toFixed(2)} ms (${two.gsops.toFixed(2)} G SOP/s); the profile runs each record alone`,
    table(['layer', 'op', '1 thread ms', 'share', 'G SOP/s (of ceiling)', '2 threads ms', 'G SOP/s (of 2 ceilings)'], rows),
  ].join('\n');
}
