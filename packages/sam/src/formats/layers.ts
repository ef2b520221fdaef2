/**
 * One graph layer (docs/model-format.md) from its JSON fields and the file's tensors: defaults applied, tensors checked against
 * the layer's input shape, output shape inferred (per sample, no batch axis).
 */
import type { Layer, NeuronParam, Op, ResetRule, Shape, Tensor } from '../model.js';
import { sizeOf } from '../model.js';
import { clip, describe, type Fields } from './json.js';
import type { SafetensorsTensor } from './safetensors.js';

export const OPS: readonly Op[] = [
  'conv2d',
  'linear',
  'avgpool2d',
  'sumpool2d',
  'maxpool2d',
  'flatten',
  'affine',
  'lif',
  'if',
  'cubalif',
  'li',
  'relu',
];

const FIELDS: Record<Op, readonly string[]> = {
  conv2d: ['weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
  linear: ['weight', 'bias'],
  avgpool2d: ['kernel', 'stride', 'padding'],
  sumpool2d: ['kernel', 'stride', 'padding'],
  maxpool2d: ['kernel', 'stride', 'padding'],
  flatten: [],
  affine: ['scale', 'shift'],
  lif: ['beta', 'threshold', 'reset', 'resetDelay', 'vReset', 'fireAtThreshold'],
  if: ['threshold', 'reset', 'resetDelay', 'vReset', 'fireAtThreshold'],
  cubalif: ['alpha', 'beta', 'threshold', 'reset', 'resetDelay', 'vReset', 'fireAtThreshold'],
  li: ['beta'],
  relu: [],
};

const RESETS: readonly ResetRule[] = ['subtract', 'zero', 'none'];

export type TensorTable = ReadonlyMap<string, SafetensorsTensor>;

export function parseLayer(f: Fields, name: string, op: Op, inShape: Shape, tensors: TensorTable): Layer {
  f.only(['name', 'op', ...FIELDS[op]], `op ${op}`);
  const base = { name, inShape };
  switch (op) {
    case 'conv2d':
      return conv2d(f, base, tensors);
    case 'linear':
      return linear(f, base, tensors);
    case 'avgpool2d':
    case 'sumpool2d':
    case 'maxpool2d':
      return pool(f, op, base);
    case 'flatten':
      return { ...base, op, outShape: [sizeOf(inShape)] };
    case 'relu':
      return { ...base, op, outShape: inShape };
    case 'affine': {
      const channels = inShape[0];
      const [scale, shift] = sameRows(
        affineTensor(f, name, 'scale', channels, tensors),
        affineTensor(f, name, 'shift', channels, tensors),
        f,
      );
      return { ...base, op, outShape: inShape, scale, shift };
    }
    case 'lif':
    case 'if':
    case 'cubalif': {
      const beta = op === 'if' ? scalar(1) : neuronParam(f, 'beta', undefined, inShape, tensors);
      const alpha = op === 'cubalif' ? { alpha: neuronParam(f, 'alpha', undefined, inShape, tensors) } : {};
      return {
        ...base,
        op,
        outShape: inShape,
        beta,
        ...alpha,
        threshold: neuronParam(f, 'threshold', 1, inShape, tensors),
        vReset: neuronParam(f, 'vReset', 0, inShape, tensors),
        reset: f.choice('reset', RESETS, 'subtract'),
        resetDelay: f.boolean('resetDelay', false),
        fireAtThreshold: f.boolean('fireAtThreshold', false),
      };
    }
    case 'li':
      return { ...base, op, outShape: inShape, beta: neuronParam(f, 'beta', 1, inShape, tensors) };
  }
}

interface Base {
  readonly name: string;
  readonly inShape: Shape;
}

function conv2d(f: Fields, base: Base, tensors: TensorTable): Layer {
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

function linear(f: Fields, base: Base, tensors: TensorTable): Layer {
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

function pool(f: Fields, op: 'avgpool2d' | 'sumpool2d' | 'maxpool2d', base: Base): Layer {
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

/** PyTorch's size rule, rounding down. */
function outputSize(size: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

function convInput(f: Fields, op: Op, inShape: Shape): readonly [number, number, number] {
  if (inShape.length !== 3) f.failAt(`op ${op} needs a conv-shaped [C,H,W] input, got the flat ${show(inShape)}`);
  return [inShape[0], inShape[1], inShape[2]];
}

/** `[C]`, or `[T, C]` (one row per step); a number is the same value for every channel. */
function affineTensor(f: Fields, layer: string, field: string, channels: number, tensors: TensorTable): Tensor {
  const value = f.raw(field);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) f.fail(field, `${describe(value)} is not a finite number`);
    if (!Number.isFinite(Math.fround(value))) f.fail(field, `${value} is beyond float32's range`);
    return { name: `${layer}.${field}`, shape: [channels], data: new Float32Array(channels).fill(value) };
  }
  const tensor = float32Tensor(f, field, f.requiredString(field), tensors);
  const { shape } = tensor;
  const ok = shape[shape.length - 1] === channels && (shape.length === 1 || (shape.length === 2 && shape[0] >= 1));
  if (!ok) f.fail(field, `tensor "${clip(tensor.name)}" has shape ${show(shape)}, expected [${channels}] or [T,${channels}]`);
  return tensor;
}

/**
 * Gives scale and shift the same rows, so the kernel can take row t of both: a `[C]` one beside a `[T,C]` one is
 * repeated for every step; two different T are an error.
 */
function sameRows(scale: Tensor, shift: Tensor, f: Fields): [Tensor, Tensor] {
  if (sameShape(scale.shape, shift.shape)) return [scale, shift];
  if (scale.shape.length === 2 && shift.shape.length === 2)
    f.fail('shift', `tensor "${clip(shift.name)}" has shape ${show(shift.shape)}, but scale has ${show(scale.shape)}: per-step rows must match`);
  const rows = Math.max(scale.shape.length === 2 ? scale.shape[0] : 1, shift.shape.length === 2 ? shift.shape[0] : 1);
  const repeat = (t: Tensor): Tensor => {
    if (t.shape.length === 2) return t;
    const data = new Float32Array(rows * t.data.length);
    for (let r = 0; r < rows; r++) data.set(t.data, r * t.data.length);
    return { name: t.name, shape: [rows, t.data.length], data };
  };
  return [repeat(scale), repeat(shift)];
}

/** A number, a `[C]` tensor (per channel) or a tensor of the layer's whole shape (per neuron). */
function neuronParam(
  f: Fields,
  field: string,
  fallback: number | undefined,
  shape: Shape,
  tensors: TensorTable,
): NeuronParam {
  const value = f.raw(field) ?? fallback;
  if (value === undefined) f.fail(field, 'is required');
  if (typeof value === 'number') {
    // Checked as the float32 the kernels use: 1e308 is a finite float64 but an infinite float32.
    if (!Number.isFinite(value)) f.fail(field, `${describe(value)} is not a finite number`);
    if (!Number.isFinite(Math.fround(value))) f.fail(field, `${value} is beyond float32's range`);
    return scalar(value);
  }
  if (typeof value !== 'string') f.fail(field, `${describe(value)} is not a number or a tensor name`);
  const tensor = float32Tensor(f, field, value as string, tensors);
  if (sameShape(tensor.shape, [shape[0]])) return { per: 'channel', data: tensor.data };
  if (sameShape(tensor.shape, shape)) return { per: 'neuron', data: tensor.data };
  const expected = `[${shape[0]}] (per channel) or ${show(shape)} (per neuron)`;
  return f.fail(field, `tensor "${clip(tensor.name)}" has shape ${show(tensor.shape)}, expected ${expected}`);
}

function scalar(value: number): NeuronParam {
  return { per: 'scalar', data: Float32Array.of(value) };
}

function optionalTensor(f: Fields, field: string, shape: Shape, tensors: TensorTable): Tensor | null {
  const name = f.raw(field) === null ? undefined : f.string(field);
  if (name === undefined) return null;
  const tensor = float32Tensor(f, field, name, tensors);
  expectShape(f, field, tensor, shape);
  return tensor;
}

/** The named tensor as its own aligned float32 copy, after checking that it exists, is F32 and is finite. */
function float32Tensor(f: Fields, field: string, name: string, tensors: TensorTable): Tensor {
  const stored = tensors.get(name);
  if (!stored) return f.fail(field, `no tensor "${clip(name)}" in the file`);
  if (stored.dtype !== 'F32') f.fail(field, `tensor "${clip(name)}" has dtype ${stored.dtype}, expected F32`);
  // new Uint8Array(view) copies into a fresh buffer (a Node Buffer's slice() would only make a view), so the
  // float view is aligned whatever the tensor's offset in the file, and the model owns its weights. Read in platform order: the project assumes a little-endian host, as WebAssembly is.
  const data = new Float32Array(new Uint8Array(stored.data).buffer);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) f.fail(field, `tensor "${clip(name)}" element ${bad} is ${data[bad]}, expected finite values`);
  return { name, shape: stored.shape, data };
}

function expectShape(f: Fields, field: string, tensor: Tensor, expected: readonly (number | string)[]): void {
  if (!sameShape(tensor.shape, expected)) {
    f.fail(field, `tensor "${clip(tensor.name)}" has shape ${show(tensor.shape)}, expected ${show(expected)}`);
  }
}

function sameShape(a: Shape, b: readonly (number | string)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function show(shape: readonly (number | string)[]): string {
  return shape.length <= 8 ? `[${shape.join(',')}]` : `a shape of rank ${shape.length}`;
}
