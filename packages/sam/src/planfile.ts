import { createCore, type Core } from '@spikelens/core-wasm';
import { Arena } from './arena.js';
import { InputError, UsageError } from './errors.js';
import { isSpiking, sizeOf, type Model } from './model.js';
import { DEFAULT_EVENT_THRESHOLD, OP, compilePlan, planBytes } from './plan.js';
import { f32Word } from './ops/records.js';
import { NCS_MODE, type NcsMode } from './network.js';
import { checkRequest } from './run.js';

/**
 * Plan files (`.slplan`, docs/plan-file.md): a model compiled for one batch and run length, with what it records, as
 * one binary the core loads and runs alone (core-wasm `sl_load`, `sl_set_input`, `sl_run`). The file is the arena
 * the plan needs: a header (its first bytes), then segments of the arena's nonzero bytes; every pointer word holds
 * an address for the header's `base`, and the core relocates them when it loads the plan elsewhere.
 */

export const PLAN_MAGIC = 0x4c504c53; // "SLPL"
export const PLAN_VERSION = 1;
const HEADER_WORDS = 32;
const OUT_WORDS = 16;

/** Header words (docs/plan-file.md). */
export const H = {
  magic: 0, version: 1, fileBytes: 2, arenaBytes: 3, base: 4, headerBytes: 5, segments: 6, batch: 7, timesteps: 8,
  encoder: 9, rank: 10, dims: 11, inputSize: 14, channels: 15, scale: 16, mean: 17, std: 18, program: 19,
  layersProgram: 20, input: 21, pre: 22, rng: 23, readout: 24, readoutSource: 25, classes: 26, scores: 27, outputs: 28,
  gamma: 29, ncs: 30, seed: 31,
} as const;

export const ENCODERS = ['direct', 'poisson', 'signed-poisson'] as const;
export const READOUTS = ['count', 'mean', 'final'] as const;
/** Output kinds: a spiking layer's spikes, a SAM map, the input spikes (their dtype follows the input). */
export const OUTPUT_KINDS = ['', 'spikes', 'sam', 'input'] as const;

/** Errors of the core's plan loader and whole-network calls (core-wasm assembly/slplan.ts). */
export const PLAN_FILE_ERRORS: Record<number, string> = {
  1: 'a record has an unknown op',
  2: 'a per-step affine has no row for this step',
  3: 'a SAM record has no decay for this step',
  10: 'truncated: the file is shorter or longer than its header says',
  11: 'not a plan file (bad magic)',
  12: 'a plan file of another version',
  13: 'a header field is out of range',
  14: 'an offset or size is outside the file or the arena, or crosses the header or the program',
  15: 'a record has a bad op, length or dimension',
  16: 'the program does not end inside the arena',
  17: 'the memory is too small for the arena, or the arena overlaps the file',
  18: 'the input does not match the plan (kind or size)',
  19: 'no plan loaded, no input set, or steps past the plan\'s',
};

export interface PlanFileOptions {
  readonly batch?: number;
  /** Steps (default: the model's); a spike train given to the plan may be shorter. */
  readonly timesteps?: number;
  /** Layers whose spikes are recorded (`input`: the encoder's spikes; `all`: every spiking layer, and input). */
  readonly record?: readonly string[];
  readonly sam?: readonly string[];
  readonly gamma?: number;
  readonly ncs?: NcsMode;
  /** The default encoder seed of a runner (stored in the header; the runner may give another). */
  readonly seed?: number;
}

export interface PlanOutput {
  readonly kind: 'spikes' | 'sam' | 'input';
  readonly name: string;
  /** Per sample and step: a layer's shape, or [H, W] of a map. */
  readonly shape: readonly number[];
  /** Address of its window (for the file's base, or relocated once loaded). */
  readonly ptr: number;
  /** The file `spikelens run` (and the WASI command) writes it to: `<name>.sam.npy` or `<name>.spikes.npy`. */
  readonly file: string;
}

