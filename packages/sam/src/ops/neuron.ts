import { UsageError } from '../errors.js';
import { dims, expandParam } from '../geometry.js';
import type { LiLayer, NeuronParam, SpikingLayer } from '../model.js';
import { sizeOf, spikeComparison } from '../model.js';
import { RESETS, neuronParam, scalar } from './parse.js';
import { OP, chunk } from './records.js';
import type { OpSpec } from './types.js';

const RESET = { subtract: 0, zero: 1, none: 2 } as const;

/**
 * lif, if (lif without leak: beta 1) and cubalif (a synaptic current before the membrane): docs/semantics.md §3.
 * Parameters are scalars, per channel or per neuron.
 */
export const neuronSpec: OpSpec<SpikingLayer> = {
  ops: ['lif', 'if', 'cubalif'],
  fields: (op) => [
    ...(op === 'cubalif' ? ['alpha'] : []),
    ...(op === 'if' ? [] : ['beta']),
    'threshold', 'reset', 'resetDelay', 'vReset', 'fireAtThreshold',
  ],
  parse(f, base, op, tensors) {
    const { inShape } = base;
    const beta = op === 'if' ? scalar(1) : neuronParam(f, 'beta', undefined, inShape, tensors);
    const alpha = op === 'cubalif' ? { alpha: neuronParam(f, 'alpha', undefined, inShape, tensors) } : {};
    return {
      ...base,
      op: op as SpikingLayer['op'],
      outShape: inShape,
      beta,
      ...alpha,
      threshold: neuronParam(f, 'threshold', 1, inShape, tensors),
      vReset: neuronParam(f, 'vReset', 0, inShape, tensors),
      reset: f.choice('reset', RESETS, 'subtract'),
      resetDelay: f.boolean('resetDelay', false),
      fireAtThreshold: f.boolean('fireAtThreshold', false),
    };
  },
  params: (l) => (l.op === 'if' ? 0 : l.beta.data.length) + (l.alpha?.data.length ?? 0) + l.threshold.data.length + l.vReset.data.length,
  macs: () => 0,
  plan(ctx, layer, x) {
    const { B, arena } = ctx;
    const outSize = sizeOf(layer.outShape);
    const { C, HW } = dims(layer.outShape);
    const s = ctx.window(layer);
    const v = arena.allocF32(B * outSize, 'state:membrane');
    const beta = ctx.param(layer.beta, C);
    const thr = ctx.param(layer.threshold, C);
    // what v must exceed to spike: the threshold, or the float32 below it with fireAtThreshold (docs/semantics.md §3)
    const cmpParam = spikeComparison(layer);
    const cmp = layer.fireAtThreshold ? ctx.param(cmpParam, C) : thr;
    const vr = ctx.param(layer.vReset, C);
    const alpha = layer.alpha ? ctx.param(layer.alpha, C) : null;
    // the kernel reads one flag for all of them: expand any per-channel parameter when another is per neuron
    const perNeuron = beta.perNeuron | thr.perNeuron | vr.perNeuron | (alpha?.perNeuron ?? 0);
    const expand = (q: { ptr: number; perNeuron: number }, p: NeuronParam): number =>
      perNeuron && !q.perNeuron ? arena.putF32(expandParam(p, C, HW, true), 'weights:neuron parameters') : q.ptr;
    const betaPtr = expand(beta, layer.beta);
    const thrPtr = expand(thr, layer.threshold);
    const cmpPtr = layer.fireAtThreshold ? expand(cmp, cmpParam) : thrPtr;
    const vrPtr = expand(vr, layer.vReset);
    const delay = layer.resetDelay ? 1 : 0;
    const last = delay ? arena.allocF32(B * outSize, 'state:previous spikes') : 0;
    const syn = alpha ? arena.allocF32(B * outSize, 'state:synaptic current') : 0;
    const tail = [B, C, HW, perNeuron, RESET[layer.reset], delay, last, chunk(C, 8)];
    if (alpha) ctx.record(OP.cubalif, [x, syn, s, v, expand(alpha, layer.alpha!), betaPtr, thrPtr, cmpPtr, vrPtr, ...tail], layer.name);
    else ctx.record(OP.lif, [x, s, v, betaPtr, thrPtr, cmpPtr, vrPtr, ...tail], layer.name);
    const counts = ctx.counter(layer, s);
    const vInit = expandParam(layer.vReset, C, HW, true);
    const reset = (): void => {
      const n = B * outSize;
      if (syn) arena.f32(syn, n).fill(0);
      if (last) arena.f32(last, n).fill(0);
      arena.f32(s, n).fill(0);
      const vv = arena.f32(v, n);
      for (let b = 0; b < B; b++) vv.set(vInit, b * outSize);
    };
    return { layer, out: s, frameBytes: B * outSize * 4, membrane: v, counts, reset };
  },
  diff(ctx, layer, prev) {
    const { B, arena } = ctx;
    const ex = ctx.core.exports;
    const outSize = sizeOf(layer.outShape);
    const { C, HW } = dims(layer.outShape);
    const alphaParam = layer.op === 'cubalif' ? layer.alpha : undefined;
    if (layer.op === 'cubalif' && !alphaParam) throw new UsageError(`layer "${layer.name}": cubalif without alpha`);
    const perNeuron =
      layer.beta.per === 'neuron' || layer.threshold.per === 'neuron' || layer.vReset.per === 'neuron' || alphaParam?.per === 'neuron';
    const pn = perNeuron ? 1 : 0;
    const learnBeta = ctx.trainBeta && layer.op !== 'if' && !perNeuron;
    const betaInit = expandParam(layer.beta, C, HW, perNeuron);
    const beta = learnBeta ? ctx.addParam(`${layer.name}.beta`, [C], betaInit, false, [0, 1]) : { ptr: arena.putF32(betaInit), grad: 0 };
    const thr = arena.putF32(expandParam(layer.threshold, C, HW, perNeuron));
    // the kernels spike at v > cmp: the threshold, or the float32 below it with fireAtThreshold (as Network)
    const cmp = layer.fireAtThreshold ? arena.putF32(expandParam(spikeComparison(layer), C, HW, perNeuron)) : thr;
    const vr = arena.putF32(expandParam(layer.vReset, C, HW, perNeuron));
    const vOne = expandParam(layer.vReset, C, HW, true);
    const vInit = arena.allocF32(B * outSize);
    for (let b = 0; b < B; b++) arena.f32(vInit + b * outSize * 4, outSize).set(vOne);
    // resetDelay true (docs/training.md): the delayed subtract is the kernels' mode 3, which reads the previous
    // step's spikes and records the membrane itself as u. Zero and none run the immediate form: the same spikes
    // and the same gradients, its pre-reset membrane u being the delayed form's membrane.
    const delayed = layer.resetDelay && layer.reset === 'subtract';
    const reset = delayed ? 3 : RESET[layer.reset];
    const outs = ctx.stepOuts(layer);
    const vs = ctx.stepOuts(layer);
    const us = delayed ? vs : ctx.stepOuts(layer);
    const gv = arena.allocF32(B * outSize);
    const grad = arena.allocF32(B * outSize);
    const inGrad = prev.grad;
    const n = B * outSize;
    // cubalif: the synaptic current i_t = fl(fl(alpha*i_{t-1}) + I_t) feeds the lif step (li then lif, as the
    // inference kernel); back, dL/di_t = dL/d(lif input)_t + alpha*dL/di_{t+1} (li_backward, alpha as its beta).
    // alpha is not trained, so one buffer holds the current and no step keeps its own.
    const alpha = alphaParam ? arena.putF32(expandParam(alphaParam, C, HW, perNeuron)) : 0;
    const syn = alphaParam ? arena.allocF32(n) : 0;
    const gi = alphaParam ? arena.allocF32(n) : 0;
    const name = layer.name;
    ctx.spikeCounts.set(name, 0);
    const fwd = (t: number): void => {
      let input = prev.outs[t];
      if (syn) {
        if (t === 0) arena.f32(syn, n).fill(0);
        ex.li(input, syn, alpha, B, C, HW, pn);
        input = syn;
      }
      arena.f32(vs[t], n).set(arena.f32(t === 0 ? vInit : vs[t - 1], n));
      if (delayed) {
        if (t === 0) arena.f32(outs[0], n).fill(0);
        else arena.f32(outs[t], n).set(arena.f32(outs[t - 1], n));
      }
      ex.lif_forward_train(input, outs[t], vs[t], us[t], beta.ptr, thr, cmp, vr, B, C, HW, pn, reset, ctx.surrogate);
      ctx.spikeCounts.set(name, ctx.spikeCounts.get(name)! + ex.count_nonzero(outs[t], n));
    };
    const bwd = (t: number): void => {
      ex.lif_backward(grad, us[t], outs[t], t === 0 ? vInit : vs[t - 1], gv, inGrad, beta.grad, beta.ptr, thr, vr, B, C, HW, pn, reset, ctx.surrogate, ctx.keepReset);
      if (syn) ex.li_backward(inGrad, gi, inGrad, syn, 0, alpha, B, C, HW, pn);
    };
    const clearState = (): void => {
      arena.f32(gv, n).fill(0);
      if (gi) arena.f32(gi, n).fill(0);
    };
    return { layer, outs, grad, inGrad, fwd, bwd, clearState };
  },
};

