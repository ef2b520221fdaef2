import { modelToSafetensors } from '../../src/formats/graph.js';
import type { SafetensorsInput } from '../../src/formats/safetensors.js';

/** Dyadic values, so that tests can compare float32 data exactly. */
export function ramp(n: number, step = 1 / 64): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 17) * step - 0.125);
}

/** A small conv net on [2,8,8]: conv (pad 1) -> lif -> maxpool 2 -> flatten -> linear -> li. */
export function tinyGraph(): Record<string, any> {
  return {
    format: 'spikelens.model/1',
    name: 'tiny',
    input: { shape: [2, 8, 8] },
    timesteps: 4,
    layers: [
      { name: 'conv1', op: 'conv2d', weight: 'conv1.weight', bias: 'conv1.bias', padding: [1, 1] },
      { name: 'lif1', op: 'lif', beta: 0.9 },
      { name: 'pool1', op: 'maxpool2d', kernel: [2, 2] },
      { name: 'flat', op: 'flatten' },
      { name: 'fc', op: 'linear', weight: 'fc.weight' },
      { name: 'out', op: 'li' },
    ],
  };
}

export function tinyTensors(): SafetensorsInput[] {
  return [
    { name: 'conv1.weight', dtype: 'F32', shape: [4, 2, 3, 3], data: ramp(72) },
    { name: 'conv1.bias', dtype: 'F32', shape: [4], data: Float32Array.of(0.5, -0.5, 0, 1) },
    { name: 'fc.weight', dtype: 'F32', shape: [3, 64], data: ramp(192) },
  ];
}

/** The tiny model file after `change` edits a fresh copy of its graph (and, optionally, its tensors). */
export function tinyModel(
  change: (graph: Record<string, any>) => void = () => {},
  tensors: SafetensorsInput[] = tinyTensors(),
): Uint8Array {
  const graph = tinyGraph();
  change(graph);
  return modelToSafetensors(graph, tensors);
}

export function f32(name: string, shape: number[], data: Float32Array = ramp(shape.reduce((n, d) => n * d, 1))): SafetensorsInput {
  return { name, dtype: 'F32', shape, data };
}
