/**
 * E1 `mnist-explain`: what one explanation costs. One MNIST image (samples/mnist/digit-7-0.png, decoded and resized
 * as the CLI does), models/mnist-lif-bptt.safetensors, maps of lif2 by SAM, Grad-CAM and saliency with spikelens
 * (each a call of the library's `explain`, timed whole: network creation, forward, backward, the maps; in a worker
 * thread of their own, src/explain-worker.ts), and
 * Grad-CAM of the same layer by the PyTorch peer (peers/torch_explain.py: the same network and semantics, autograd
 * with the atan surrogate, the reset detached), alternated run by run after a check that PyTorch computes the same
 * spikes and the same map. Prints the table and the same-run ratios.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { stats, type Stats } from './measure.js';
import { range, sig, table } from './report.js';
import { TorchExplainPeer, torchAvailable } from './torch-explain-peer.js';
import type { ExplainWorkerData } from './explain-worker.js';

export const E1_ID = 'E1';
const MODEL = 'models/mnist-lif-bptt.safetensors';
const IMAGE = 'samples/mnist/digit-7-0.png';
const LAYER = 'lif2';
/** PyTorch's map may differ from ours by this much, relative to the map's largest magnitude (float summation order). */
const MAP_TOLERANCE = 1e-4;
const SETTLE_MS = 250;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

export interface ExplainRow {
  readonly system: string;
  readonly description: string;
  /** Seconds per map (one call), median [min-max] over the counted runs. */
  readonly seconds: Stats;
}

export interface ExplainBenchResult {
  readonly id: string;
  readonly name: string;
  readonly model: string;
  readonly image: string;
  readonly layer: string;
  readonly timesteps: number;
  readonly prediction: number;
  /** PyTorch's version and threads, or why it is not a row. */
  readonly torch: string | null;
  readonly check: { readonly spikes: boolean; readonly gradcamMaxRel: number; readonly samePrediction: boolean } | null;
  readonly rows: ExplainRow[];
  /** Paired per round: PyTorch Grad-CAM seconds / spikelens Grad-CAM seconds (> 1: spikelens faster). */
  readonly gradcamVsTorch: Stats | null;
  /** Paired per round: spikelens Grad-CAM seconds / spikelens SAM seconds (how many SAM maps cost one Grad-CAM). */
  readonly gradcamOverSam: Stats;
  readonly saliencyOverSam: Stats;
  readonly warmups: number;
  readonly runs: { system: string; round: number; warmup: boolean; seconds: number }[];
  readonly notes: string[];
  readonly seconds: number;
}

export interface ExplainBenchOptions {
  readonly warmups: number;
  readonly runs: number;
  readonly log: (line: string) => void;
}

interface Timed {
  readonly name: string;
  readonly description: string;
  time(): Promise<number>;
}

/** The worker thread that runs spikelens' calls (src/explain-worker.ts), one request at a time. */
class SpikelensSide {
  private constructor(private readonly worker: Worker) {}

