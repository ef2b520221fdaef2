import { UsageError } from '../errors.js';
import { dims } from '../geometry.js';
import type { AffineLayer } from '../model.js';
import { sizeOf } from '../model.js';
import { affineTensor, sameRows } from './parse.js';
import { OP, chunk } from './records.js';
import type { OpSpec } from './types.js';

/**
 * affine: y = fl(fl(x*scale[c]) + shift[c]) (batch norm folded), with one row of scale and shift per step when they
 * are [T, C] (batch norm through time).
 */
export const affineSpec: OpSpec<AffineLayer> = {
  ops: ['affine'],
  fields: () => ['scale', 'shift'],
  parse(f, base, _op, tensors) {
    const channels = base.inShape[0];
    const [scale, shift] = sameRows(
      affineTensor(f, base.name, 'scale', channels, tensors),
      affineTensor(f, base.name, 'shift', channels, tensors),
      f,
    );
    return { ...base, op: 'affine', outShape: base.inShape, scale, shift };
  },
  params: (l) => l.scale.data.length + l.shift.data.length,
  macs: () => 0,
  plan(ctx, layer, x) {
    const { C, HW } = dims(layer.inShape);
    const { B, arena } = ctx;
    const y = ctx.window(layer);
    const rows = layer.scale.shape.length === 2 ? layer.scale.shape[0] : 0;
    ctx.record(OP.affine, [x, y, arena.putF32(layer.scale.data, 'weights:affine'), arena.putF32(layer.shift.data, 'weights:affine'), B, C, HW, rows, chunk(C, 4)], layer.name);
    return { layer, out: y, frameBytes: B * sizeOf(layer.outShape) * 4, reset: () => {} };
  },
  diff(ctx, layer, prev) {
    const ex = ctx.core.exports;
    const { B, T } = ctx;
    const { C, HW } = dims(layer.inShape);
    const rows = layer.scale.shape.length === 2 ? layer.scale.shape[0] : 1;
    if (rows > 1 && rows < T) throw new UsageError(`layer "${layer.name}": per-step affine has ${rows} rows, training runs ${T} steps`);
    const scale = ctx.addParam(layer.scale.name, layer.scale.shape, layer.scale.data, false);
    const shift = ctx.addParam(layer.shift.name, layer.shift.shape, layer.shift.data, false);
    const outs = ctx.stepOuts(layer);
    const grad = ctx.arena.allocF32(B * sizeOf(layer.outShape));
    const inGrad = prev.grad;
    const row = (t: number): number => (rows > 1 ? t * C * 4 : 0);
    const fwd = (t: number): void => ex.affine(prev.outs[t], outs[t], scale.ptr + row(t), shift.ptr + row(t), B, C, HW);
    const bwd = (t: number): void =>
      ex.affine_backward(prev.outs[t], grad, scale.ptr + row(t), ctx.needInGrad ? inGrad : 0, scale.grad + row(t), shift.grad + row(t), B, C, HW);
    return { layer, outs, grad, inGrad, fwd, bwd };
  },
};
