import { convFanout } from '../work.js';
import { convGeometry, type ConvGeometry } from '../geometry.js';
import type { Conv2dLayer, LinearLayer } from '../model.js';
import { sizeOf } from '../model.js';
import { clip, type Fields } from '../formats/json.js';
import { convInput, expectShape, float32Tensor, optionalTensor, outputSize, show } from './parse.js';
import { DEFAULT_EVENT_THRESHOLD, OP, f32Word, f64Words, layerEventThreshold } from './records.js';
import type { LayerBase, OpSpec, PlanContext, TensorTable } from './types.js';

/**
 * conv2d (PyTorch's, zero padding, groups) and linear (the 1x1 conv of a 1x1 image): weights packed for the core's
 * panels; the event-driven path below the layer's density threshold, bit masks or lists (docs/plan.md).
 */
export const convSpec: OpSpec<Conv2dLayer | LinearLayer> = {
  ops: ['conv2d', 'linear'],
  fields: (op) => (op === 'conv2d' ? ['weight', 'bias', 'stride', 'padding', 'dilation', 'groups'] : ['weight', 'bias']),
  parse: (f, base, op, tensors) => (op === 'conv2d' ? parseConv2d(f, base, tensors) : parseLinear(f, base, tensors)),
  params: (l) => l.weight.data.length + (l.bias ? l.bias.data.length : 0),
  macs: (l) => (l.op === 'conv2d' ? sizeOf(l.outShape) * l.weight.shape[1] * l.weight.shape[2] * l.weight.shape[3] : l.weight.data.length),
  lists(l) {
    const g = convGeometry(l);
    return [g.H * g.W * g.C, g.H * g.W];
  },
  plan(ctx, layer, x) {
    const { B, F, arena, core } = ctx;
    const g = convGeometry(layer);
    const { C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups } = g;
    const cinG = C / groups;
    const packedLen = conv2dPackedLen(Cout, cinG, kH, kW, groups);
    // on a cache line: each row of a 16-channel panel is one line (core-wasm conv.ts)
    const wp = arena.alloc(packedLen * 4, 64, 'weights:packed');
    const bias = layer.bias ? arena.putF32(layer.bias.data, 'weights:bias') : 0;
    const y = ctx.window(layer);
    // the weights as stored, packed from a block given back at once (a footprint counts it as staging)
    const mark = arena.mark();
    const raw = arena.putF32(layer.weight.data, 'weights:unpacked');
    if (core) core.exports.conv2d_pack(raw, wp, Cout, cinG, kH, kW, groups);
    arena.release(mark);
    const event = groups === 1 && ctx.eventThreshold > 0 ? 1 : 0;
    const limit = layerEventThreshold(ctx.eventThreshold, cinG, kH, kW) * B * C * H * W;
    const flags = arena.alloc(F * 4, 16, 'scratch:event flags');
    // the fan-out of each input pixel (H x W f64), for counting synaptic operations
    const fanout = ctx.countSops ? arena.alloc(H * W * 8, 16, 'scratch:fan-out') : 0;
    if (fanout && arena.live) arena.f64(fanout, H * W).set(convFanout(H, W, Ho, Wo, kH, kW, [sH, sW], [pH, pW], [dH, dW], Cout / groups));
    const sops = arena.alloc(F * 8, 16, 'scratch:operation counts');
    const { idx, cnt } = ctx;
    if (isFlat(g)) {
      const binary = arena.alloc(F * B, 16, 'scratch:binary flags');
      ctx.record(OP.linear, [x, idx, cnt, wp, bias, y, B, C, Cout, event, ...f64Words(limit), flags, fanout, sops, binary], layer.name);
    } else {
      // two threads: each sample-frame's rows in two chunks unless the batch alone gives both work
      const rows = ctx.threads === 2 && B < 8 && Ho >= 2 ? 2 : 1;
      const { table, copy, values } = valueTable(ctx, wp, packedLen, event === 1 && kH * kW * C <= LIST_CAP);
      const binary = arena.alloc(F * B, 16, 'scratch:binary flags');
      ctx.record(OP.conv, [x, idx, cnt, wp, bias, y, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, event,
        ...f64Words(limit), flags, fanout, sops, rows, binary, table, copy, ...values.map(f32Word)], layer.name);
    }
    return { layer, out: y, frameBytes: B * sizeOf(layer.outShape) * 4, flags: event ? flags : undefined, sops: fanout ? sops : undefined, reset: () => {} };
  },
  diff(ctx, layer, prev) {
    const { B, arena, core } = ctx;
    const ex = core.exports;
    const { C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups } = convGeometry(layer);
    const cinG = C / groups;
    const w = ctx.addParam(layer.weight.name, layer.weight.shape, layer.weight.data, true);
    const bias = layer.bias ? ctx.addParam(layer.bias.name, layer.bias.shape, layer.bias.data, false) : null;
    const wp = arena.allocF32(ex.conv2d_packed_len(Cout, cinG, kH, kW, groups));
    ctx.onSync(() => ex.conv2d_pack(w.ptr, wp, Cout, cinG, kH, kW, groups));
    const outs = ctx.stepOuts(layer);
    const grad = arena.allocF32(B * sizeOf(layer.outShape));
    const inGrad = prev.grad;
    // forward as Network runs it: the event path below the density threshold (same bits as dense)
    const flat = isFlat(convGeometry(layer));
    const n = B * C * H * W;
    const event = groups === 1;
    const limit = layerEventThreshold(DEFAULT_EVENT_THRESHOLD, cinG, kH, kW) * n;
    const idx = event ? arena.alloc(n * 4) : 0;
    const cnt = event ? arena.alloc(B * H * W * 4) : 0;
    const fwd = (t: number): void => {
      const x = prev.outs[t];
      if (event && ex.count_nonzero(x, n) < limit) {
        ex.spike_index(x, B, C, H * W, idx, cnt);
        if (flat) ex.linear_event(x, idx, cnt, wp, bias ? bias.ptr : 0, outs[t], B, C, Cout, 0, (Cout + 3) >> 2);
        else ex.conv2d_event(x, idx, cnt, wp, bias ? bias.ptr : 0, outs[t], B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW);
      } else ex.conv2d_dense(x, wp, bias ? bias.ptr : 0, outs[t], B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups);
    };
    const bwd = (t: number): void => {
      if (ctx.paramGrads) {
        ex.conv2d_backward_weight(prev.outs[t], grad, w.grad, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups);
        if (bias) ex.bias_backward(grad, bias.grad, B, Cout, Ho * Wo);
      }
      if (ctx.needInGrad) ex.conv2d_backward_input(grad, w.ptr, inGrad, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups);
    };
    return { layer, outs, grad, inGrad, fwd, bwd };
  },
};

