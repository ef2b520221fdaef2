import { coreFunctionNames, type CoreExports } from "./exports.js";
import { loadCore, type CoreSource } from "./module.js";

const pageBytes = 65536;
const maxMemoryBytes = 2 ** 32;

/** One instance of the core: its own memory, which the caller lays out from `heapBase` up. */
export interface Core {
  readonly exports: CoreExports;
  readonly memory: WebAssembly.Memory;
  /** First byte the caller may use (16-aligned). */
  readonly heapBase: number;
  /**
   * Grows memory so `[heapBase, heapBase + bytes)` is usable. Growing detaches earlier views of `memory.buffer`.
   * Throws a RangeError past 4 GiB or when the runtime refuses to grow.
   */
  reserve(bytes: number): void;
}

/** A new core instance (each Network owns one), from the module `loadCore(source)` gives. */
export async function createCore(source?: CoreSource): Promise<Core> {
  const module = await loadCore(source);
  const instance = await WebAssembly.instantiate(module, {});
  const exports = instance.exports as unknown as CoreExports;
  for (const name of coreFunctionNames) {
    if (typeof exports[name] !== "function") {
      throw new TypeError(`@spikelens/core-wasm: the module has no function export "${name}"; is it a core.wasm of another version?`);
    }
  }
  const memory = exports.memory;
  const heapBase = exports.heap_base();
  return {
    exports,
    memory,
    heapBase,
    reserve(bytes: number): void {
      if (!Number.isSafeInteger(bytes) || bytes < 0) {
        throw new RangeError(`@spikelens/core-wasm: reserve(${bytes}): the size must be a whole number of bytes >= 0`);
      }
      const end = heapBase + bytes;
      if (end > maxMemoryBytes) {
        throw new RangeError(
          `@spikelens/core-wasm: reserve(${bytes}): the arena would end at byte ${end}, past the 4 GiB a 32-bit WebAssembly memory can address`,
        );
      }
      const have = memory.buffer.byteLength;
      if (end <= have) return;
      const pages = Math.ceil((end - have) / pageBytes);
      try {
        memory.grow(pages);
      } catch (cause) {
        throw new RangeError(
          `@spikelens/core-wasm: reserve(${bytes}): the runtime refused to grow memory from ${have} to ${have + pages * pageBytes} bytes`,
          { cause },
        );
      }
    },
  };
}
