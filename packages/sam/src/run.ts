/**
 * The one run path of the library: a model on an input of any number of samples, chunk by chunk, with recording and
 * Spike Activation Maps. `spikelens run`, `explain`, the web page and the explainers all run through `simulate`.
 */
import type { HelperInit, HelperThread } from '@spikelens/core-wasm';
import { InputError, UsageError } from './errors.js';
import { LIMITS, formatBytes } from './limits.js';
import { isSpiking, sizeOf, type Model } from './model.js';
import { denseMacs } from './work.js';
import { Network, argmaxRows, type NcsMode, type NetworkInput } from './network.js';
import { Recorder, SamObserver } from './observers.js';

/**
 * What a run reads, a chunk of samples at a time: pixel values `[B, ...]` or input frames `[T, B, ...]`, from memory
 * (`memoryInput`) or from a file read in pieces (the CLI's `.npy` reader).
 */
export interface RunInput {
  /** The input's name, for messages (a file name). */
  readonly file: string;
  readonly kind: 'pixels' | 'train';
  /** Samples in the input. */
  readonly batch: number;
  /** A train's length (its steps); undefined for pixels. */
  readonly timesteps?: number;
  /** Bytes one sample's input takes in memory once read (all its steps for a train). */
  readonly sampleBytes: number;
  /** A train of float frames (event counts or currents), recorded as float32 rather than as spikes. */
  readonly floatFrames: boolean;
  /** Samples [b0, b0 + count) as a network input. */
  read(b0: number, count: number): NetworkInput;
}

/** A RunInput over a network input held in memory (`batch` samples). */
export function memoryInput(input: NetworkInput, batch: number, file = 'input'): RunInput {
  if (input.kind === 'pixels') {
    const sample = input.data.length / batch;
    return {
      file, kind: 'pixels', batch, sampleBytes: sample * 4, floatFrames: false,
      read: (b0, count) => (b0 === 0 && count === batch ? input : { kind: 'pixels', data: input.data.slice(b0 * sample, (b0 + count) * sample) }),
    };
  }
  const T = input.timesteps;
  const sample = input.data.length / (T * batch);
  const float = input.data instanceof Float32Array;
  return {
    file, kind: 'train', batch, timesteps: T, sampleBytes: T * sample * input.data.BYTES_PER_ELEMENT, floatFrames: float,
    read(b0, count) {
      if (b0 === 0 && count === batch) return input;
      const n = count * sample;
      const data = new (input.data.constructor as { new (n: number): Uint8Array | Int8Array | Float32Array })(T * n);
      for (let t = 0; t < T; t++) data.set(input.data.subarray((t * batch + b0) * sample, (t * batch + b0) * sample + n), t * n);
      return { kind: 'train', data, timesteps: T };
    },
  };
}

/** Where a streamed run's frames go: each step's frames `[count, ...]` of the samples from `b0`. */
export interface FrameSink {
  spikes?(layer: string, t: number, b0: number, frame: Uint8Array | Int8Array | Float32Array): void;
  membrane?(layer: string, t: number, b0: number, frame: Float32Array): void;
  sam?(layer: string, t: number, b0: number, map: Float32Array): void;
}

export interface SimulateOptions {
  readonly model: Model;
  readonly source: RunInput;
  /** Encoder seed (default 0). */
  readonly seed?: number;
  /** The key of the input's first sample (default 0): sample b draws from the encoder stream of key keyOffset + b. */
  readonly keyOffset?: number;
  /** One encoder key per sample of the whole input, instead of keyOffset + b. */
  readonly keys?: ArrayLike<number>;
  /** Steps (default: a train's length, else the model's). */
  readonly timesteps?: number;
  /** Layers whose spikes and membranes are recorded (`input`: the input spikes). */
  readonly record?: readonly string[];
  /** Layers whose Spike Activation Maps are computed. */
  readonly sam?: readonly string[];
  readonly gamma?: number;
  readonly ncs?: NcsMode;
  /** The flag that named the SAM layers, for messages (`--sam` in run, `--layer` in explain). */
  readonly samFlag?: string;
  /** 1 (default) or 2: split every convolution over two threads (same results). */
  readonly threads?: number;
  /** Samples per chunk; default as many as fit LIMITS.chunkBytes of memory. Results do not depend on it. */
  readonly chunk?: number;
  /**
   * Receives every step's recorded frames, chunk after chunk; nothing is kept. Without it the frames are kept by
   * the result's recorders and SAM observers, and the whole input must be one chunk.
   */
  readonly sink?: FrameSink;
  /** Called after every step of every chunk, awaited: a viewer draws the step, a command moves its progress bar. */
  readonly onStep?: (step: RunStep) => void | Promise<void>;
  /** Stops the run at the next step when aborted; the result then says `cancelled`. */
  readonly signal?: { readonly aborted: boolean };
  /** Starts the helper thread of `threads: 2` outside Node (see NetworkOptions.spawnThread). */
  readonly spawnThread?: (init: HelperInit) => Promise<HelperThread>;
}

