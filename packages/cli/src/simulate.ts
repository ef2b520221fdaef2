import {
  InputError,
  Network,
  Recorder,
  SamObserver,
  UsageError,
  isSpiking,
  type Model,
  type NcsMode,
  type NetworkInput,
} from '@spikelens/sam';
import { Progress } from './progress.js';

export interface SimulateOptions {
  readonly model: Model;
  readonly input: NetworkInput;
  readonly batch: number;
  /** The input file, for messages. */
  readonly inputFile: string;
  readonly seed: number;
  readonly timesteps?: number;
  readonly record: readonly string[];
  readonly sam: readonly string[];
  readonly gamma: number;
  readonly ncs: NcsMode;
  /** The flag that named the SAM layers, for messages (`--sam` in run, `--layer` in explain). */
  readonly samFlag?: string;
  readonly keyOffset?: number;
  /** 1 (default) or 2: split every convolution over two threads (same results). */
  readonly threads?: number;
  readonly progress?: { stream: NodeJS.WriteStream; enabled: boolean; label: string };
}

export interface SimulateResult {
  readonly net: Network;
  readonly timesteps: number;
  readonly recorders: readonly Recorder[];
  readonly sams: readonly SamObserver[];
  readonly scores: Float32Array;
  readonly predictions: number[];
  readonly seconds: number;
}

/** Every layer `--record all` names (SPEC §8): lif, if and li layers, plus `input` when the input is spikes. */
export function recordAll(model: Model, input: NetworkInput): string[] {
  const names = model.layers.filter((l) => isSpiking(l) || l.op === 'li').map((l) => l.name);
  const spikes = input.kind === 'train' || model.input.encoding.kind !== 'direct';
  return spikes ? ['input', ...names] : names;
}

function checkNames(model: Model, names: readonly string[], flag: string): void {
  for (const name of names) {
    if (name === 'input' && flag === '--record') continue;
    if (!model.layers.some((l) => l.name === name))
      throw new UsageError(`${flag}: the model has no layer "${name}" (layers: ${model.layers.map((l) => l.name).join(', ')})`);
  }
}

/** Resolves the run length: a spike train's own, or --timesteps, or the model's. */
export function resolveTimesteps(model: Model, input: NetworkInput, inputFile: string, timesteps?: number): number {
  if (input.kind === 'train') {
    if (timesteps !== undefined) throw new UsageError(`--timesteps cannot be given with a spike-train input (${inputFile} has ${input.timesteps} steps)`);
    return input.timesteps;
  }
  const T = timesteps ?? model.timesteps;
  if (T === null || T === undefined) throw new UsageError(`${model.file}: the model sets no timesteps: give --timesteps`);
  return T;
}

/** Estimated arena bytes, to refuse a batch that cannot fit before anything is allocated. */
function arenaEstimate(model: Model, batch: number): number {
  let floats = 0;
  for (const l of model.layers) {
    let out = 1;
    for (const d of l.outShape) out *= d;
    let inp = 1;
    for (const d of l.inShape) inp *= d;
    floats += batch * out * 2;
    if (l.op === 'conv2d' || l.op === 'linear') floats += batch * inp + l.weight.data.length * 2;
  }
  return floats * 4;
}

/** The one simulation path of `run`, `explain` and the conformance suite. */
export async function simulate(o: SimulateOptions): Promise<SimulateResult> {
  const { model, input } = o;
  const T = resolveTimesteps(model, input, o.inputFile, o.timesteps);
  checkNames(model, o.record, '--record');
  const samFlag = o.samFlag ?? '--sam';
  checkNames(model, o.sam, samFlag);
  for (const name of o.sam) {
    const l = model.layers.find((x) => x.name === name)!;
    if (!isSpiking(l)) throw new UsageError(`${samFlag}: layer "${name}" (${l.op}) is not a spiking layer: SAM needs lif, if or cubalif`);
    if (l.outShape.length !== 3) throw new UsageError(`${samFlag}: layer "${name}" is flat ([${l.outShape.join(',')}]): it has no map`);
  }
  const est = arenaEstimate(model, o.batch);
  if (est > 3.5 * 2 ** 30)
    throw new InputError(o.inputFile, `a batch of ${o.batch} needs about ${(est / 2 ** 30).toFixed(1)} GiB, more than WebAssembly's 4 GiB: split the input`);
  for (const l of model.layers)
    if (l.op === 'affine' && l.scale.shape.length === 2 && l.scale.shape[0] < T)
      throw new InputError(model.file, `layer "${l.name}": per-step affine has ${l.scale.shape[0]} rows, the run has ${T} steps`);

  const net = await Network.create(model, { batch: o.batch, seed: o.seed, keyOffset: o.keyOffset ?? 0, countSops: true, threads: o.threads ?? 1 });
  net.setInput(input);
  const recorders = o.record.map((name) => new Recorder(net, name, { spikes: true, membrane: true, timesteps: T }));
  const sams = o.sam.map((name) => new SamObserver(net, name, { gamma: o.gamma, ncs: o.ncs, timesteps: T }));
  for (const r of recorders) net.observe(r);
  for (const s of sams) net.observe(s);

  const bar = o.progress ? new Progress(o.progress.stream, o.progress.label, T, o.progress.enabled) : null;
  const start = performance.now();
  for (let t = 0; t < T; t++) {
    net.step();
    bar?.update(t + 1);
  }
  const seconds = (performance.now() - start) / 1000;
  net.close(); // the helper thread, if any: the results stay readable
  bar?.done();
  const scores = net.scores();
  return { net, timesteps: T, recorders, sams, scores, predictions: net.predictions(scores), seconds };
}
