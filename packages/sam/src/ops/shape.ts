import type { FlattenLayer, ReluLayer } from '../model.js';
import { sizeOf } from '../model.js';
import { OP } from './records.js';
import type { OpSpec } from './types.js';

/** flatten: [C,H,W] -> [C*H*W], in place (no record: the next layer reads its input's window). */
export const flattenSpec: OpSpec<FlattenLayer> = {
  ops: ['flatten'],
  fields: () => [],
  parse: (_f, base) => ({ ...base, op: 'flatten', outShape: [sizeOf(base.inShape)] }),
  params: () => 0,
  macs: () => 0,
  plan: (ctx, layer, x) => ({ layer, out: x, frameBytes: ctx.B * sizeOf(layer.outShape) * 4, reset: () => {} }),
  diff: (_ctx, layer, prev) => ({ layer, outs: prev.outs, grad: prev.grad, inGrad: prev.grad, fwd: () => {}, bwd: () => {} }),
};

/** relu: max(0, x) (the analog twin of a spiking layer, for ANN-to-SNN conversion and Grad-CAM on ANNs). */
export const reluSpec: OpSpec<ReluLayer> = {
  ops: ['relu'],
  fields: () => [],
  parse: (_f, base) => ({ ...base, op: 'relu', outShape: base.inShape }),
  params: () => 0,
  macs: () => 0,
  plan(ctx, layer, x) {
    const n = ctx.B * sizeOf(layer.outShape);
    const y = ctx.window(layer);
    ctx.record(OP.relu, [x, y, n], layer.name);
    return { layer, out: y, frameBytes: n * 4, reset: () => {} };
  },
  diff(ctx, layer, prev) {
    const ex = ctx.core.exports;
    const n = ctx.B * sizeOf(layer.outShape);
    const outs = ctx.stepOuts(layer);
    const grad = ctx.arena.allocF32(n);
    const inGrad = prev.grad;
    return {
      layer, outs, grad, inGrad,
      fwd: (t) => ex.relu(prev.outs[t], outs[t], n),
      bwd: (t) => ex.relu_backward(prev.outs[t], grad, inGrad, n),
    };
  },
};