/** One step of a run, as `onStep` sees it. */
export interface RunStep {
  /** The chunk's network, after step t (samples b0 .. b0 + net.batch - 1). */
  readonly net: Network;
  readonly t: number;
  readonly b0: number;
  /** The chunk's recorders and SAM observers (their frames so far, when there is no sink). */
  readonly recorders: readonly Recorder[];
  readonly sams: readonly SamObserver[];
  /** Milliseconds of this step's simulation, recording and maps. */
  readonly stepMs: number;
}

export interface SimulateResult {
  readonly timesteps: number;
  readonly batch: number;
  /** Samples per chunk the run took. */
  readonly chunk: number;
  readonly classes: number;
  /** `[B, K]`. */
  readonly scores: Float32Array;
  readonly predictions: number[];
  /** Spikes per neuron per step of each spiking layer, over all samples. */
  readonly firingRates: Record<string, number>;
  readonly sopsPerImage: number;
  /** The simulation alone: not loading, not writing. */
  readonly seconds: number;
  /** Without a sink: what was recorded (one chunk). */
  readonly recorders: readonly Recorder[];
  readonly sams: readonly SamObserver[];
  /** The last chunk's network (closed: its state stays readable, it steps no more). */
  readonly net: Network;
  /** The run stopped early on `signal`: the counts and scores cover the steps taken. */
  readonly cancelled: boolean;
}

/** Every layer `--record all` names (docs/outputs.md): lif, if and li layers, plus `input` when the input is spikes. */
export function recordAll(model: Model, source: Pick<RunInput, 'kind'>): string[] {
  const names = model.layers.filter((l) => isSpiking(l) || l.op === 'li').map((l) => l.name);
  const spikes = source.kind === 'train' || model.input.encoding.kind !== 'direct';
  return spikes ? ['input', ...names] : names;
}

function checkNames(model: Model, names: readonly string[], flag: string): void {
  for (const name of names) {
    if (name === 'input' && flag === '--record') continue;
    if (!model.layers.some((l) => l.name === name)) {
      const all = model.layers.map((l) => l.name).join(', ');
      throw new UsageError(`${flag}: the model has no layer "${name.slice(0, 40)}" (layers: ${all.length <= 120 ? all : `${all.slice(0, 117)}...`})`);
    }
  }
}

/** Resolves the run length: a spike train's own, or --timesteps, or the model's. */
export function resolveTimesteps(model: Model, source: Pick<RunInput, 'kind' | 'timesteps' | 'file'>, timesteps?: number): number {
  if (source.kind === 'train') {
    if (timesteps !== undefined) throw new UsageError(`--timesteps cannot be given with a spike-train input (${source.file} has ${source.timesteps} steps)`);
    return source.timesteps!;
  }
  const T = timesteps ?? model.timesteps;
  if (T === null || T === undefined) throw new UsageError(`${model.file || 'the model'} sets no timesteps: give them (--timesteps)`);
  if (!Number.isSafeInteger(T) || T < 1 || T > LIMITS.timesteps) throw new UsageError(`timesteps must be 1 to ${LIMITS.timesteps}, not ${T}`);
  return T;
}

