import { expect, it } from "vitest";
import { createCore, wasmByteLength } from "@spikelens/core-wasm";
import { conv2dPackedLen } from "@spikelens/core-wasm/twin";

it("the built package entry points load and agree", async () => {
  const core = await createCore();
  expect(wasmByteLength).toBeGreaterThan(0);
  expect(core.exports.conv2d_packed_len(10, 3, 3, 3, 2)).toBe(conv2dPackedLen(10, 3, 3, 3, 2));
});
