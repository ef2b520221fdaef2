import { createCore, type Core } from '@spikelens/core-wasm';
import { Arena, type Allocator } from './arena.js';
import { UsageError } from './errors.js';
import type { Network, StepObserver, NcsMode } from './network.js';
import { NCS_MODE } from './network.js';
import { isSpiking, sizeOf } from './model.js';

/** A growable time-major record `[T, ...frame]`; preallocated when the run length is known. */
class Track<A extends Uint8Array | Int8Array | Float32Array> {
  private buf: A;
  length = 0;
  constructor(
    private readonly make: (n: number) => A,
    readonly frameSize: number,
    capacity: number,
  ) {
    this.buf = make(frameSize * Math.max(1, capacity));
  }
  clear(): void {
    this.length = 0;
  }
  push(frame: ArrayLike<number>): void {
    const need = (this.length + 1) * this.frameSize;
    if (need > this.buf.length) {
      const grown = this.make(Math.max(need, this.buf.length * 2));
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf.set(frame, this.length * this.frameSize);
    this.length++;
  }
  /** The frames recorded so far, `[T, ...frame]` (a view). */
  data(): A {
    return this.buf.subarray(0, this.length * this.frameSize) as A;
  }
}

export interface RecordOptions {
  readonly spikes?: boolean;
  readonly membrane?: boolean;
  /** Expected number of steps, to allocate once. */
  readonly timesteps?: number;
  /**
   * Hand each step's frames to this function instead of keeping them (a run streamed to files keeps nothing of
   * its history): `spikes` and `membrane` are `[B, ...]` of that step, valid only during the call.
   */
  readonly sink?: (t: number, spikes: Uint8Array | Int8Array | Float32Array | null, membrane: Float32Array | null) => void;
}

/**
 * Records a layer's spikes (uint8, or int8 for signed input spikes) and/or membrane (float32) at every step.
 * The pseudo-layer `input` records the encoder's output spikes.
 */
export class Recorder implements StepObserver {
  readonly layer: string;
  /** uint8 0/1; int8 for signed input spikes; float32 for an `input` given as float frames. */
  readonly spikes: Track<Uint8Array | Int8Array | Float32Array> | null;
  readonly membrane: Track<Float32Array> | null;
  /** Per-step frame shape `[B, ...]`. */
  readonly frameShape: number[];
  readonly signed: boolean;
  private readonly sink: RecordOptions['sink'] | null;
  /** The sink's frames: one step of spikes in the recorded dtype. */
  private readonly frame: Uint8Array | Int8Array | Float32Array | null;
  private readonly wantSpikes: boolean;
  private readonly wantV: boolean;
  /** Membranes are read at each step (StepObserver.readsState). */
  readonly readsState: boolean;

  constructor(net: Network, layer: string, options: RecordOptions = {}) {
    this.layer = layer;
    const T = options.timesteps ?? net.timesteps ?? 1;
    const shape = layer === 'input' ? net.model.input.shape : net.layer(layer).outShape;
    this.frameShape = [net.batch, ...shape];
    const n = net.batch * sizeOf(shape);
    let wantSpikes = options.spikes ?? true;
    let wantV = options.membrane ?? false;
    if (layer === 'input') {
      if (!net.inputIsSpikes) throw new UsageError('the input is not spikes (direct encoding): nothing to record as "input"');
      wantV = false;
    } else {
      const l = net.layer(layer);
      if (l.op === 'li') wantSpikes = false;
      else if (!isSpiking(l)) throw new UsageError(`layer "${layer}" (${l.op}) is not a neuron layer: only lif, if, cubalif and li are recorded`);
    }
    this.signed = layer === 'input' && net.inputIsSigned;
    const floats = layer === 'input' && net.inputIsFloatTrain;
    const make = (k: number) => (floats ? new Float32Array(k) : this.signed ? new Int8Array(k) : new Uint8Array(k));
    this.sink = options.sink ?? null;
    this.wantSpikes = wantSpikes;
    this.wantV = wantV;
    this.readsState = wantV;
    const keep = this.sink === null;
    this.spikes = wantSpikes && keep ? new Track<Uint8Array | Int8Array | Float32Array>(make, n, T) : null;
    this.membrane = wantV && keep ? new Track((k) => new Float32Array(k), n, T) : null;
    this.frame = wantSpikes && !keep ? make(n) : null;
  }

  onReset(): void {
    this.spikes?.clear();
    this.membrane?.clear();
  }

  onStep(net: Network, t: number): void {
    if (this.sink) {
      if (this.frame) this.frame.set(net.output(this.layer));
      const v = this.wantV ? net.arena.f32(net.membranePtr(this.layer), net.batch * sizeOf(net.layer(this.layer).outShape)) : null;
      this.sink(t, this.wantSpikes ? this.frame : null, v);
      return;
    }
    if (this.spikes) this.spikes.push(net.output(this.layer));
    if (this.membrane) {
      const n = this.membrane.frameSize;
      this.membrane.push(net.arena.f32(net.membranePtr(this.layer), n));
    }
  }
}

export interface SamOptions {
  readonly gamma?: number;
  readonly ncs?: NcsMode;
  readonly timesteps?: number;
  /** Hand each step's map `[B, H, W]` to this function (valid during the call) instead of keeping the maps. */
  readonly sink?: (t: number, map: Float32Array) => void;
}

/**
 * Accumulates the Spike Activation Map of a conv-shaped spiking layer (docs/semantics.md §8) with one float32 trace per neuron,
 * updated in the core once a step; keeps the per-step heatmaps `[T, B, H, W]`.
 */
export class SamObserver implements StepObserver {
  readonly layer: string;
  readonly gamma: number;
  readonly ncs: NcsMode;
  /** The maps of every step so far, `[T, B, H, W]`; empty when they go to a sink. */
  readonly maps: Track<Float32Array>;
  /** `[B, H, W]` of one step. */
  readonly frameShape: number[];
  private readonly trace: number;
  private readonly map: number;
  private readonly C: number;
  private readonly HW: number;
  private readonly decay: number;
  private readonly sink: SamOptions['sink'] | null;

