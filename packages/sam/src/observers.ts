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
}

/**
 * Records a layer's spikes (uint8, or int8 for signed input spikes) and/or membrane (float32) at every step.
 * The pseudo-layer `input` records the encoder's output spikes.
 */
export class Recorder implements StepObserver {
  readonly layer: string;
  readonly spikes: Track<Uint8Array | Int8Array> | null;
  readonly membrane: Track<Float32Array> | null;
  /** Per-step frame shape `[B, ...]`. */
  readonly frameShape: number[];
  readonly signed: boolean;

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
      else if (!isSpiking(l)) throw new UsageError(`layer "${layer}" (${l.op}) is not a neuron layer: only lif, if and li are recorded`);
    }
    this.signed = layer === 'input' && net.inputIsSigned;
    this.spikes = wantSpikes
      ? new Track<Uint8Array | Int8Array>((k) => (this.signed ? new Int8Array(k) : new Uint8Array(k)), n, T)
      : null;
    this.membrane = wantV ? new Track((k) => new Float32Array(k), n, T) : null;
  }

  onReset(): void {
    this.spikes?.clear();
    this.membrane?.clear();
  }

  onStep(net: Network): void {
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
}

/**
 * Accumulates the Spike Activation Map of a conv-shaped spiking layer (SPEC §5) with one float32 trace per neuron,
 * updated in the core once a step; keeps the per-step heatmaps `[T, B, H, W]`.
 */
export class SamObserver implements StepObserver {
  readonly layer: string;
  readonly gamma: number;
  readonly ncs: NcsMode;
  readonly maps: Track<Float32Array>;
  /** `[B, H, W]` of one step. */
  readonly frameShape: number[];
  private readonly trace: number;
  private readonly map: number;
  private readonly C: number;
  private readonly HW: number;
  private readonly decay: number;

  constructor(net: Network, layer: string, options: SamOptions = {}) {
    const l = net.layer(layer);
    if (!isSpiking(l)) throw new UsageError(`layer "${layer}" (${l.op}) is not a spiking layer: SAM needs lif or if`);
    if (l.outShape.length !== 3) throw new UsageError(`layer "${layer}" is flat ([${l.outShape.join(',')}]): it has no map`);
    const gamma = options.gamma ?? 0.5;
    if (!Number.isFinite(gamma) || gamma < 0) throw new UsageError(`gamma must be a finite number >= 0, not ${gamma}`);
    this.layer = layer;
    this.gamma = gamma;
    this.ncs = options.ncs ?? 'inclusive';
    if (!(this.ncs in NCS_MODE)) throw new UsageError(`unknown ncs mode "${this.ncs}" (inclusive, strict, official)`);
    const [C, H, W] = l.outShape;
    this.C = C;
    this.HW = H * W;
    this.frameShape = [net.batch, H, W];
    this.decay = Math.fround(Math.exp(-gamma));
    this.trace = net.arena.allocF32(net.batch * C * H * W);
    this.map = net.arena.allocF32(net.batch * H * W);
    this.maps = new Track((k) => new Float32Array(k), net.batch * H * W, options.timesteps ?? net.timesteps ?? 1);
  }

  onReset(net: Network): void {
    net.arena.f32(this.trace, net.batch * this.C * this.HW).fill(0);
    this.maps.clear();
  }

  onStep(net: Network, t: number): void {
    const silent = Math.fround(Math.exp(-this.gamma * t));
    net.core.exports.sam_step(net.outputPtr(this.layer), this.trace, this.map, net.batch, this.C, this.HW, this.decay, NCS_MODE[this.ncs], silent);
    this.maps.push(net.arena.f32(this.map, net.batch * this.HW));
  }
}