/** What a plan file's header says. */
export interface PlanHeader {
  readonly version: number;
  readonly fileBytes: number;
  readonly arenaBytes: number;
  readonly base: number;
  readonly headerBytes: number;
  readonly segments: number;
  readonly batch: number;
  readonly timesteps: number;
  readonly encoder: (typeof ENCODERS)[number];
  readonly inputShape: readonly number[];
  readonly readout: (typeof READOUTS)[number];
  readonly classes: number;
  readonly gamma: number;
  readonly ncs: NcsMode;
  readonly seed: number;
  readonly outputs: readonly PlanOutput[];
}

const f32 = (bits: number): number => new Float32Array(new Int32Array([bits]).buffer)[0];

/** The names `--record all` gives a plan: the input when the model encodes it into spikes, and every spiking layer. */
function recordNames(model: Model, record: readonly string[]): string[] {
  if (record.length === 1 && record[0] === 'all') {
    const names = model.layers.filter(isSpiking).map((l) => l.name);
    return model.input.encoding.kind === 'direct' ? names : ['input', ...names];
  }
  return [...record];
}

/** Compiles `model` into the bytes of a plan file. */
export async function compilePlanFile(model: Model, options: PlanFileOptions = {}, core?: Core): Promise<Uint8Array> {
  const B = options.batch ?? 1;
  if (!Number.isSafeInteger(B) || B < 1) throw new UsageError(`batch must be a positive integer, not ${B}`);
  const T = options.timesteps ?? model.timesteps;
  if (T === null || T === undefined) throw new UsageError(`${model.file || 'the model'} sets no timesteps: give them (--timesteps)`);
  const record = recordNames(model, options.record ?? []);
  const sam = [...(options.sam ?? [])];
  const gamma = options.gamma ?? 0.5;
  const ncs = options.ncs ?? 'inclusive';
  if (!Number.isFinite(gamma) || gamma < 0) throw new UsageError(`gamma must be a finite number >= 0, not ${gamma}`);
  checkRequest({ model, record, sam }, T);
  for (const name of record) {
    if (name === 'input' && model.input.encoding.kind === 'direct')
      throw new UsageError('--record input: the model takes its input directly (no spikes); give the plan a spike train to see it');
    const l = model.layers.find((x) => x.name === name);
    if (l && !isSpiking(l)) throw new UsageError(`--record: layer "${name}" (${l.op}) has no spikes: a plan records spikes (and maps), not membranes`);
  }
  const layerOf = (name: string) => model.layers.find((l) => l.name === name)!;
  const outs: { kind: 1 | 2 | 3; name: string; shape: readonly number[] }[] = [
    ...record.map((name) => (name === 'input'
      ? { kind: 3 as const, name, shape: model.input.shape }
      : { kind: 1 as const, name, shape: layerOf(name).outShape })),
    ...sam.map((name) => ({ kind: 2 as const, name, shape: layerOf(name).outShape.slice(1) })),
  ];
  const names = outs.map((o) => new TextEncoder().encode(o.name));
  const namesAt = HEADER_WORDS * 4 + outs.length * OUT_WORDS * 4;
  const headerBytes = Math.ceil((namesAt + names.reduce((a, n) => a + n.length, 0)) / 16) * 16;

  core ??= await createCore();
  const arena = new Arena(core);
  arena.reserveAhead(headerBytes + planBytes(model, B, T) + T * 4 * (sam.length + 1));
  const base = arena.alloc(headerBytes, 64);
  const plan = compilePlan(model, core, arena, { batch: B, frames: T, eventThreshold: DEFAULT_EVENT_THRESHOLD, countSops: false, threads: 1 });
  // the state a run starts from (Network.reset): membranes at their reset values, traces, sums and windows clear
  for (const slot of plan.slots) slot.reset();
  const last = plan.slots[plan.slots.length - 1];
  const K = sizeOf(last.layer.outShape);
  if (plan.acc) arena.f32(plan.acc, B * K).fill(0);

  // SAM records after the network's, one per map: the trace, a window of maps and the decay of each step
  const words = Array.from(arena.i32(plan.program, plan.programWords));
  words.length -= 2; // [0, 2]
  const samPtr = new Map<string, number>();
  for (const name of sam) {
    const slot = plan.slots.find((s) => s.layer.name === name)!;
    const [C, Hh, W] = slot.layer.outShape;
    const trace = arena.allocF32(B * C * Hh * W);
    arena.f32(trace, B * C * Hh * W).fill(0);
    const map = arena.allocF32(T * B * Hh * W);
    const silent = arena.putF32(Array.from({ length: T }, (_, t) => Math.fround(Math.exp(-gamma * t))));
    words.push(OP.sam, 12, slot.out, trace, map, B, C, Hh * W, f32Word(Math.fround(Math.exp(-gamma))), NCS_MODE[ncs], silent, T);
    samPtr.set(name, map);
  }
  words.push(OP.end, 2);
  const program = arena.alloc(words.length * 4);
  arena.i32(program, words.length).set(words);

  // what the core needs beside the program: preprocessing, the input, the readout and the scores
  const shape = model.input.shape;
  const N = sizeOf(shape);
  const C = shape.length === 3 ? shape[0] : N;
  const pp = model.input.preprocess;
  const mean = arena.putF32(Array.from({ length: C }, (_, c) => Math.fround(pp.mean.length === 1 ? pp.mean[0] : pp.mean[c])));
  const std = arena.putF32(Array.from({ length: C }, (_, c) => Math.fround(pp.std.length === 1 ? pp.std[0] : pp.std[c])));
  const scores = arena.allocF32(B * K);
  arena.f32(scores, B * K).fill(0);
  const end = Math.ceil((core.heapBase + arena.size) / 16) * 16;
  const A = end - base;

  const h = new Int32Array(headerBytes / 4);
  h[H.magic] = PLAN_MAGIC;
  h[H.version] = PLAN_VERSION;
  h[H.arenaBytes] = A;
  h[H.base] = base;
  h[H.headerBytes] = headerBytes;
  h[H.batch] = B;
  h[H.timesteps] = T;
  h[H.encoder] = ENCODERS.indexOf(model.input.encoding.kind);
  h[H.rank] = shape.length;
  for (let i = 0; i < 3; i++) h[H.dims + i] = shape[i] ?? 1;
  h[H.inputSize] = N;
  h[H.channels] = C;
  h[H.scale] = f32Word(pp.scale);
  h[H.mean] = mean;
  h[H.std] = std;
  h[H.program] = program;
  h[H.layersProgram] = program + (plan.layersProgram - plan.program);
  h[H.input] = plan.input;
  h[H.pre] = plan.pre;
  h[H.rng] = plan.rng;
  h[H.readout] = READOUTS.indexOf(model.readout);
  h[H.readoutSource] = model.readout === 'final' ? last.out : plan.acc;
  h[H.classes] = K;
  h[H.scores] = scores;
  h[H.outputs] = outs.length;
  h[H.gamma] = f32Word(gamma);
  h[H.ncs] = NCS_MODE[ncs];
  h[H.seed] = (options.seed ?? 0) | 0;
  let nameAt = namesAt;
  const bytes = new Uint8Array(h.buffer);
  outs.forEach((o, i) => {
    const w = HEADER_WORDS + i * OUT_WORDS;
    h[w] = o.kind;
    h[w + 1] = o.kind === 2 ? samPtr.get(o.name)! : o.kind === 3 ? plan.input : plan.slots.find((s) => s.layer.name === o.name)!.out;
    h[w + 2] = B * sizeOf(o.shape);
    h[w + 3] = o.shape.length;
    for (let k = 0; k < 3; k++) h[w + 4 + k] = o.shape[k] ?? 1;
    h[w + 7] = nameAt;
    h[w + 8] = names[i].length;
    bytes.set(names[i], nameAt);
    nameAt += names[i].length;
  });
  new Uint8Array(core.memory.buffer, base, headerBytes).set(bytes);

  // the segments: runs of the arena past the header with no 64 zero bytes in a row
  const image = new Uint8Array(core.memory.buffer, base, A);
  const segs: [number, number][] = [];
  let i = headerBytes;
  while (i < A) {
    while (i < A && image[i] === 0) i++;
    if (i >= A) break;
    const start = i;
    let zeros = 0;
    let j = i;
    for (; j < A && zeros < 64; j++) zeros = image[j] === 0 ? zeros + 1 : 0;
    const stop = j - zeros;
    segs.push([start, stop]);
    i = j;
  }
  const fileBytes = headerBytes + segs.reduce((a, [s, e]) => a + 8 + Math.ceil((e - s) / 4) * 4, 0);
  const out = new Uint8Array(fileBytes);
  const view = new DataView(out.buffer);
  out.set(image.subarray(0, headerBytes));
  view.setInt32(H.fileBytes * 4, fileBytes, true);
  view.setInt32(H.segments * 4, segs.length, true);
  let o = headerBytes;
  for (const [s, e] of segs) {
    view.setUint32(o, s, true);
    view.setUint32(o + 4, e - s, true);
    out.set(image.subarray(s, e), o + 8);
    o += 8 + Math.ceil((e - s) / 4) * 4;
  }
  return out;
}

