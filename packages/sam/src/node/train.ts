/**
 * Training on both cores: a coordinator in this thread and one worker thread per core, each owning a DiffNetwork
 * for its shard of every mini-batch. The coordinator keeps the master weights and the optimizer; each batch it sends
 * the weights and the shards' indices out, adds the returned gradients in worker order (so the result never depends
 * on timing) and takes one optimizer step. Checkpoints hold everything a resumed run needs to continue bit for bit.
 */
import { readFile, rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { InputError, UsageError } from '../errors.js';
import { modelToSafetensors, parseModel } from '../formats/index.js';
import type { Model } from '../model.js';
import { buildArch } from '../train/arch.js';
import { batches, shuffle, type Dataset } from '../train/data/dataset.js';
import { DiffNetwork, type Surrogate, type DiffNetworkOptions } from '../diff/network.js';
import { Adam, Sgd, type Optimizer, type OptimizerState } from '../train/optim.js';
import { lrAt, type Schedule } from '../train/schedule.js';
import { flatLength, readWeights } from '../train/shard.js';
import type { DatasetName } from './datasets.js';
import { writeFilesAtomic } from './files.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './train-worker.js';

export interface TrainConfig {
  readonly dataset: DatasetName;
  readonly arch: string;
  readonly neuron: 'lif' | 'if';
  /** The analog ReLU form (T = 1, direct input) that conversion starts from. */
  readonly analog: boolean;
  readonly timesteps: number;
  readonly epochs: number;
  readonly batch: number;
  readonly optimizer: 'sgd' | 'adam';
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly schedule: 'step' | 'cosine' | 'constant';
  readonly surrogate: Surrogate;
  readonly encoding: 'poisson' | 'direct';
  readonly seed: number;
  readonly workers: number;
  readonly keepReset: boolean;
  readonly trainBeta: boolean;
  /** Use the first N training images only (0: all). */
  readonly limit: number;
  readonly name: string;
}

export interface Progress {
  readonly epoch: number;
  readonly epochs: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly imagesPerSecond: number;
  readonly firingRates: Record<string, number>;
}

export interface TrainHooks {
  onProgress?(p: Progress): void;
  onEpoch?(p: Progress): void;
  /** Where to keep the checkpoint, and how often (seconds; 0: after every batch, for tests). */
  readonly checkpoint?: { readonly file: string; readonly seconds: number };
  /** Continue from the checkpoint file if it exists. */
  readonly resume?: boolean;
  /**
   * Training images in the split (e.g. for a run on a subset). The workers load MNIST and Fashion-MNIST themselves;
   * a generated set's images (docs/datasets.md) are handed to them, shared when their buffer is a SharedArrayBuffer.
   */
  readonly dataset: Dataset;
}

interface Checkpoint {
  readonly format: 'spikelens.checkpoint/1';
  readonly config: TrainConfig;
  readonly epoch: number;
  /** Batches of `epoch` already applied. */
  readonly batch: number;
  readonly weights: number[];
  readonly optimizer: unknown;
  readonly seconds: number;
}

/** The initial model of a run: the architecture's graph with seeded weights. */
export function initialModel(config: TrainConfig, ds: Dataset): { graph: Record<string, unknown>; bytes: Uint8Array; model: Model } {
  const { graph, tensors } = buildArch(
    config.arch,
    {
      neuron: config.neuron, analog: config.analog, encoding: config.encoding, timesteps: config.timesteps, labels: ds.classes, name: config.name,
      input: [ds.channels, ds.height, ds.width],
    },
    config.seed,
  );
  const bytes = modelToSafetensors(graph, tensors);
  return { graph, bytes, model: parseModel(bytes, config.name) };
}

function graphOptions(config: TrainConfig, batch: number): DiffNetworkOptions {
  return {
    batch,
    timesteps: config.analog ? 1 : config.timesteps,
    surrogate: config.surrogate,
    keepReset: config.keepReset,
    trainBeta: config.trainBeta,
  };
}

class Pool {
  private readonly workers: Worker[] = [];
  private constructor() {}

  static async start(n: number, init: WorkerInit): Promise<Pool> {
    const pool = new Pool();
    const url = new URL('./train-worker.js', import.meta.url);
    await Promise.all(
      Array.from({ length: n }, () => {
        const w = new Worker(url, { workerData: init });
        pool.workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
          w.once('error', reject);
        });
      }),
    );
    return pool;
  }

  run(requests: WorkerRequest[]): Promise<Array<Exclude<WorkerReply, { error: string }>>> {
    return Promise.all(
      requests.map(
        (req, i) =>
          new Promise<Exclude<WorkerReply, { error: string }>>((resolve, reject) => {
            const w = this.workers[i];
            const onError = (e: Error): void => reject(e);
            w.once('error', onError);
            w.once('message', (m: WorkerReply) => {
              w.off('error', onError);
              if ('error' in m) reject(new Error(`training worker ${i}: ${m.error}`));
              else resolve(m);
            });
            w.postMessage(req);
          }),
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function readCheckpoint(file: string, config: TrainConfig): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  let ck: Checkpoint;
  try {
    ck = JSON.parse(text) as Checkpoint;
  } catch {
    throw new InputError(file, 'the checkpoint is not valid JSON');
  }
  if (ck.format !== 'spikelens.checkpoint/1') throw new InputError(file, 'not a spikelens checkpoint');
  const same = JSON.stringify({ ...ck.config, epochs: 0 }) === JSON.stringify({ ...config, epochs: 0 });
  if (!same) throw new UsageError(`${file}: the checkpoint was made with other training options; remove it or drop --resume`);
  return ck;
}

/**
 * Trains a model as `config` says and returns it as a model file (docs/model-format.md). Deterministic: the same config gives
 * the same weights, bit for bit, whether or not the run was interrupted and resumed.
 */
export async function trainModel(config: TrainConfig, hooks: TrainHooks): Promise<{ bytes: Uint8Array; model: Model; seconds: number }> {
  const ds = hooks.dataset;
  const count = config.limit > 0 ? Math.min(config.limit, ds.count) : ds.count;
  const W = config.workers;
  if (config.batch % W !== 0) throw new UsageError(`--batch ${config.batch} must be a multiple of the ${W} workers`);
  const shard = config.batch / W;
  const { graph, bytes, model } = initialModel(config, ds);
  const master = await DiffNetwork.create(model, graphOptions(config, 1));
  const n = flatLength(master);
  const weights = new Float32Array(n);
  readWeights(master, weights);
  const grads = new Float32Array(n);
  const optimizer: Optimizer =
    config.optimizer === 'adam'
      ? new Adam({ lr: config.lr, weightDecay: config.weightDecay })
      : new Sgd({ lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
  const groups = paramGroups(master, weights, grads);
  const perEpoch = Math.floor(count / config.batch);
  if (perEpoch < 1) throw new UsageError(`--batch ${config.batch} is larger than the ${count} training images`);
  const schedule: Schedule =
    config.schedule === 'cosine'
      ? { kind: 'cosine', lr: config.lr, epochs: config.epochs, perStep: true }
      : config.schedule === 'step'
        ? { kind: 'step', lr: config.lr, stepSize: Math.max(1, Math.ceil(config.epochs / 3)) }
        : { kind: 'constant', lr: config.lr };

  let epoch = 0;
  let start = 0;
  let spent = 0;
  const ck = hooks.checkpoint && hooks.resume ? await readCheckpoint(hooks.checkpoint.file, config) : null;
  if (ck) {
    weights.set(ck.weights);
    optimizer.load(decodeState(ck.optimizer));
    epoch = ck.epoch;
    start = ck.batch;
    spent = ck.seconds;
  }

  const generated = config.dataset === 'cluttered-mnist' || config.dataset === 'two-digit';
  const images = generated ? { pixels: ds.pixels, labels: ds.labels, height: ds.height, width: ds.width, classes: ds.classes } : undefined;
  const pool = await Pool.start(W, { model: bytes, options: graphOptions(config, shard), dataset: config.dataset, images });
  const began = performance.now();
  let lastSave = began;
  try {
    for (; epoch < config.epochs; epoch++, start = 0) {
      const order = shuffle(count, config.seed, epoch);
      const list = batches(order, config.batch, true);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      const spikes = new Map<string, number>();
      const epochStart = performance.now();
      for (let b = start; b < list.length; b++) {
        const idx = list[b];
        // each epoch draws new Poisson spikes for an image: the encoder seed moves with the epoch
        const seed = (config.seed + epoch * 0x9e3779b1) >>> 0;
        const replies = await pool.run(
          Array.from({ length: W }, (_, w) => ({ weights, indices: idx.slice(w * shard, (w + 1) * shard), seed, total: config.batch })),
        );
        grads.set(replies[0].grads);
        for (let w = 1; w < W; w++) {
          const g = replies[w].grads;
          for (let i = 0; i < n; i++) grads[i] = Math.fround(grads[i] + g[i]);
        }
        optimizer.step(groups, lrAt(schedule, epoch, b, list.length));
        for (const g of groups) if (g.clamp) for (let i = 0; i < g.data.length; i++) g.data[i] = Math.min(g.clamp[1], Math.max(g.clamp[0], g.data[i]));
        for (const r of replies) {
          lossSum += r.lossSum;
          correct += r.correct;
          for (const [k, v] of Object.entries(r.spikes)) spikes.set(k, (spikes.get(k) ?? 0) + v);
        }
        seen += config.batch;
        const progress: Progress = {
          epoch, epochs: config.epochs, batch: b + 1, batches: list.length, loss: lossSum / seen, accuracy: correct / seen,
          imagesPerSecond: seen / ((performance.now() - epochStart) / 1000),
          firingRates: rates(model, spikes, seen, config.analog ? 1 : config.timesteps),
        };
        hooks.onProgress?.(progress);
        const now = performance.now();
        if (hooks.checkpoint && (now - lastSave) / 1000 >= hooks.checkpoint.seconds) {
          await saveCheckpoint(hooks.checkpoint.file, config, epoch, b + 1, weights, optimizer, spent + (now - began) / 1000);
          lastSave = now;
        }
        if (b === list.length - 1) hooks.onEpoch?.(progress);
      }
    }
  } finally {
    await pool.stop();
  }
  if (hooks.checkpoint) await rm(hooks.checkpoint.file, { force: true });
  const seconds = spent + (performance.now() - began) / 1000;
  const out = finalModel(graph, master, weights);
  return { bytes: out, model: parseModel(out, config.name), seconds };
}

function rates(model: Model, spikes: Map<string, number>, images: number, T: number): Record<string, number> {
  const r: Record<string, number> = {};
  for (const l of model.layers) {
    const s = spikes.get(l.name);
    if (s === undefined) continue;
    r[l.name] = s / (images * T * l.outShape.reduce((a, b) => a * b, 1));
  }
  return r;
}

function paramGroups(master: DiffNetwork, weights: Float32Array, grads: Float32Array) {
  let o = 0;
  return master.params.map((p) => {
    const n = p.data.length;
    const g = { name: p.name, data: weights.subarray(o, o + n), grad: grads.subarray(o, o + n), decay: p.decay, clamp: p.clamp };
    o += n;
    return g;
  });
}

async function saveCheckpoint(
  file: string, config: TrainConfig, epoch: number, batch: number, weights: Float32Array, optimizer: Optimizer, seconds: number,
): Promise<void> {
  const ck: Checkpoint = { format: 'spikelens.checkpoint/1', config, epoch, batch, weights: Array.from(weights), optimizer: encodeState(optimizer.state()), seconds };
  await writeFilesAtomic([{ path: file, data: JSON.stringify(ck) }]);
}

/** Optimizer state as JSON: float32 buffers as plain number lists (every float32 round-trips through a double). */
function encodeState(s: OptimizerState): unknown {
  return { ...s, tensors: Object.fromEntries(Object.entries(s.tensors).map(([k, v]) => [k, Array.from(v)])) };
}

function decodeState(s: unknown): OptimizerState {
  const o = s as OptimizerState & { tensors: Record<string, number[]> };
  return { ...o, tensors: Object.fromEntries(Object.entries(o.tensors).map(([k, v]) => [k, Float32Array.from(v)])) };
}

/** The trained model file: the run's graph, with every trained tensor (a learnt beta becomes a [C] tensor). */
function finalModel(graph: Record<string, unknown>, master: DiffNetwork, weights: Float32Array): Uint8Array {
  const tensors: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[] = [];
  let o = 0;
  const layers = (graph.layers as Record<string, unknown>[]).map((l) => ({ ...l }));
  for (const p of master.params) {
    const data = weights.slice(o, o + p.data.length);
    o += p.data.length;
    tensors.push({ name: p.name, dtype: 'F32', shape: [...p.shape], data });
    const m = /^(.*)\.beta$/.exec(p.name);
    if (m) {
      const layer = layers.find((l) => l.name === m[1]);
      if (layer) layer.beta = p.name;
    }
  }
  return modelToSafetensors({ ...graph, layers }, tensors);
}