/** Checks names and per-step tensors against the model, before anything runs. */
export function checkRequest(o: Pick<SimulateOptions, 'model' | 'record' | 'sam' | 'samFlag'>, T: number): void {
  const { model } = o;
  const record = o.record ?? [];
  const sam = o.sam ?? [];
  checkNames(model, record, '--record');
  const samFlag = o.samFlag ?? '--sam';
  checkNames(model, sam, samFlag);
  for (const name of sam) {
    const l = model.layers.find((x) => x.name === name)!;
    if (!isSpiking(l)) throw new UsageError(`${samFlag}: layer "${name}" (${l.op}) is not a spiking layer: SAM needs lif, if or cubalif`);
    if (l.outShape.length !== 3) throw new UsageError(`${samFlag}: layer "${name}" is flat ([${l.outShape.join(',')}]): it has no map`);
  }
  for (const name of record) {
    if (name === 'input') continue;
    const l = model.layers.find((x) => x.name === name)!;
    if (!isSpiking(l) && l.op !== 'li') throw new UsageError(`--record: layer "${name}" (${l.op}) is not a neuron layer: only lif, if, cubalif and li are recorded`);
  }
  const work = T * model.layers.reduce((a, l) => a + denseMacs(l) + sizeOf(l.outShape), 0);
  if (work > LIMITS.runWork)
    throw new UsageError(
      `${T} steps of ${model.file || 'the model'} take ${work.toExponential(2)} operations a sample, more than the ${LIMITS.runWork} a run may: fewer steps or a smaller input`,
    );
  for (const l of model.layers)
    if (l.op === 'affine' && l.scale.shape.length === 2 && l.scale.shape[0] < T)
      throw new InputError(model.file, `layer "${l.name}": per-step affine has ${l.scale.shape[0]} rows, the run has ${T} steps`);
}

/**
 * Arena bytes of the network: what it takes whatever the batch, and what each sample adds, measured by laying it
 * out at batch 1 and 2 (plus each SAM layer's trace and map).
 */
async function arenaBytes(model: Model, sam: readonly string[]): Promise<{ fixed: number; perSample: number }> {
  const size = async (batch: number): Promise<number> => {
    const net = await Network.create(model, { batch });
    return net.arena.size;
  };
  const one = await size(1);
  const two = await size(2);
  let samBytes = 0;
  for (const name of sam) {
    const [C, H, W] = model.layers.find((l) => l.name === name)!.outShape;
    samBytes += 4 * (C * H * W + H * W);
  }
  const perSample = Math.max(0, two - one) + samBytes;
  return { fixed: Math.max(0, one - perSample), perSample };
}

/** Samples per chunk: as many as fit LIMITS.chunkBytes (at least one), or `asked`. */
async function chunkSize(o: SimulateOptions): Promise<number> {
  const B = o.source.batch;
  if (o.chunk !== undefined) return Math.min(o.chunk, B);
  if (B === 1) return 1;
  const { fixed, perSample } = await arenaBytes(o.model, o.sam ?? []);
  const sample = perSample + o.source.sampleBytes;
  return Math.max(1, Math.min(B, Math.floor((LIMITS.chunkBytes - fixed) / sample)));
}

/** The sink with the milliseconds each call takes handed to `took`. */
function timed(sink: FrameSink | undefined, took: (ms: number) => void): FrameSink | undefined {
  if (!sink) return undefined;
  const wrap = <A extends unknown[]>(f: ((...a: A) => void) | undefined) =>
    f &&
    ((...a: A): void => {
      const start = performance.now();
      f.apply(sink, a);
      took(performance.now() - start);
    });
  return { spikes: wrap(sink.spikes), membrane: wrap(sink.membrane), sam: wrap(sink.sam) };
}

/**
 * The one simulation path of `run`, `explain` and the conformance suite: the input in chunks of samples, each run
 * for T steps by a network of that batch, every sample keyed by its index in the whole input (so its spikes are those
 * it gets alone, whatever the chunk). Scores, rates and operation counts are gathered over the chunks.
 */
