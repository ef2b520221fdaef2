import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { modelToSafetensors, parseModel } from '../../src/formats/graph.js';
import { ARCH_NAMES, buildArch, describeArch, type ArchOptions } from '../../src/train/arch.js';

const options = (input?: [number, number, number]): ArchOptions => ({
  neuron: 'lif', analog: false, encoding: 'direct', timesteps: 4, labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], name: 't', input,
});

function build(name: string, input?: [number, number, number]) {
  const { graph, tensors } = buildArch(name, options(input), 0);
  return { graph, tensors, model: parseModel(modelToSafetensors(graph, tensors), 't') };
}

describe('architectures and their input size', () => {
  it('keeps the 28x28 layer lists of the existing models', () => {
    expect(describeArch('cnn-s')).toBe('conv 1->16 3x3, spike, avgpool 2, conv 16->32 3x3, spike, avgpool 2, linear 1568->10, li (20 k parameters)');
    expect(describeArch('mlp')).toBe('linear 784->256, spike, linear 256->10, li (204 k parameters)');
    expect(ARCH_NAMES).toEqual(['cnn-s', 'cnn-m', 'cnn-t', 'cnn-th', 'mlp']);
  });

  it('takes 48x48 inputs: the first linear layer widens with the map', () => {
    expect(describeArch('cnn-s', [1, 48, 48])).toMatch(/linear 4608->10, li \(51 k parameters\)$/);
    expect(describeArch('cnn-t', [1, 48, 48])).toBe(
      'conv 1->8 3x3, spike, avgpool 2, conv 8->16 3x3, spike, avgpool 2, conv 16->32 3x3, spike, avgpool 2, linear 1152->10, li (17 k parameters)',
    );
    // [outputs, inputs] of the first linear layer
    const fc1 = { 'cnn-s': [10, 4608], 'cnn-m': [128, 9216], 'cnn-t': [10, 1152], 'cnn-th': [128, 1152], mlp: [256, 2304] };
    for (const [name, shape] of Object.entries(fc1)) {
      const { graph, tensors, model } = build(name, [1, 48, 48]);
      expect((graph.input as { shape: number[] }).shape).toEqual([1, 48, 48]);
      expect(tensors.find((t) => t.name === 'fc1.weight')!.shape).toEqual(shape);
      expect(model.input.shape).toEqual([1, 48, 48]);
      expect(model.layers[model.layers.length - 1].outShape).toEqual([10]);
    }
  });

  it('gives the same weights for 28x28 whether or not the input is named', () => {
    const a = buildArch('cnn-s', options(), 5);
    const b = buildArch('cnn-s', options([1, 28, 28]), 5);
    expect(JSON.stringify(a.graph)).toBe(JSON.stringify(b.graph));
    expect(a.tensors.map((t) => Array.from(t.data as Float32Array).slice(0, 8))).toEqual(b.tensors.map((t) => Array.from(t.data as Float32Array).slice(0, 8)));
  });

  it('refuses inputs its pools cannot halve, and unknown names', () => {
    expect(() => buildArch('cnn-t', options([1, 4, 4]), 0)).toThrow(/too small/);
    expect(() => describeArch('cnn-s', [1, 0, 28])).toThrow(UsageError);
    expect(() => describeArch('toString')).toThrow(UsageError);
    expect(() => buildArch('nope', options(), 0)).toThrow(UsageError);
  });
});