  static async start(data: ExplainWorkerData): Promise<SpikelensSide> {
    const worker = new Worker(new URL('./explain-worker.js', import.meta.url), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new SpikelensSide(worker);
  }

  ask<T>(msg: object): Promise<T> {
    return new Promise((resolve, reject) => {
      this.worker.once('message', (m: T & { error?: string }) => (m.error ? reject(new Error(`E1 worker: ${m.error}`)) : resolve(m)));
      this.worker.once('error', reject);
      this.worker.postMessage(msg);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

export async function benchExplain(o: ExplainBenchOptions): Promise<ExplainBenchResult> {
  const started = performance.now();
  const file = fileURLToPath(new URL(`../../${MODEL}`, import.meta.url));
  const imageFile = fileURLToPath(new URL(`../../${IMAGE}`, import.meta.url));
  const notes: string[] = [];
  // spikelens runs in a worker thread of its own: a fresh V8 isolate with only @spikelens/sam loaded. In the suite's
  // main thread, which has loaded tfjs-core for the tfjs peer, V8 re-optimizes Grad-CAM's per-call map loops on
  // every call (5-16 ms of a 15-30 ms call here, against 0.5 ms in a plain process): a cost of this process, not
  // of the library.
  const side = await SpikelensSide.start({ model: file, image: imageFile, layer: LAYER });
  // Our spikes and Grad-CAM map, for the check (off the clock), on the pixels the worker made (decodePng + imageInput).
  const ours = await side.ask<{ pixels: Float32Array; maps: Float32Array; prediction: number; spikes: Record<string, string>; timesteps: number }>({ cmd: 'check' });
  const { pixels, prediction } = ours;
  const T = ours.timesteps;
  const call = (method: string) => async () => (await side.ask<{ seconds: number }>({ cmd: 'time', method })).seconds;

  const timed: Timed[] = [
    { name: 'spikelens SAM', description: `explain('sam', layer ${LAYER}): the inference network with a SamObserver, no gradient`, time: call('sam') },
    {
      name: 'spikelens Grad-CAM',
      description: `explain('gradcam', layer ${LAYER}, alpha summed, target pred): DiffNetwork forward over T, BPTT back, the maps`,
      time: call('gradcam'),
    },
    { name: 'spikelens saliency', description: "explain('saliency', target pred): the same BPTT down to the pixels", time: call('saliency') },
  ];

  let torch: string | null = null;
  let check: ExplainBenchResult['check'] = null;
  let peer: TorchExplainPeer | null = null;
  const avail = torchAvailable();
  if (!avail.ok) notes.push(avail.message ?? 'PyTorch peer skipped');
  else {
    peer = TorchExplainPeer.start(2);
    const loaded = await peer.load(file);
    torch = `PyTorch ${loaded.torch} (${loaded.threads} threads)`;
    const fw = await peer.forward(pixels);
    const spikes = Object.keys(ours.spikes).every((l) => fw.spikes[l] === ours.spikes[l]);
    const theirs = await peer.gradcam(pixels, LAYER, prediction, 'summed');
    let diff = 0;
    let mag = 0;
    for (let i = 0; i < ours.maps.length; i++) {
      diff = Math.max(diff, Math.abs(ours.maps[i] - theirs.maps[i]));
      mag = Math.max(mag, Math.abs(ours.maps[i]), Math.abs(theirs.maps[i]));
    }
    const rel = mag === 0 ? diff : diff / mag;
    check = { spikes, gradcamMaxRel: rel, samePrediction: fw.predictions[0] === prediction };
    if (!spikes || !check.samePrediction || !(rel <= MAP_TOLERANCE)) {
      notes.push(`PyTorch computes other ${!spikes ? 'spikes' : !check.samePrediction ? 'predictions' : `Grad-CAM maps (${rel.toExponential(1)})`}: not a peer, not timed`);
    } else {
      notes.push(`checked: PyTorch computes the same spikes (every layer, bit for bit), prediction ${prediction}, and Grad-CAM map within ${rel.toExponential(1)} of its largest value`);
      const p = peer;
      timed.push({
        name: 'PyTorch Grad-CAM',
        description: 'peers/torch_explain.py: the same network, autograd back to the layer only (its spikes a leaf), timed inside Python',
        time: () => p.timeGradcam(pixels, LAYER),
      });
    }
  }
  notes.push("spikelens' calls run and are timed in a worker thread with only @spikelens/sam loaded (as in a user's process)");

  o.log(`${E1_ID}: timing ${timed.map((c) => c.name).join(', ')} alternately: ${o.warmups} warm-up + ${o.runs} counted rounds`);
  const runs: ExplainBenchResult['runs'] = [];
  for (let round = 0; round < o.warmups + o.runs; round++) {
    // The order rotates round by round: a call of a few ms is sensitive to what ran just before it (the garbage
    // collection of the previous call's WebAssembly memory, PyTorch's OpenMP threads winding down).
    for (const c of timed.map((_, i) => timed[(i + round) % timed.length])) {
      await settle();
      const seconds = await c.time();
      runs.push({ system: c.name, round, warmup: round < o.warmups, seconds });
      o.log(`  round ${round}${round < o.warmups ? ' (warm-up)' : ''} ${c.name}: ${(seconds * 1000).toFixed(2)} ms`);
    }
  }
  peer?.quit();
  await side.close();
  const counted = (name: string) => runs.filter((r) => r.system === name && !r.warmup);
  const paired = (num: string, den: string): Stats | null => {
    const a = counted(num);
    const b = counted(den);
    return a.length && a.length === b.length ? stats(a.map((r, i) => r.seconds / b[i].seconds)) : null;
  };
  return {
    id: E1_ID,
    name: 'mnist-explain',
    model: MODEL,
    image: IMAGE,
    layer: LAYER,
    timesteps: T,
    prediction,
    torch,
    check,
    rows: timed.map((c) => ({ system: c.name, description: c.description, seconds: stats(counted(c.name).map((r) => r.seconds)) })),
    gradcamVsTorch: paired('PyTorch Grad-CAM', 'spikelens Grad-CAM'),
    gradcamOverSam: paired('spikelens Grad-CAM', 'spikelens SAM')!,
    saliencyOverSam: paired('spikelens saliency', 'spikelens SAM')!,
    warmups: o.warmups,
    runs,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}

const ms = (s: Stats) => range(s.median * 1000, s.min * 1000, s.max * 1000);

export function formatExplain(r: ExplainBenchResult): string {
  const out: string[] = [''];
  out.push(
    `${r.id} ${r.name}: ${r.model}, ${r.image} (predicted ${r.prediction}), maps of ${r.layer}, T ${r.timesteps}, batch 1; ` +
      `${r.rows[0]?.seconds.n ?? 0} counted runs per system after ${r.warmups} warm-up rounds, alternated run by run (the order rotating), medians [min-max]`,
  );
  out.push(r.torch ? `peer: ${r.torch}` : 'no PyTorch peer');
  out.push('');
  const torchRow = r.rows.find((x) => x.system === 'PyTorch Grad-CAM');
  out.push(
    table(
      ['system', 'ms per map', 'maps/s', 'x PyTorch Grad-CAM (medians)'],
      r.rows.map((row) => [row.system, ms(row.seconds), sig(1 / row.seconds.median), torchRow ? sig(torchRow.seconds.median / row.seconds.median) : '-']),
    ),
  );
  out.push('');
  for (const row of r.rows) out.push(`  ${row.system}: ${row.description}`);
  for (const n of r.notes) out.push(n);
  const ratio = (s: Stats) => range(s.median, s.min, s.max);
  if (r.gradcamVsTorch) {
    out.push(`Grad-CAM, spikelens vs PyTorch (paired per round, PyTorch time / spikelens time; > 1: spikelens faster): ${ratio(r.gradcamVsTorch)}`);
    // On a busy machine PyTorch's two OpenMP threads stall at their barriers now and then (runs of 100+ ms): the
    // fastest run of each says what each does when it has both cores.
    const ours = r.rows.find((x) => x.system === 'spikelens Grad-CAM')!.seconds.min;
    const theirs = torchRow!.seconds.min;
    out.push(`  fastest run of each: spikelens ${(ours * 1000).toFixed(2)} ms, PyTorch ${(theirs * 1000).toFixed(2)} ms (${sig(theirs / ours)})`);
  }
  out.push(`SAM vs Grad-CAM, spikelens (paired per round, Grad-CAM time / SAM time): ${ratio(r.gradcamOverSam)}; saliency / SAM: ${ratio(r.saliencyOverSam)}`);
  out.push(`whole E1: ${r.seconds.toFixed(1)} s`);
  return out.join('\n');
}
