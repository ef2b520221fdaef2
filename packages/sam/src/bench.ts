import { createCore } from '@spikelens/core-wasm';
import { Arena } from './arena.js';
import { UsageError } from './errors.js';
import type { Model } from './model.js';
import { sizeOf } from './model.js';
import { Network, type NetworkInput, type NetworkOptions } from './network.js';
import { denseMacsPerStep } from './work.js';
import { xorshift32 } from './random.js';

/**
 * Benchmarking a model as its user would run it (docs/bench.md): warm-up runs, then counted runs of the whole batch
 * (setInput and every step), median and range; a pass that counts synaptic operations and firing rates; and a
 * profile that times the plan's records one at a time (each for the whole run), against the gather ceiling of this
 * machine measured beside it.
 */
export interface BenchOptions {
  readonly batch?: number;
  /** Steps per run (default: the model's). */
  readonly timesteps?: number;
  readonly threads?: 1 | 2;
  /** The input: pixel values [batch, ...] (or a spike train); default seeded uniform pixels 0..255. */
  readonly input?: NetworkInput;
  readonly warmups?: number;
  readonly runs?: number;
  readonly seed?: number;
  readonly blockSteps?: number;
  readonly eventThreshold?: number;
  /** Called after each timed run (warm-ups included) with its seconds. */
  readonly onRun?: (seconds: number, warmup: boolean) => void;
  readonly spawnThread?: NetworkOptions['spawnThread'];
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export interface LayerProfile {
  readonly name: string;
  readonly op: string;
  /** Milliseconds a run of the batch spends in the layer's records (median over the profile's runs). */
  readonly ms: number;
  /** Its share of the profiled run. */
  readonly share: number;
  /** Synaptic operations a run of the batch (conv and linear layers), and the rate the layer reached. */
  readonly sops?: number;
  readonly gsops?: number;
}

export interface BenchReport {
  readonly format: 'spikelens.bench/1';
  readonly model: string;
  readonly batch: number;
  readonly timesteps: number;
  readonly threads: 1 | 2;
  readonly blockSteps: number;
  /** Seconds a run of the batch takes. */
  readonly seconds: Spread;
  readonly imagesPerSecond: number;
  readonly stepsPerSecond: number;
  readonly sopsPerImage: number;
  readonly gsops: number;
  /** Dense-equivalent multiply-accumulates per second (every input as if active). */
  readonly denseGmacs: number;
  readonly firingRates: Record<string, number>;
  readonly arenaBytes: number;
  readonly layers: readonly LayerProfile[];
  /** The gather micro-benchmark of this machine: G synaptic operations/s of one thread's event inner loop. */
  readonly ceilingGsops: number;
}

const stats = (xs: readonly number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1], n: s.length };
};

/** Seeded uniform pixels 0..255 for `batch` samples of the model's input. */
export function benchPixels(model: Model, batch: number, seed = 1): Float32Array {
  const r = xorshift32(seed);
  return Float32Array.from({ length: batch * sizeOf(model.input.shape) }, () => Math.floor(r() * 256));
}

export async function benchmark(model: Model, o: BenchOptions = {}): Promise<BenchReport> {
  const batch = o.batch ?? 1;
  const threads = o.threads ?? 1;
  const warmups = o.warmups ?? 2;
  const runs = o.runs ?? 5;
  if (!Number.isSafeInteger(runs) || runs < 1) throw new UsageError(`runs must be a positive integer, not ${runs}`);
  if (!Number.isSafeInteger(warmups) || warmups < 0) throw new UsageError(`warmups must be a whole number, not ${warmups}`);
  const input = o.input ?? { kind: 'pixels', data: benchPixels(model, batch, o.seed ?? 1) };
  const T = input.kind === 'train' ? input.timesteps : (o.timesteps ?? model.timesteps);
  if (T === null) throw new UsageError(`the model sets no timesteps: give timesteps`);
  const netOptions: NetworkOptions = {
    batch, threads, seed: o.seed ?? 0, blockSteps: o.blockSteps, eventThreshold: o.eventThreshold, spawnThread: o.spawnThread,
  };

  // synaptic operations and firing rates: one counting run
  const counter = await Network.create(model, { ...netOptions, threads: 1, countSops: true });
  counter.setInput(input);
  counter.run(T);
  const sops = counter.sops;
  const layerSops = new Map<string, number>(counter.layerSops());
  const firingRates = counter.firingRates();
  counter.close();

  const net = await Network.create(model, netOptions);
  try {
    const times: number[] = [];
    for (let i = 0; i < warmups + runs; i++) {
      const t0 = performance.now();
      net.setInput(input);
      net.run(T);
      const s = (performance.now() - t0) / 1000;
      if (i >= warmups) times.push(s);
      o.onRun?.(s, i < warmups);
    }
    const seconds = stats(times);
    // the profile: every record timed alone over the whole run, as many runs as counted
    const perRun: Map<string, number>[] = [];
    for (let i = 0; i < Math.max(1, Math.min(runs, 5)); i++) {
      net.setInput(input);
      perRun.push(net.profileRun(T));
    }
    const names = [...perRun[0].keys()];
    const ms = new Map(names.map((n) => [n, stats(perRun.map((m) => m.get(n)!)).median]));
    const total = [...ms.values()].reduce((a, b) => a + b, 0);
    const layers: LayerProfile[] = names.map((name) => {
      const layer = model.layers.find((l) => l.name === name);
      const s = layerSops.get(name);
      const t = ms.get(name)!;
      return {
        name, op: layer?.op ?? name, ms: t, share: total > 0 ? t / total : 0,
        ...(s !== undefined ? { sops: s, gsops: t > 0 ? s / (t / 1000) / 1e9 : 0 } : {}),
      };
    });
    const images = batch / seconds.median;
    return {
      format: 'spikelens.bench/1',
      model: model.name,
      batch,
      timesteps: T,
      threads,
      blockSteps: Math.min(net.blockSteps, T),
      seconds,
      imagesPerSecond: images,
      stepsPerSecond: images * T,
      sopsPerImage: sops / batch,
      gsops: sops / seconds.median / 1e9,
      denseGmacs: (denseMacsPerStep(model) * T * batch) / seconds.median / 1e9,
      firingRates,
      arenaBytes: net.arena.size,
      layers,
      ceilingGsops: await gatherCeiling(),
    };
  } finally {
    net.close();
  }
}

/**
 * G synaptic operations/s of the event conv's inner loop on this machine, one thread: a list of 96 active inputs
 * (nine taps of a 64-channel layer at about 17 %) over a 72 KiB block of weights, 24 operations an entry. The best of
 * five passes of about 20 ms.
 */
export async function gatherCeiling(): Promise<number> {
  const core = await createCore();
  const arena = new Arena(core);
  const rows = 9 * 64;
  const ps = rows * 64;
  const w = arena.alloc(2 * ps, 64);
  const weights = arena.f32(w, (2 * ps) / 4);
  const r = xorshift32(7);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.fround(r() / 1024);
  const n = 96;
  const list = arena.alloc(n * 4);
  const offsets = arena.i32(list, n);
  for (let k = 0; k < n; k++) offsets[k] = Math.floor(r() * rows) * 64;
  offsets.sort();
  const ex = core.exports;
  let reps = 1000;
  for (;;) {
    const t0 = performance.now();
    ex.gather_peak(w, ps, list, n, reps);
    const dt = performance.now() - t0;
    if (dt > 5 || reps > 1e7) break;
    reps *= 4;
  }
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    ex.gather_peak(w, ps, list, n, reps);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (reps * n * 24) / s / 1e9);
  }
  return best;
}
