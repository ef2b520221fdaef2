/**
 * Helpers the ops share to read a graph layer's fields (docs/model-format.md): tensors checked for dtype, shape and
 * finite values, neuron parameters as scalars, per-channel or per-neuron tensors, PyTorch's size rule.
 */
import type { NeuronParam, Op, Shape, Tensor } from '../model.js';
import { clip, describe, type Fields } from '../formats/json.js';
import type { TensorTable } from './types.js';

export const RESETS = ['subtract', 'zero', 'none'] as const;

/** PyTorch's size rule, rounding down. */
export function outputSize(size: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function convInput(f: Fields, op: Op, inShape: Shape): readonly [number, number, number] {
  if (inShape.length !== 3) f.failAt(`op ${op} needs a conv-shaped [C,H,W] input, got the flat ${show(inShape)}`);
  return [inShape[0], inShape[1], inShape[2]];
}

/** `[C]`, or `[T, C]` (one row per step); a number is the same value for every channel. */
export function affineTensor(f: Fields, layer: string, field: string, channels: number, tensors: TensorTable): Tensor {
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
export function sameRows(scale: Tensor, shift: Tensor, f: Fields): [Tensor, Tensor] {
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
export function neuronParam(
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

export function scalar(value: number): NeuronParam {
  return { per: 'scalar', data: Float32Array.of(value) };
}

export function optionalTensor(f: Fields, field: string, shape: Shape, tensors: TensorTable): Tensor | null {
  const name = f.raw(field) === null ? undefined : f.string(field);
  if (name === undefined) return null;
  const tensor = float32Tensor(f, field, name, tensors);
  expectShape(f, field, tensor, shape);
  return tensor;
}

/** The named tensor as its own aligned float32 copy, after checking that it exists, is F32 and is finite. */
export function float32Tensor(f: Fields, field: string, name: string, tensors: TensorTable): Tensor {
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

export function expectShape(f: Fields, field: string, tensor: Tensor, expected: readonly (number | string)[]): void {
  if (!sameShape(tensor.shape, expected)) {
    f.fail(field, `tensor "${clip(tensor.name)}" has shape ${show(tensor.shape)}, expected ${show(expected)}`);
  }
}

export function sameShape(a: Shape, b: readonly (number | string)[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function show(shape: readonly (number | string)[]): string {
  return shape.length <= 8 ? `[${shape.join(',')}]` : `a shape of rank ${shape.length}`;
}