/** The core's combined list capacity (core-wasm event.ts LIST_CAP): the table path needs the receptive field to fit. */
const LIST_CAP = 1 << 15;
/** The most bytes of packed weights a value table is made for (it takes four times as many). */
const TABLE_WEIGHT_BYTES = 2 ** 20;

/**
 * A value table for a conv whose input takes 2 to 4 known nonzero values (2x2 pooled spikes: k/4): four copies of
 * the packed weights, copy q holding fl(w * vq), so the event path adds without multiplying (the products are those
 * the list path computes). Where the input's values are unknown, many, or plain spikes, or the weights are large: none.
 */
function valueTable(ctx: PlanContext, wp: number, packedLen: number, eventPath: boolean): { table: number; copy: number; values: number[] } {
  const vals = ctx.inputValues;
  if (!eventPath || !vals || vals.length < 2 || vals.length > 4 || packedLen * 4 > TABLE_WEIGHT_BYTES) return { table: 0, copy: 0, values: [0, 0, 0, 0] };
  const values = [0, 1, 2, 3].map((q) => Math.fround(vals[Math.min(q, vals.length - 1)]));
  const copy = packedLen * 4;
  const table = ctx.arena.alloc(4 * copy, 64, 'weights:value table');
  if (!ctx.arena.live) return { table, copy, values };
  const w = ctx.arena.f32(wp, packedLen);
  for (let q = 0; q < 4; q++) {
    const dst = ctx.arena.f32(table + q * copy, packedLen);
    for (let i = 0; i < packedLen; i++) dst[i] = Math.fround(w[i] * values[q]);
  }
  return { table, copy, values };
}