  constructor(net: Network, layer: string, options: SamOptions = {}) {
    const l = net.layer(layer);
    if (!isSpiking(l)) throw new UsageError(`layer "${layer}" (${l.op}) is not a spiking layer: SAM needs lif, if or cubalif`);
    if (l.outShape.length !== 3) throw new UsageError(`layer "${layer}" is flat ([${l.outShape.join(',')}]): it has no map`);
    const { gamma, ncs } = samParams(options);
    this.layer = layer;
    this.gamma = gamma;
    this.ncs = ncs;
    const [C, H, W] = l.outShape;
    this.C = C;
    this.HW = H * W;
    this.frameShape = [net.batch, H, W];
    this.decay = Math.fround(Math.exp(-gamma));
    ({ trace: this.trace, map: this.map } = layoutSam(net.arena, net.batch, l.outShape, layer));
    this.sink = options.sink ?? null;
    this.maps = new Track((k) => new Float32Array(k), net.batch * H * W, this.sink ? 0 : options.timesteps ?? net.timesteps ?? 1);
  }

  onReset(net: Network): void {
    net.arena.f32(this.trace, net.batch * this.C * this.HW).fill(0);
    this.maps.clear();
  }

  onStep(net: Network, t: number): void {
    const silent = Math.fround(Math.exp(-this.gamma * t));
    net.core.exports.sam_step(net.outputPtr(this.layer), this.trace, this.map, net.batch, this.C, this.HW, this.decay, NCS_MODE[this.ncs], silent);
    const map = net.arena.f32(this.map, net.batch * this.HW);
    if (this.sink) this.sink(t, map);
    else this.maps.push(map);
  }
}

/**
 * A SAM observer's blocks in the network's arena: one float32 trace per neuron `[B, C, H, W]` and the map of one step
 * `[B, H, W]` (the footprint lays them out with the same call).
 */
export function layoutSam(arena: Allocator, batch: number, shape: readonly number[], layer: string): { trace: number; map: number } {
  const [C, H, W] = shape;
  arena.label(layer);
  return { trace: arena.allocF32(batch * C * H * W, 'sam:trace'), map: arena.allocF32(batch * H * W, 'sam:map') };
}

function samParams(options: SamOptions): { gamma: number; ncs: NcsMode } {
  const gamma = options.gamma ?? 0.5;
  if (!Number.isFinite(gamma) || gamma < 0) throw new UsageError(`gamma must be a finite number >= 0, not ${gamma}`);
  const ncs = options.ncs ?? 'inclusive';
  if (!Object.prototype.hasOwnProperty.call(NCS_MODE, ncs)) throw new UsageError(`unknown ncs mode "${ncs}" (inclusive, strict, official)`);
  return { gamma, ncs };
}

/** Shape of a recorded spike train of a conv-shaped layer: `T` steps of `[B, C, H, W]`. */
export interface SpikeRecordShape {
  readonly T: number;
  readonly B: number;
  readonly C: number;
  readonly H: number;
  readonly W: number;
}

/**
 * The Spike Activation Maps `[T, B, H, W]` of recorded spikes `[T, B, C, H, W]` (a Recorder's `spikes.data()`),
 * computed after the run with the same core kernel a SamObserver calls during it, so the maps are the same bits.
 * This is how a viewer changes gamma or the ncs mode without simulating again. `core`: an instance to reuse
 * (its memory above the heap base is overwritten); default a new one.
 */
export async function samFromSpikes(
  spikes: ArrayLike<number>,
  shape: SpikeRecordShape,
  options: SamOptions & { readonly core?: Core } = {},
): Promise<Float32Array> {
  const { gamma, ncs } = samParams(options);
  const { T, B, C, H, W } = shape;
  for (const [k, v] of Object.entries(shape))
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`samFromSpikes: ${k} must be a positive integer, not ${v}`);
  const frame = B * C * H * W;
  if (spikes.length !== T * frame)
    throw new RangeError(`samFromSpikes: ${spikes.length} values are not ${T} steps of [${B},${C},${H},${W}]`);
  const core = options.core ?? (await createCore());
  const arena = new Arena(core);
  const spikesPtr = arena.allocF32(frame);
  const trace = arena.allocF32(frame);
  const map = arena.allocF32(B * H * W);
  arena.f32(trace, frame).fill(0);
  const decay = Math.fround(Math.exp(-gamma));
  const out = new Float32Array(T * B * H * W);
  const view = ArrayBuffer.isView(spikes) ? (spikes as unknown as { subarray(a: number, b: number): ArrayLike<number> }) : null;
  for (let t = 0; t < T; t++) {
    const step = view ? view.subarray(t * frame, (t + 1) * frame) : Array.prototype.slice.call(spikes, t * frame, (t + 1) * frame);
    arena.f32(spikesPtr, frame).set(step);
    const silent = Math.fround(Math.exp(-gamma * t));
    core.exports.sam_step(spikesPtr, trace, map, B, C, H * W, decay, NCS_MODE[ncs], silent);
    out.set(arena.f32(map, B * H * W), t * B * H * W);
  }
  return out;
}