export async function simulate(o: SimulateOptions): Promise<SimulateResult> {
  const { model, source } = o;
  /** An output that left float32's range says so, naming the model (its weights or parameters are too large). */
  // values are [(steps,) count, perSample]: the chunk's samples from b0
  const finite = (values: Float32Array, what: string, b0: number, count: number, perSample: number): void => {
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad < 0) return;
    const sample = b0 + (Math.floor(bad / perSample) % count);
    throw new InputError(model.file, `sample ${sample}: ${what} is ${values[bad]}: weights or parameters too large for float32`);
  };
  const neurons = (layer: string): number => sizeOf(model.layers.find((l) => l.name === layer)!.outShape);
  const T = resolveTimesteps(model, source, o.timesteps);
  checkRequest(o, T);
  const B = source.batch;
  const chunk = await chunkSize(o);
  // Scores are gathered over chunks; recorded layers and SAM maps are kept whole only through a sink.
  if (!o.sink && chunk < B && ((o.record?.length ?? 0) > 0 || (o.sam?.length ?? 0) > 0))
    throw new InputError(source.file, `${B} samples do not fit in memory at once (${formatBytes(LIMITS.chunkBytes)}): stream them to files`);

  const K = sizeOf(model.layers[model.layers.length - 1].outShape);
  const scores = new Float32Array(B * K);
  const spikes = new Map<string, number>();
  let sops = 0;
  let seconds = 0;
  let sinkSeconds = 0;
  let recorders: Recorder[] = [];
  let sams: SamObserver[] = [];
  let cancelled = false;
  /** Samples times steps simulated so far (all of them unless cancelled). */
  let sampleSteps = 0;
  const seed = o.seed ?? 0;

  let net: Network | null = null;
  try {
    for (let b0 = 0; b0 < B && !cancelled; b0 += chunk) {
      const count = Math.min(chunk, B - b0);
      if (!net || net.batch !== count) {
        net?.close();
        net = null;
        net = await Network.create(model, { batch: count, seed, countSops: true, threads: o.threads ?? 1, spawnThread: o.spawnThread });
      }
      const input = source.read(b0, count);
      net.setInput(input, o.keys ? Array.from({ length: count }, (_, b) => o.keys![b0 + b]) : (o.keyOffset ?? 0) + b0);
      for (const r of recorders) net.unobserve(r);
      for (const s of sams) net.unobserve(s);
      const sink = timed(o.sink, (dt) => (sinkSeconds += dt));
      recorders = (o.record ?? []).map(
        (name) =>
          new Recorder(net!, name, {
            spikes: true,
            membrane: true,
            timesteps: T,
            sink: sink
              ? (t, s, v) => {
                  if (s) sink.spikes?.(name, t, b0, s);
                  if (v) {
                    finite(v, `layer "${name}" membrane at step ${t}`, b0, count, neurons(name));
                    sink.membrane?.(name, t, b0, v);
                  }
                }
              : undefined,
          }),
      );
      sams = (o.sam ?? []).map(
        (name) =>
          new SamObserver(net!, name, {
            gamma: o.gamma ?? 0.5,
            ncs: o.ncs ?? 'inclusive',
            timesteps: T,
            sink: sink ? (t, map) => sink.sam?.(name, t, b0, map) : undefined,
          }),
      );
      for (const r of recorders) net.observe(r);
      for (const s of sams) net.observe(s);

      for (let t = 0; t < T; t++) {
        if (o.signal?.aborted) {
          cancelled = true;
          break;
        }
        const start = performance.now();
        net.step();
        const stepMs = performance.now() - start;
        seconds += stepMs / 1000;
        await o.onStep?.({ net, t, b0, recorders, sams, stepMs });
      }

      for (const r of recorders) if (r.membrane) finite(r.membrane.data(), `layer "${r.layer}" membrane`, b0, count, neurons(r.layer));
      const part = net.scores();
      finite(part, 'its score', b0, count, K);
      scores.set(part, b0 * K);
      sampleSteps += count * net.t;
      for (const [name, n] of net.spikeCounts) spikes.set(name, (spikes.get(name) ?? 0) + n);
      sops += net.sops;
    }
  } finally {
    net?.close(); // the helper thread, if any: the results stay readable
  }

  const firingRates: Record<string, number> = {};
  for (const l of model.layers)
    if (isSpiking(l)) firingRates[l.name] = sampleSteps === 0 ? 0 : (spikes.get(l.name) ?? 0) / (sizeOf(l.outShape) * sampleSteps);
  const predictions = argmaxRows(scores, K);
  // `seconds` is the simulation alone: the sink's writing (inside the steps' observers) is taken out.
  seconds = Math.max(0, seconds - sinkSeconds / 1000);
  return { timesteps: T, batch: B, chunk, classes: K, scores, predictions, firingRates, sopsPerImage: sops / B, seconds, recorders, sams, net: net!, cancelled };
}
