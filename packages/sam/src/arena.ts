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
 * One bump allocator over a core instance's memory. A Network lays out everything it needs once (weights, activity,
 * neuron state, SAM traces); nothing is allocated in the time-step loop. Views are re-made when memory grows,
 * because growing detaches the old ArrayBuffer.
 */
export class Arena {
  readonly core: Core;
  private top: number;
  /** The highest end of any allocation, and the end of the memory reserved so far. */
  private high: number;
  private reserved: number;

  constructor(core: Core) {
    this.core = core;
    this.top = core.heapBase;
    this.high = core.heapBase;
    this.reserved = core.heapBase;
  }

  /** Bytes in use above the heap base: the arena's size. */
  get size(): number {
    return this.high - this.core.heapBase;
  }

  /** A block of `bytes` at a multiple of `align` (a power of two, at least 16). */
  alloc(bytes: number, align = 16): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`arena: bad allocation size ${bytes}`);
    // Arithmetic, not `& ~(align - 1)`: bit operations are 32-bit signed, and addresses pass 2 GiB.
    const ptr = Math.ceil(this.top / align) * align;
    const end = ptr + bytes;
    if (end - this.core.heapBase > LIMITS.arenaBytes)
      throw new ArenaFullError(`needs more than the ${formatBytes(LIMITS.arenaBytes)} of memory a network may take (at least ${formatBytes(end - this.core.heapBase)})`);
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
    const want = Math.min(bytes, LIMITS.arenaBytes);
    if (this.core.heapBase + want <= this.reserved) return;
    this.core.reserve(want);
    this.reserved = this.core.heapBase + want;
  }

  allocF32(n: number): number {
    return this.alloc(n * 4);
  }

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

  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.core.memory.buffer, ptr, n);
  }

  /** Copies float data into a fresh 16-aligned block and returns its pointer. */
  putF32(data: ArrayLike<number>): number {
    const ptr = this.allocF32(data.length);
    this.f32(ptr, data.length).set(data);
    return ptr;
  }
}