/** Reads a plan file's header (checked by the core's loader, not here: see loadPlanFile). */
export function readPlanHeader(bytes: Uint8Array, file = ''): PlanHeader {
  if (bytes.length < HEADER_WORDS * 4) throw new InputError(file, `a plan file has at least ${HEADER_WORDS * 4} bytes, this one ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = (i: number): number => v.getInt32(i * 4, true);
  if (w(H.magic) !== PLAN_MAGIC) throw new InputError(file, 'not a plan file (it does not start with SLPL)');
  if (w(H.version) !== PLAN_VERSION) throw new InputError(file, `a plan file of version ${w(H.version)}; this spikelens reads version ${PLAN_VERSION}`);
  const headerBytes = w(H.headerBytes);
  const outputs: PlanOutput[] = [];
  const M = w(H.outputs);
  for (let i = 0; i < M && (HEADER_WORDS + (i + 1) * OUT_WORDS) * 4 <= Math.min(bytes.length, headerBytes); i++) {
    const o = HEADER_WORDS + i * OUT_WORDS;
    const rank = Math.min(3, Math.max(1, w(o + 3)));
    const at = w(o + 7), len = w(o + 8);
    const name = at >= 0 && len >= 0 && at + len <= bytes.length ? new TextDecoder().decode(bytes.subarray(at, at + len)) : '?';
    const kind = (OUTPUT_KINDS[w(o)] || 'spikes') as PlanOutput['kind'];
    outputs.push({
      kind, name, ptr: w(o + 1) >>> 0, shape: Array.from({ length: rank }, (_, k) => w(o + 4 + k)),
      file: `${name}.${kind === 'sam' ? 'sam' : 'spikes'}.npy`,
    });
  }
  const rank = Math.min(3, Math.max(1, w(H.rank)));
  return {
    version: w(H.version), fileBytes: w(H.fileBytes), arenaBytes: w(H.arenaBytes), base: w(H.base) >>> 0, headerBytes,
    segments: w(H.segments), batch: w(H.batch), timesteps: w(H.timesteps), encoder: ENCODERS[w(H.encoder)] ?? 'direct',
    inputShape: Array.from({ length: rank }, (_, k) => w(H.dims + k)), readout: READOUTS[w(H.readout)] ?? 'count',
    classes: w(H.classes), gamma: f32(w(H.gamma)), ncs: (Object.keys(NCS_MODE) as NcsMode[])[w(H.ncs)] ?? 'inclusive',
    seed: w(H.seed) >>> 0, outputs,
  };
}

/** Input of a loaded plan: pixel values `[B, ...]`, or a spike train `[T', B, ...]` (T' at most the plan's). */
export type PlanInput = Float32Array | { readonly train: Uint8Array | Int8Array | Float32Array };

/** The outputs of a plan's run, as `spikelens run` writes them. */
export interface PlanRunResult {
  readonly steps: number;
  /** `[B, K]`. */
  readonly scores: Float32Array;
  /** Every output `[T, B, ...shape]`: spikes as uint8 (int8 for signed input spikes, float32 for a float train), maps float32. */
  readonly outputs: { readonly output: PlanOutput; readonly data: Uint8Array | Int8Array | Float32Array }[];
}

/**
 * A plan file loaded into a core instance by the core's own loader (the file at the heap base, the arena after it):
 * what a host without JavaScript does, from JavaScript. Throws an InputError naming `file` on a malformed plan.
 */
export class LoadedPlan {
  readonly header: PlanHeader;
  private constructor(readonly core: Core, readonly file: string, header: PlanHeader, private readonly bytes: Uint8Array, private readonly arena: number) {
    this.header = header;
  }

  static async load(bytes: Uint8Array, file = '', core?: Core): Promise<LoadedPlan> {
    const c = core ?? (await createCore());
    const need = await planArenaBytes(bytes, file, c);
    const fileAt = c.heapBase;
    const arena = Math.ceil((fileAt + bytes.length) / 64) * 64;
    c.reserve(arena + need - c.heapBase + 64);
    const plan = new LoadedPlan(c, file, readPlanHeader(bytes, file), bytes, arena);
    plan.reload();
    return plan;
  }

  /** Lays the plan out again (a plan runs once per load). */
  reload(): void {
    const ex = this.core.exports;
    new Uint8Array(this.core.memory.buffer, this.core.heapBase, this.bytes.length).set(this.bytes);
    const err = ex.sl_load(this.core.heapBase, this.bytes.length, this.arena);
    if (err !== 0) throw new InputError(this.file, `${PLAN_FILE_ERRORS[err] ?? `error ${err}`} (byte ${ex.sl_error_at()})`);
  }

  /** Sets the input, runs every step (the train's, or the plan's) and reads the outputs. */
  run(input: PlanInput, seed = this.header.seed): PlanRunResult {
    const ex = this.core.exports;
    const { batch: B, classes: K } = this.header;
    const N = sizeOf(this.header.inputShape);
    const train = input instanceof Float32Array ? null : input.train;
    const data = train ?? (input as Float32Array);
    // the input goes into the input window (which it may occupy), converted by the core
    const win = ex.sl_input();
    const mem = new Uint8Array(this.core.memory.buffer);
    mem.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), win);
    const kind = train === null ? 0 : train instanceof Uint8Array ? 1 : train instanceof Int8Array ? 2 : 3;
    let err = ex.sl_set_input(kind, win, data.length, seed >>> 0);
    if (err !== 0) throw new InputError(this.file, `${PLAN_FILE_ERRORS[err]}: ${data.length} values for a plan of batch ${B} and input [${this.header.inputShape.join(',')}] over ${this.header.timesteps} steps`);
    const steps = train ? data.length / (B * N) : this.header.timesteps;
    err = ex.sl_run(steps);
    if (err !== 0) throw new InputError(this.file, `the plan's run failed: ${PLAN_FILE_ERRORS[err] ?? `error ${err}`}`);
    const buf = this.core.memory.buffer;
    const scores = new Float32Array(buf, ex.sl_scores(), B * K).slice();
    const signed = train ? train instanceof Int8Array : this.header.encoder === 'signed-poisson';
    const floats = train instanceof Float32Array;
    const outputs = this.header.outputs.map((output, i) => {
      const n = steps * B * sizeOf(output.shape);
      const f = new Float32Array(buf, ex.sl_output(i), n);
      const d = output.kind === 'sam' || (output.kind === 'input' && floats) ? f.slice() : signed && output.kind === 'input' ? Int8Array.from(f) : Uint8Array.from(f);
      return { output, data: d };
    });
    return { steps, scores, outputs };
  }
}

/** The arena bytes a plan file needs, from its header (the core's sl_plan_bytes); an InputError if it has none. */
export async function planArenaBytes(bytes: Uint8Array, file = '', core?: Core): Promise<number> {
  const c = core ?? (await createCore());
  c.reserve(bytes.length + 64);
  new Uint8Array(c.memory.buffer, c.heapBase, bytes.length).set(bytes);
  const need = c.exports.sl_plan_bytes(c.heapBase, bytes.length);
  if (need < 0) throw new InputError(file, PLAN_FILE_ERRORS[-need] ?? `error ${-need}`);
  return need;
}

/** FNV-1a 64 of arrays' bytes as float32 (spikes widened), in order: the harness's hash (docs/plan-file.md). */
export function hashOutputs(arrays: readonly ArrayLike<number>[]): bigint {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  for (const a of arrays) {
    const f = a instanceof Float32Array ? a : Float32Array.from(a);
    const b = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    for (let i = 0; i < b.length; i++) h = ((h ^ BigInt(b[i])) * prime) & mask;
  }
  return h;
}