/**
 * f32 elements of a conv's packed weights: panels of 16 output channels (the last one padded), each a row of 16 per
 * (ky, kx, input channel), per group. The core's conv2d_packed_len (core-wasm conv.ts), here so a footprint needs no
 * core; a test holds the two equal.
 */
export function conv2dPackedLen(Cout: number, cinG: number, kH: number, kW: number, groups: number): number {
  return groups * Math.ceil(Cout / groups / 16) * 16 * kH * kW * cinG;
}

/** Whether a conv/linear layer is a linear one for the kernels: 1x1 kernel on a 1x1 input, no padding, groups 1. */
function isFlat(g: ConvGeometry): boolean {
  return g.H === 1 && g.W === 1 && g.kH === 1 && g.kW === 1 && g.pH === 0 && g.pW === 0 && g.groups === 1;
}

function parseConv2d(f: Fields, base: LayerBase, tensors: TensorTable): Conv2dLayer {
  const [channels, height, width] = convInput(f, 'conv2d', base.inShape);
  const stride = f.pair('stride', 1, [1, 1]);
  const padding = f.pair('padding', 0, [0, 0]);
  const dilation = f.pair('dilation', 1, [1, 1]);
  const groups = f.integer('groups', 1, 1);
  const weight = float32Tensor(f, 'weight', f.requiredString('weight'), tensors);
  if (weight.shape.length !== 4 || weight.shape.some((d) => d < 1)) {
    const expected = '[Cout, Cin/groups, kH, kW] of positive sizes';
    f.fail('weight', `tensor "${clip(weight.name)}" has shape ${show(weight.shape)}, expected ${expected}`);
  }
  const [outChannels, , kh, kw] = weight.shape;
  if (channels % groups !== 0) f.fail('groups', `${groups} does not divide the ${channels} input channels`);
  if (outChannels % groups !== 0) {
    f.fail('groups', `${groups} does not divide the ${outChannels} output channels of tensor "${clip(weight.name)}"`);
  }
  expectShape(f, 'weight', weight, [outChannels, channels / groups, kh, kw]);
  const bias = optionalTensor(f, 'bias', [outChannels], tensors);
  const outH = outputSize(height, kh, stride[0], padding[0], dilation[0]);
  const outW = outputSize(width, kw, stride[1], padding[1], dilation[1]);
  if (outH <= 0 || outW <= 0) {
    f.fail(
      'weight',
      `output size ${outH}x${outW} is not positive (input ${height}x${width}, kernel ${kh}x${kw}, ` +
        `stride ${show(stride)}, padding ${show(padding)}, dilation ${show(dilation)})`,
    );
  }
  const outShape = [outChannels, outH, outW];
  return { ...base, op: 'conv2d', outShape, weight, bias, stride, padding, dilation, groups };
}

function parseLinear(f: Fields, base: LayerBase, tensors: TensorTable): LinearLayer {
  if (base.inShape.length !== 1) {
    f.failAt(`op linear needs a flat [N] input, got ${show(base.inShape)} (put a flatten layer before it)`);
  }
  const inputs = base.inShape[0];
  const weight = float32Tensor(f, 'weight', f.requiredString('weight'), tensors);
  const outputs = weight.shape.length === 2 && weight.shape[0] >= 1 ? weight.shape[0] : 'out';
  expectShape(f, 'weight', weight, [outputs, inputs]);
  const bias = optionalTensor(f, 'bias', [weight.shape[0]], tensors);
  return { ...base, op: 'linear', outShape: [weight.shape[0]], weight, bias };
}

