import type { Core } from '@spikelens/core-wasm';
import { LIMITS, formatBytes } from './limits.js';

/** The arena would pass LIMITS.arenaBytes: the network (at this batch) does not fit the core's memory. */
export class ArenaFullError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'ArenaFullError';
  }
}

/**
 * What a block of a network's arena holds (docs/library.md, "Footprint"): model data (packed weights, value tables,
 * biases, neuron and affine parameters), neuron state (membranes, synaptic currents, delayed-reset spikes), SAM
 * traces and maps, activation windows, scratch (spike lists, event flags, spike and operation counters, the core's
 * list scratch with two threads and their control block), the plan's records, and the input, encoder and readout
 * buffers. Alignment padding counts with the block it precedes.
 */
export type Part = 'weights' | 'state' | 'sam' | 'windows' | 'scratch' | 'program' | 'io';
/** A block's part, optionally with what it is: `weights:packed`. */
export type Tag = Part | `${Part}:${string}`;

/**
 * What a network is laid out in: the Arena of a core instance, or a Tally (footprint.ts) that only counts, so the
 * same layout code gives the bytes before any core exists. Every allocation of a layout names its Tag.
 */
export interface Allocator {
  /** False for a Tally: nothing may be written (views throw) and no kernel runs; blocks are only counted. */
  readonly live: boolean;
  alloc(bytes: number, align: number, tag: Tag): number;
  allocF32(n: number, tag: Tag): number;
  /** A block holding `data` (a Tally only counts it). */
  putF32(data: ArrayLike<number>, tag: Tag): number;
  mark(): number;
  release(mark: number): void;
  /** The layer whose blocks follow (a Tally's detail; the Arena ignores it). */
  label(layer: string): void;
  f32(ptr: number, n: number): Float32Array;
  f64(ptr: number, n: number): Float64Array;
  i32(ptr: number, n: number): Int32Array;
}

/**
 * One bump allocator over a core instance's memory. A Network lays out everything it needs once (weights, activity,
 * neuron state, SAM traces); nothing is allocated in the time-step loop. Views are re-made when memory grows,
 * because growing detaches the old ArrayBuffer.
 */
export class Arena implements Allocator {
  readonly live = true;
  readonly core: Core;
  private top: number;
  /** The highest end of any allocation, and the end of the memory reserved so far. */
  private high: number;
  private reserved: number;
  /** The most bytes of arena this one may take (LIMITS.arenaBytes unless given less). */
  readonly limit: number;

  constructor(core: Core, limit: number = LIMITS.arenaBytes) {
    this.core = core;
    this.limit = Math.min(limit, LIMITS.arenaBytes);
    this.top = core.heapBase;
    this.high = core.heapBase;
    this.reserved = core.heapBase;
  }

  /** Bytes in use above the heap base: the arena's size. */
  get size(): number {
    return this.high - this.core.heapBase;
  }

  /** A block of `bytes` at a multiple of `align` (a power of two, at least 16); the tag is the footprint's. */
  alloc(bytes: number, align = 16, _tag?: Tag): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`arena: bad allocation size ${bytes}`);
    // Arithmetic, not `& ~(align - 1)`: bit operations are 32-bit signed, and addresses pass 2 GiB.
    const ptr = Math.ceil(this.top / align) * align;
    const end = ptr + bytes;
    if (end - this.core.heapBase > this.limit)
      throw new ArenaFullError(`needs more than the ${formatBytes(this.limit)} of memory ${this.limit < LIMITS.arenaBytes ? 'it' : 'a network'} may take (at least ${formatBytes(end - this.core.heapBase)})`);
    this.top = end;
    if (end > this.reserved) {
      this.core.reserve(end - this.core.heapBase);
      this.reserved = end;
    }
    if (end > this.high) this.high = end;
    return ptr;
  }

  /**
   * Grows the memory once to hold `bytes` of arena, so the allocations that follow do not grow it one by one (each
   * growth of an unshared memory may copy it). Never past LIMITS.arenaBytes; a no-op when it already holds them.
   */
  reserveAhead(bytes: number): void {
    const want = Math.min(bytes, this.limit);
    if (this.core.heapBase + want <= this.reserved) return;
    this.core.reserve(want);
    this.reserved = this.core.heapBase + want;
  }

  allocF32(n: number, tag?: Tag): number {
    return this.alloc(n * 4, 16, tag);
  }

  label(_layer: string): void {}

  /** Where scratch space starts: `release(mark)` hands it back (used for weights before packing). */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.core.memory.buffer, ptr, n);
  }

  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.core.memory.buffer, ptr, n);
  }

  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.core.memory.buffer, ptr, n);
  }

  /** Copies float data into a fresh 16-aligned block and returns its pointer. */
  putF32(data: ArrayLike<number>, tag?: Tag): number {
    const ptr = this.allocF32(data.length, tag);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }
}
