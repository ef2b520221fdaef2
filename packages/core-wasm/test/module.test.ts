import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { createCore, loadCore, wasmByteLength } from "../src/index.js";

const wasmBytes = readFileSync(new URL("../build/core.wasm", import.meta.url));

// ABI.md: every export and its parameter count.
const abi: Record<string, number> = {
  heap_base: 0, conv2d_packed_len: 5, conv2d_pack: 7, conv2d_dense: 20, conv2d_dense_rows: 22, spike_index: 6,
  conv2d_event: 21, conv2d_event_rows: 23, linear_event: 11, scratch_bytes: 0, set_scratch: 1,
  pool2d: 15, affine: 7, lif: 13, li: 7, cubalif: 15, relu: 3, sam_step: 9, rng_seed: 4, encode: 7, count_nonzero: 2, simd_peak: 4, gather_peak: 5,
  plan_run: 3, plan_error_at: 0, plan_set_helper: 2, plan_tiles: 5, plan_record: 3,
  sl_plan_bytes: 2, sl_load: 3, sl_error_at: 0, sl_header: 0, sl_set_input: 4, sl_input: 0, sl_run: 1, sl_steps: 0, sl_scores: 0, sl_output: 1,
  conv2d_backward_input: 19, conv2d_backward_weight: 19, bias_backward: 5, pool2d_backward: 16, affine_backward: 9,
  relu_backward: 4, lif_forward_train: 14, lif_backward: 17, li_backward: 10,
};

describe("the module", () => {
  it("imports nothing", async () => {
    expect(WebAssembly.Module.imports(new WebAssembly.Module(wasmBytes))).toEqual([]);
    expect(WebAssembly.Module.imports(await loadCore())).toEqual([]);
  });

  it("exports exactly ABI.md's functions, with their parameter counts, and its memory", async () => {
    const exports = WebAssembly.Module.exports(await loadCore());
    expect(exports.filter((e) => e.kind === "memory").map((e) => e.name)).toEqual(["memory"]);
    expect(exports.filter((e) => e.kind === "function").map((e) => e.name).sort()).toEqual(Object.keys(abi).sort());
    const core = await createCore();
    for (const [name, arity] of Object.entries(abi)) {
      expect((core.exports as unknown as Record<string, (...a: number[]) => unknown>)[name].length, name).toBe(arity);
    }
  });

  it("embeds the bytes of build/core.wasm", () => {
    expect(wasmByteLength).toBe(wasmBytes.length);
  });

  it("has the sizes docs/embedding.md gives for every built module, and core.wasm stays within 64 KiB", () => {
    const doc = readFileSync(new URL("../../../docs/embedding.md", import.meta.url), "utf8");
    const rows = [...doc.matchAll(/^\| `packages\/core-wasm\/build\/([a-z.-]+\.wasm)`[^|]*\| ([\d,]+) \|$/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual(["core-threads.wasm", "core.wasm", "harness.wasm", "spikelens.wasi.wasm"]);
    for (const [, file, bytes] of rows)
      expect(Number(bytes.replace(/,/g, "")), `${file}: rebuild and update docs/embedding.md "Binary sizes"`).toBe(readFileSync(new URL(`../build/${file}`, import.meta.url)).length);
    expect(wasmBytes.length).toBeLessThanOrEqual(65536);
  });
});

describe("loadCore", () => {
  it("returns the same promise when called again with no argument", () => {
    const first = loadCore();
    expect(loadCore()).toBe(first);
  });

  it("compiles bytes, a Response, a promised Response and a compiled module", async () => {
    const sources = [
      wasmBytes, new Uint8Array(wasmBytes).buffer, new Response(wasmBytes),
      Promise.resolve(new Response(wasmBytes)), new WebAssembly.Module(wasmBytes),
    ];
    for (const source of sources) {
      const core = await createCore(source);
      expect(core.exports.conv2d_packed_len(5, 2, 3, 3, 1)).toBe(16 * 2 * 9); // one 16-channel panel
    }
  });

  it("rejects a failed fetch with its status", async () => {
    await expect(loadCore(new Response("missing", { status: 404 }))).rejects.toThrow(/HTTP 404/);
  });

  it("makes the first source the default, and forgets a source that failed", async () => {
    vi.resetModules();
    const fresh = await import("../src/index.js");
    await expect(fresh.loadCore(Promise.resolve(new Response(null, { status: 500 })))).rejects.toThrow(/HTTP 500/);
    const module = new WebAssembly.Module(wasmBytes);
    const first = fresh.loadCore(module);
    expect(fresh.loadCore()).toBe(first);
    expect(await fresh.loadCore()).toBe(module);
  });

  it("refuses a module that is not the core", async () => {
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    await expect(createCore(empty)).rejects.toThrow(TypeError);
  });
});

describe("createCore", () => {
  it("makes a new instance with its own memory each call", async () => {
    const a = await createCore();
    const b = await createCore();
    expect(a.memory).not.toBe(b.memory);
    a.reserve(16);
    b.reserve(16);
    new Float32Array(a.memory.buffer, a.heapBase, 1)[0] = 7;
    expect(new Float32Array(b.memory.buffer, b.heapBase, 1)[0]).not.toBe(7);
  });

  it("puts the arena at a 16-aligned, nonzero heapBase", async () => {
    const core = await createCore();
    expect(core.heapBase).toBe(core.exports.heap_base());
    expect(core.heapBase % 16).toBe(0);
    expect(core.heapBase).toBeGreaterThanOrEqual(16);
  });

  it("reserve grows memory to cover the arena, and only when needed", async () => {
    const core = await createCore();
    core.reserve(100_000);
    const size = core.memory.buffer.byteLength;
    expect(size).toBeGreaterThanOrEqual(core.heapBase + 100_000);
    expect(size % 65536).toBe(0);
    core.reserve(10);
    expect(core.memory.buffer.byteLength).toBe(size);
    core.reserve(size - core.heapBase + 1);
    expect(core.memory.buffer.byteLength).toBe(size + 65536);
  });

  it("reserve throws a RangeError past 4 GiB or for a size that is not a byte count", async () => {
    const core = await createCore();
    expect(() => core.reserve(2 ** 32)).toThrow(RangeError);
    expect(() => core.reserve(2 ** 32)).toThrow(/4 GiB/);
    expect(() => core.reserve(-1)).toThrow(RangeError);
    expect(() => core.reserve(1.5)).toThrow(RangeError);
  });
});
