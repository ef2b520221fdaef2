import fc from "fast-check";
import { outSize } from "./util.js";

/** One conv call's sizes, as the kernels take them. */
export interface Conv {
  B: number; Cin: number; H: number; W: number; Cout: number; Ho: number; Wo: number;
  kH: number; kW: number; sH: number; sW: number; pH: number; pW: number; dH: number; dW: number; groups: number;
}

/** Random conv geometries (strides, paddings, dilations, groups, batches); bounds overridable per suite. */
export const convArb = (o: { B?: number; groups?: number; cinG?: number; coutG?: number; H?: number; W?: number; k?: number } = {}) =>
  fc
    .record({
      B: fc.integer({ min: 1, max: o.B ?? 5 }),
      groups: fc.integer({ min: 1, max: o.groups ?? 3 }),
      cinG: fc.integer({ min: 1, max: o.cinG ?? 4 }),
      coutG: fc.integer({ min: 1, max: o.coutG ?? 11 }),
      H: fc.integer({ min: 1, max: o.H ?? 9 }),
      W: fc.integer({ min: 1, max: o.W ?? 13 }),
      kH: fc.integer({ min: 1, max: o.k ?? 4 }),
      kW: fc.integer({ min: 1, max: o.k ?? 4 }),
      sH: fc.integer({ min: 1, max: 3 }),
      sW: fc.integer({ min: 1, max: 3 }),
      pH: fc.integer({ min: 0, max: 3 }),
      pW: fc.integer({ min: 0, max: 3 }),
      dH: fc.integer({ min: 1, max: 3 }),
      dW: fc.integer({ min: 1, max: 3 }),
    })
    .map((s): Conv => ({
      B: s.B, Cin: s.groups * s.cinG, H: s.H, W: s.W, Cout: s.groups * s.coutG,
      Ho: outSize(s.H, s.kH, s.sH, s.pH, s.dH), Wo: outSize(s.W, s.kW, s.sW, s.pW, s.dW),
      kH: s.kH, kW: s.kW, sH: s.sH, sW: s.sW, pH: s.pH, pW: s.pW, dH: s.dH, dW: s.dW, groups: s.groups,
    }))
    .filter((c) => c.Ho >= 1 && c.Wo >= 1);
