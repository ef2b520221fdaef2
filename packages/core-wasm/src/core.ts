import { coreFunctionNames, type CoreExports } from "./exports.js";
import { loadCore, type CoreSource } from "./module.js";
import { embeddedThreadsWasm } from "./embedded.js";

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
  return wrap(await WebAssembly.instantiate(module, {}));
}

/** A core whose memory is shared (a SharedArrayBuffer): other instances of `module` may run on it in other threads. */
export interface ThreadsCore extends Core {
  /** The threads build of the module, to instantiate again on `memory` in a helper thread (`instantiateOn`). */
  readonly module: WebAssembly.Module;
}

let threadsModule: Promise<WebAssembly.Module> | undefined;

/** Whether this runtime has shared WebAssembly memory (in browsers only on cross-origin isolated pages). */
export function threadsSupported(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/**
 * A core on a new shared memory, from the embedded threads build (the same kernels; the memory is imported, and each
 * instance keeps its event-conv scratch where `set_scratch` puts it: the caller must set it before an event conv).
 */
export async function createThreadsCore(): Promise<ThreadsCore> {
  if (!threadsSupported()) throw new Error("@spikelens/core-wasm: this runtime has no shared WebAssembly memory (threads)");
  threadsModule ??= WebAssembly.compile(embeddedThreadsWasm());
  const module = await threadsModule;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: maxMemoryBytes / pageBytes, shared: true });
  return { ...wrap(await instantiateOn(module, memory), memory), module };
}

/** Another instance of the threads build on an existing shared memory (in a helper thread). */
export function instantiateOn(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<WebAssembly.Instance> {
  return WebAssembly.instantiate(module, { env: { memory, plan_wait: planWait(memory) } });
}

/**
 * The threads build's one function import: the plan runner's wait for its helper (assembly/plan.ts), a JavaScript
 * Atomics.wait of at most 100 us on the i32 at byte `addr` while it holds `expected`. The core's own
 * memory.atomic.wait32 was seen to sleep through both the notify and the timeout on Node's main thread; this one
 * returns.
 */
function planWait(memory: WebAssembly.Memory): (addr: number, expected: number) => void {
  let view = new Int32Array(memory.buffer);
  return (addr, expected) => {
    // a grown shared memory keeps its address; only the view's length is stale
    if ((addr >>> 2) >= view.length) view = new Int32Array(memory.buffer);
    Atomics.wait(view, addr >>> 2, expected, 0.1);
  };
}

function wrap(instance: WebAssembly.Instance, imported?: WebAssembly.Memory): Core {
  const exports = instance.exports as unknown as CoreExports;
  for (const name of coreFunctionNames) {
    if (typeof exports[name] !== "function") {
      throw new TypeError(`@spikelens/core-wasm: the module has no function export "${name}"; is it a core.wasm of another version?`);
    }
  }
  const memory = imported ?? exports.memory;
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
