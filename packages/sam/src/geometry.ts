import type { Conv2dLayer, LinearLayer, NeuronParam, PoolLayer, Shape } from './model.js';
import { sizeOf } from './model.js';

/** The kernels' view of a per-sample shape: conv-shaped [C, H, W], or flat [N] as C = N, H = W = 1. */
export function dims(shape: Shape): { C: number; H: number; W: number; HW: number } {
  if (shape.length === 3) return { C: shape[0], H: shape[1], W: shape[2], HW: shape[1] * shape[2] };
  return { C: shape[0], H: 1, W: 1, HW: 1 };
}

/** Every size a conv kernel call takes; a linear layer is the 1x1 conv of a 1x1 image. */
export interface ConvGeometry {
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly Cout: number;
  readonly Ho: number;
  readonly Wo: number;
  readonly kH: number;
  readonly kW: number;
  readonly sH: number;
  readonly sW: number;
  readonly pH: number;
  readonly pW: number;
  readonly dH: number;
  readonly dW: number;
  readonly groups: number;
}

export function convGeometry(layer: Conv2dLayer | LinearLayer): ConvGeometry {
  if (layer.op === 'linear')
    return { C: sizeOf(layer.inShape), H: 1, W: 1, Cout: layer.outShape[0], Ho: 1, Wo: 1, kH: 1, kW: 1, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1, groups: 1 };
  const { C, H, W } = dims(layer.inShape);
  return {
    C, H, W,
    Cout: layer.outShape[0], Ho: layer.outShape[1], Wo: layer.outShape[2],
    kH: layer.weight.shape[2], kW: layer.weight.shape[3],
    sH: layer.stride[0], sW: layer.stride[1],
    pH: layer.padding[0], pW: layer.padding[1],
    dH: layer.dilation[0], dW: layer.dilation[1],
    groups: layer.groups,
  };
}

/** The pool kernels' kind (0 avg, 1 sum, 2 max) and sizes. */
export function poolGeometry(layer: PoolLayer) {
  const { C, H, W } = dims(layer.inShape);
  return {
    kind: layer.op === 'avgpool2d' ? 0 : layer.op === 'sumpool2d' ? 1 : 2,
    C, H, W, Ho: layer.outShape[1], Wo: layer.outShape[2],
    kH: layer.kernel[0], kW: layer.kernel[1], sH: layer.stride[0], sW: layer.stride[1], pH: layer.padding[0], pW: layer.padding[1],
  };
}

/** A neuron parameter at the resolution a kernel reads: C values, or C*HW when `perNeuron`. */
export function expandParam(p: NeuronParam, C: number, HW: number, perNeuron: boolean): Float32Array {
  if (p.per === 'neuron') return p.data;
  const per = perNeuron ? HW : 1;
  const out = new Float32Array(C * per);
  for (let c = 0; c < C; c++) out.fill(p.per === 'channel' ? p.data[c] : p.data[0], c * per, (c + 1) * per);
  return out;
}