/** li: the leaky integrator readout, v = fl(fl(beta*v) + I), its output being its membrane. */
export const liSpec: OpSpec<LiLayer> = {
  ops: ['li'],
  fields: () => ['beta'],
  parse: (f, base, _op, tensors) => ({ ...base, op: 'li', outShape: base.inShape, beta: neuronParam(f, 'beta', 1, base.inShape, tensors) }),
  params: (l) => l.beta.data.length,
  macs: () => 0,
  plan(ctx, layer, x) {
    const { B, arena } = ctx;
    const outSize = sizeOf(layer.outShape);
    const { C, HW } = dims(layer.outShape);
    const y = ctx.window(layer);
    const v = arena.allocF32(B * outSize, 'state:membrane');
    const beta = ctx.param(layer.beta, C);
    ctx.record(OP.li, [x, v, y, beta.ptr, B, C, HW, beta.perNeuron, chunk(C, 8)], layer.name);
    const reset = (): void => {
      arena.f32(v, B * outSize).fill(0);
      arena.f32(y, B * outSize).fill(0);
    };
    return { layer, out: y, frameBytes: B * outSize * 4, membrane: v, reset };
  },
  diff(ctx, layer, prev) {
    const { B, arena } = ctx;
    const ex = ctx.core.exports;
    const outSize = sizeOf(layer.outShape);
    const { C, HW } = dims(layer.outShape);
    const perNeuron = layer.beta.per === 'neuron';
    const beta = arena.putF32(expandParam(layer.beta, C, HW, perNeuron));
    const zero = arena.allocF32(B * outSize);
    const outs = ctx.stepOuts(layer);
    const gv = arena.allocF32(B * outSize);
    const grad = arena.allocF32(B * outSize);
    const inGrad = prev.grad;
    const n = B * outSize;
    const fwd = (t: number): void => {
      arena.f32(outs[t], n).set(arena.f32(t === 0 ? zero : outs[t - 1], n));
      ex.li(prev.outs[t], outs[t], beta, B, C, HW, perNeuron ? 1 : 0);
    };
    const bwd = (t: number): void => ex.li_backward(grad, gv, inGrad, t === 0 ? zero : outs[t - 1], 0, beta, B, C, HW, perNeuron ? 1 : 0);
    const clearState = (): void => void arena.f32(gv, n).fill(0);
    return { layer, outs, grad, inGrad, fwd, bwd, clearState };
  },
};
