import { poolGeometry } from '../geometry.js';
import type { PoolLayer } from '../model.js';
import { sizeOf } from '../model.js';
import type { Fields } from '../formats/json.js';
import { convInput, outputSize, show } from './parse.js';
import { OP, chunk } from './records.js';
import type { LayerBase, OpSpec } from './types.js';

/** 2-D pooling: avg (`fl(sum/(kH*kW))`, padding counted), sum, max (padding -inf), PyTorch's sizes. */
export const poolSpec: OpSpec<PoolLayer> = {
  ops: ['avgpool2d', 'sumpool2d', 'maxpool2d'],
  fields: () => ['kernel', 'stride', 'padding'],
  parse: (f, base, op) => parsePool(f, op as PoolLayer['op'], base),
  params: () => 0,
  macs: () => 0,
  plan(ctx, layer, x) {
    const { kind, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW } = poolGeometry(layer);
    const y = ctx.window(layer);
    ctx.record(OP.pool, [kind, x, y, ctx.B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW, chunk(C, 4)], layer.name);
    return { layer, out: y, frameBytes: ctx.B * sizeOf(layer.outShape) * 4, reset: () => {} };
  },
  diff(ctx, layer, prev) {
    const ex = ctx.core.exports;
    const { B } = ctx;
    const { kind, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW } = poolGeometry(layer);
    const outs = ctx.stepOuts(layer);
    const grad = ctx.arena.allocF32(B * sizeOf(layer.outShape));
    const inGrad = prev.grad;
    const fwd = (t: number): void => ex.pool2d(kind, prev.outs[t], outs[t], B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
    const bwd = (t: number): void => {
      if (ctx.needInGrad) ex.pool2d_backward(kind, prev.outs[t], grad, inGrad, B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
    };
    return { layer, outs, grad, inGrad, fwd, bwd };
  },
};

function parsePool(f: Fields, op: 'avgpool2d' | 'sumpool2d' | 'maxpool2d', base: LayerBase): PoolLayer {
  const [channels, height, width] = convInput(f, op, base.inShape);
  const kernel = f.pair('kernel', 1);
  const stride = f.pair('stride', 1, kernel);
  const padding = f.pair('padding', 0, [0, 0]);
  // PyTorch's rule: with more padding a window could hold padding only (maxpool would output -inf).
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
    f.fail('padding', `${show(padding)} is more than half the kernel ${show(kernel)}`);
  }
  const outH = outputSize(height, kernel[0], stride[0], padding[0], 1);
  const outW = outputSize(width, kernel[1], stride[1], padding[1], 1);
  if (outH <= 0 || outW <= 0) {
    f.fail(
      'kernel',
      `output size ${outH}x${outW} is not positive (input ${height}x${width}, kernel ${show(kernel)}, ` +
        `stride ${show(stride)}, padding ${show(padding)})`,
    );
  }
  return { ...base, op, outShape: [channels, outH, outW], kernel, stride, padding };
}

