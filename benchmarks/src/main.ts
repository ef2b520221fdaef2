/**
 * `pnpm bench [-- --only B1,T1] [--quick]`: the benchmark suite of BENCHMARKS.md: PEAK (the f32x4 peak and the dense
 * path against it), B1 at batch 1 and 16, B2, B3, B4 (Node and the web page's worker in Chromium), each against its
 * peers, E1 (one explanation map: SAM, Grad-CAM, saliency, Grad-CAM in PyTorch) and T1 (training against PyTorch). Prints the tables, writes the chart and every run to
 * benchmarks/results/latest.json.
 * Never asserts a time: the only failures are usage (exit 2) and peers that disagree on the spikes (exit 1).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, USAGE, UsageError, type Args } from './args.js';
import { benchWorkload, type WorkloadResult } from './bench.js';
import { formatResult, formatTrainResult } from './format.js';
import { benchTrain, T1_CORE_IMAGES, T1_ID, T1_IMAGES, type TrainResult } from './train-bench.js';
import { WORKLOADS } from './workloads.js';
import { b4, runSuiteWorkload, torchAvailable, TorchPeer, type SuiteResult } from './suite.js';
import { formatSuite, writeChart } from './suite-report.js';
import { formatPeak, peak, type PeakResult } from './peak.js';
import { setRefit } from './suite-workloads.js';
import { benchExplain, E1_ID, formatExplain, type ExplainBenchResult } from './explain-bench.js';
import { benchLayers, formatLayers, LAYERS_ID, type LayersResult } from './layers.js';

const SUITE = ['B1', 'B1x16', 'B2', 'B3', 'B3-8192', 'B4'];
const DEFAULT = ['PEAK', ...SUITE, LAYERS_ID, E1_ID, T1_ID];
/** BENCHMARKS.md's quick run: its workloads with fewer rounds and B3 at N 4096 only; T1 (training) is not one. */
const QUICK = ['PEAK', ...SUITE.filter((id) => id !== 'B3-8192'), LAYERS_ID, E1_ID];
const KNOWN = [...DEFAULT, 'B1-PROFILE'];

async function main(args: Args): Promise<void> {
  const started = performance.now();
  const ids = args.only ?? (args.quick ? QUICK : DEFAULT);
  const runs = args.runs ?? (args.quick ? 3 : 7);
  const profileRuns = args.quick ? 3 : 5;
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  setRefit(args.calibrate);
  const results: (WorkloadResult | TrainResult | SuiteResult | PeakResult | ExplainBenchResult | LayersResult)[] = [];
  const suite: SuiteResult[] = [];
  const needTorch = ids.some((id) => SUITE.includes(id) && id !== 'B4');
  const torchInfo = needTorch ? torchAvailable() : null;
  if (torchInfo && !torchInfo.ok) process.stdout.write(`${torchInfo.message}\n`);
  const torch = torchInfo?.ok ? TorchPeer.start() : null;
  for (const id of ids) {
    if (id === 'PEAK') {
      const p = await peak(args.runs ?? (args.quick ? 3 : 5), log);
      results.push(p);
      process.stdout.write(`${formatPeak(p)}\n`);
      continue;
    }
    if (SUITE.includes(id)) {
      // The table: medians of at least 5 counted rounds after a warm-up (--quick: 2).
      const o = { warmups: 1, runs: args.runs ?? (args.quick ? 2 : 5), quick: args.quick, log };
      const r = id === 'B4' ? await b4(o) : await runSuiteWorkload(id, o, torch, torchInfo?.version ?? null);
      suite.push(r);
      results.push(r);
      process.stdout.write(`${formatSuite(r)}\n`);
      if (args.calibrate && r.calibration.length)
        process.stdout.write(`fitted scales (suite-workloads.ts FITTED): '${r.id}': ${JSON.stringify(Object.fromEntries(r.calibration.map((c) => [c.layer, c.scale])))}\n`);
      continue;
    }
    if (id === LAYERS_ID) {
      const r = await benchLayers({ runs: args.runs ?? (args.quick ? 3 : 5), log });
      results.push(r);
      process.stdout.write(`${formatLayers(r)}\n`);
      continue;
    }
    if (id === E1_ID) {
      // One explanation is milliseconds: more rounds than the suite's, at least 5 counted even with --runs.
      const r = await benchExplain({ warmups: 3, runs: Math.max(5, args.runs ?? (args.quick ? 10 : 20)), log });
      results.push(r);
      process.stdout.write(`${formatExplain(r)}\n`);
      continue;
    }
    if (id === T1_ID) {
      // T1 stays within about 3 minutes: 3 counted rounds after 1 warm-up (--quick: 2, no warm-up)
      const images = args.t1Images ?? T1_IMAGES;
      const result = await benchTrain({
        warmups: args.quick ? 0 : 1,
        runs: args.runs ?? (args.quick ? 2 : 3),
        images,
        coreImages: Math.min(images, T1_CORE_IMAGES),
        log,
      });
      results.push(result);
      process.stdout.write(`${formatTrainResult(result)}\n`);
      continue;
    }
    log(`${id}: generating and calibrating the workload (off the clock) ...`);
    const workload = await WORKLOADS[id === 'B1-PROFILE' ? 'B1' : id]();
    const result = await benchWorkload(workload, { warmups: 1, runs, profileRuns, log });
    results.push(result);
    process.stdout.write(`${formatResult(result)}\n`);
  }
  torch?.quit();
  if (suite.length) {
    const chart = fileURLToPath(new URL('../results/chart.png', import.meta.url));
    mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
    writeChart(suite, chart, process.env.SPIKELENS_UPDATE_DOCS ? fileURLToPath(new URL('../../docs/images/bench-chart.png', import.meta.url)) : null);
    process.stdout.write(`chart: ${chart}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, v8: process.versions.v8 };
  const file = fileURLToPath(new URL('../results/latest.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  const json = { date: new Date().toISOString(), argv: process.argv.slice(2), quick: args.quick, machine, seconds, results };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`\nwhole run ${seconds.toFixed(1)} s; every run in ${file}\n`);
}

let args: Args;
try {
  args = parseArgs(process.argv.slice(2), KNOWN);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`spikelens-bench: ${err.message} (see --help)\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${USAGE.replace('%KNOWN%', KNOWN.join(', '))}\n`);
} else {
  await main(args);
}
