import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModel } from '../../src/formats/graph.js';
import type { Model } from '../../src/model.js';
import { CONFORMANCE, conformanceFile } from './helpers.js';

function load(name: string): Model {
  return parseModel(conformanceFile(`${name}/model.safetensors`), `${name}/model.safetensors`);
}

function shapes(model: Model): Record<string, readonly number[]> {
  return Object.fromEntries(model.layers.map((l) => [l.name, l.outShape]));
}

const C01_SHAPES = {
  conv1: [8, 28, 28],
  lif1: [8, 28, 28],
  pool1: [8, 14, 14],
  conv2: [16, 12, 12],
  lif2: [16, 12, 12],
  pool2: [16, 6, 6],
  flat: [576],
  fc: [10],
  lif3: [10],
};

describe('conformance model files', () => {
  it('are all here', () => {
    const cases = readdirSync(CONFORMANCE).filter((f) => !f.includes('.'));
    expect(cases).toEqual(expect.arrayContaining([
      'c01-lif-subtract',
      'c02-encoder-poisson',
      'c03a-ncs-inclusive',
      'c03b-ncs-strict',
      'c03c-ncs-official',
      'c04-float32-rounding',
    ]));
  });

  for (const name of ['c01-lif-subtract', 'c03a-ncs-inclusive', 'c03b-ncs-strict', 'c03c-ncs-official']) {
    it(`${name}: the c01 network`, () => {
      const model = load(name);
      expect(model.file).toBe(`${name}/model.safetensors`);
      expect(shapes(model)).toEqual(C01_SHAPES);
      expect(model.layers.map((l) => l.inShape)).toEqual([
        [1, 28, 28],
        ...Object.values(C01_SHAPES).slice(0, -1),
      ]);
      expect(model.input.shape).toEqual([1, 28, 28]);
      expect(model.input.preprocess).toEqual({ scale: 0.00392156862745098, mean: [0], std: [1] });
      expect(model.input.encoding).toEqual({ kind: 'poisson', gain: 1 });
      expect(model.input.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(model.timesteps).toBe(20);
      expect(model.readout).toBe('count');
    });
  }

  it('c01: layer details and weights', () => {
    const model = load('c01-lif-subtract');
    expect(model.name).toBe('c01-lif-subtract');
    const [conv1, lif1, pool1, conv2] = model.layers;
    if (conv1.op !== 'conv2d' || conv2.op !== 'conv2d' || lif1.op !== 'lif' || pool1.op !== 'avgpool2d') {
      expect.fail('unexpected ops');
    }
    expect(conv1.padding).toEqual([1, 1]);
    expect(conv1.weight.shape).toEqual([8, 1, 3, 3]);
    expect([...conv1.weight.data.subarray(0, 4)]).toEqual([0.48828125, 0.5546875, 0.2734375, 0.4765625]);
    expect(conv1.bias).toBeNull();
    expect(conv2.padding).toEqual([0, 0]);
    expect(lif1.beta).toEqual({ per: 'scalar', data: Float32Array.of(0.9) });
    expect(lif1.threshold).toEqual({ per: 'scalar', data: Float32Array.of(1) });
    expect(lif1.vReset).toEqual({ per: 'scalar', data: Float32Array.of(0) });
    expect(lif1.reset).toBe('subtract');
    expect(lif1.resetDelay).toBe(false);
    expect(pool1.kernel).toEqual([2, 2]);
    expect(pool1.stride).toEqual([2, 2]);
    const fc = model.layers[7];
    if (fc.op !== 'linear') expect.fail('fc is not linear');
    expect(fc.weight.shape).toEqual([10, 576]);
    expect(fc.weight.data.reduce((s, v) => s + v, 0)).toBe(31.1015625);
    expect(fc.weight.data[5759]).toBe(-0.33984375);
  });

  it('c02: conv, lif, avgpool, linear with bias, li; final readout', () => {
    const model = load('c02-encoder-poisson');
    expect(shapes(model)).toEqual({
      conv1: [6, 16, 16],
      lif1: [6, 16, 16],
      pool1: [6, 8, 8],
      flat: [384],
      fc: [4],
      out: [4],
    });
    expect(model.timesteps).toBe(12);
    expect(model.readout).toBe('final');
    expect(model.input.labels).toEqual(['0', '1', '2', '3']);
    const [fc, out] = model.layers.slice(4);
    if (fc.op !== 'linear' || out.op !== 'li') expect.fail('unexpected ops');
    expect(fc.bias?.shape).toEqual([4]);
    expect(out.beta).toEqual({ per: 'scalar', data: Float32Array.of(0.9) });
  });

  it('c04: per-channel beta and threshold, direct encoding', () => {
    const model = load('c04-float32-rounding');
    expect(shapes(model)).toEqual({ conv1: [96, 1, 1], lif1: [96, 1, 1], flat: [96], fc: [96], out: [96] });
    expect(model.input.encoding).toEqual({ kind: 'direct', gain: 1 });
    expect(model.input.preprocess.mean).toHaveLength(96);
    expect(model.input.labels).toHaveLength(96);
    expect(model.readout).toBe('final');
    const lif1 = model.layers[1];
    if (lif1.op !== 'lif') expect.fail('lif1 is not lif');
    expect(lif1.beta.per).toBe('channel');
    expect(lif1.beta.data).toHaveLength(96);
    expect(lif1.beta.data[1]).toBe(Math.fround(0.9259289503097534));
    expect(lif1.threshold.per).toBe('channel');
    expect(lif1.threshold.data[1]).toBe(2.454864501953125);
    expect(lif1.vReset.per).toBe('scalar');
  });
});
