import type { Core } from "../src/index.js";

const garbage = 0xff; // every f32 made of it is a NaN, so an output a kernel forgot to write cannot pass
const guardByte = 0xa5;
const guardBytes = 16;

/**
 * Lays arrays out in a core's memory, 16-aligned from heapBase, each followed by a guard zone that `checkGuards`
 * verifies, so a kernel writing past the end of an output (e.g. into channel padding) is caught.
 */
export class Arena {
  private top: number;
  private guards: number[] = [];

  constructor(readonly core: Core) {
    this.top = core.heapBase;
  }

  reset(): void {
    this.top = this.core.heapBase;
    this.guards = [];
  }

  private alloc(bytes: number): number {
    const ptr = this.top;
    const end = ptr + Math.ceil((bytes + guardBytes) / 16) * 16;
    this.core.reserve(end - this.core.heapBase);
    const mem = new Uint8Array(this.core.memory.buffer);
    mem.fill(garbage, ptr, ptr + bytes);
    mem.fill(guardByte, ptr + bytes, end);
    this.guards.push(ptr + bytes, end);
    this.top = end;
    return ptr;
  }

  /** An f32 array holding `data`, or `data` uninitialised (NaN) floats. */
  f32(data: ArrayLike<number> | number): number {
    const n = typeof data === "number" ? data : data.length;
    const ptr = this.alloc(4 * n);
    if (typeof data !== "number") new Float32Array(this.core.memory.buffer, ptr, n).set(data);
    return ptr;
  }

  i32(data: ArrayLike<number> | number): number {
    const n = typeof data === "number" ? data : data.length;
    const ptr = this.alloc(4 * n);
    if (typeof data !== "number") new Int32Array(this.core.memory.buffer, ptr, n).set(data);
    return ptr;
  }

  u32(data: ArrayLike<number> | number): number {
    const n = typeof data === "number" ? data : data.length;
    const ptr = this.alloc(4 * n);
    if (typeof data !== "number") new Uint32Array(this.core.memory.buffer, ptr, n).set(data);
    return ptr;
  }

  readF32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.core.memory.buffer, ptr, n).slice();
  }

  readI32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.core.memory.buffer, ptr, n).slice();
  }

  readU32(ptr: number, n: number): Uint32Array {
    return new Uint32Array(this.core.memory.buffer, ptr, n).slice();
  }

  checkGuards(): void {
    const mem = new Uint8Array(this.core.memory.buffer);
    for (let g = 0; g < this.guards.length; g += 2) {
      for (let i = this.guards[g]; i < this.guards[g + 1]; i++) {
        if (mem[i] !== guardByte) throw new Error(`a kernel wrote byte ${i}, in the guard zone after an array`);
      }
    }
  }
}
