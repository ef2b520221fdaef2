/** Record opcodes of the core's plan runner (core-wasm assembly/plan.ts, ABI.md "Plans"). */
export const OP = {
  end: 0, encode: 1, direct: 2, conv: 3, linear: 4, pool: 5, affine: 6, relu: 7, lif: 8, cubalif: 9, li: 10, count: 11,
  readout: 12, sam: 13,
} as const;

/** Errors of plan_run. */
export const PLAN_ERROR = { badOp: 1, affineRows: 2, samSteps: 3, helper: 4 } as const;

/** See NetworkOptions.eventThreshold. */
export const DEFAULT_EVENT_THRESHOLD = 0.6;

/**
 * The nonzero fraction below which a conv/linear layer takes the event path, from the network's threshold and the
 * layer's inputs per output. Measured on B1 and B2 (same bits either way): the event path wins up to about 60 %
 * nonzero inputs, except where a layer has few inputs per output (3-channel first convs: B1's at 50 % and B2's at
 * 25 % nonzero run 15 % and 40 % faster dense).
 */
export function layerEventThreshold(threshold: number, cinG: number, kH: number, kW: number): number {
  return threshold * (cinG * kH * kW < 64 ? 1 / 3 : 1);
}

/** Element chunks of neuron and elementwise tiles: about `parts` tiles a sample-frame. */
export const chunk = (C: number, parts: number): number => Math.max(1, Math.ceil(C / parts));

/** f32 and f64 record arguments as their bits. */
export const f32Word = (x: number): number => new Int32Array(new Float32Array([x]).buffer)[0];
export const f64Words = (x: number): [number, number] => {
  const w = new Int32Array(new Float64Array([x]).buffer);
  return [w[0], w[1]];
};
