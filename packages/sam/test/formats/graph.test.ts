import { describe, expect, it } from 'vitest';
import { modelToSafetensors, parseModel } from '../../src/formats/graph.js';
import { readSafetensors, writeSafetensors } from '../../src/formats/safetensors.js';
import type { Layer, Model } from '../../src/model.js';
import { f32, ramp, tinyGraph, tinyModel, tinyTensors } from './fixtures.js';
import { container, inputError } from './helpers.js';

const F = 'm.safetensors';
const parse = (bytes: Uint8Array): Model => parseModel(bytes, F);
const layer = (model: Model, name: string): Layer => model.layers.find((l) => l.name === name)!;
/** The message of the InputError the tiny model throws after `change`, without the file prefix. */
const problem = (...args: Parameters<typeof tinyModel>): string => {
  const message = inputError(() => parse(tinyModel(...args))).message;
  expect(message.startsWith(`${F}: `)).toBe(true);
  return message.slice(F.length + 2);
};

describe('parseModel', () => {
  it('reads the weights of a Node Buffer from a shared pool as of a plain Uint8Array (Buffer.slice is a view)', () => {
    const bytes = tinyModel();
    // A Buffer inside a larger ArrayBuffer, at an odd offset, as small reads from Node's pool are.
    const pool = Buffer.alloc(bytes.length + 3 + 64, 0x7f);
    const inPool = pool.subarray(3, 3 + bytes.length);
    inPool.set(bytes);
    const a = parse(bytes);
    const b = parse(inPool);
    for (let i = 0; i < a.layers.length; i++) {
      const la = a.layers[i] as { weight?: { data: Float32Array } };
      const lb = b.layers[i] as { weight?: { data: Float32Array } };
      if (la.weight) expect(Array.from(lb.weight!.data)).toEqual(Array.from(la.weight.data));
    }
    expect(a.layers.some((l) => 'weight' in l)).toBe(true);
  });

  it('applies the defaults of docs/model-format.md', () => {
    const model = parse(tinyModel((g) => delete g.timesteps));
    expect(model.name).toBe('tiny');
    expect(model.file).toBe(F);
    expect(model.timesteps).toBeNull();
    expect(model.readout).toBe('final');
    expect(model.input).toEqual({
      shape: [2, 8, 8],
      preprocess: { scale: 1, mean: [0], std: [1] },
      encoding: { kind: 'poisson', gain: 1 },
      labels: null,
    });
    expect(model.meta).toBeUndefined();
    const conv1 = layer(model, 'conv1');
    expect(conv1).toMatchObject({ stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, outShape: [4, 8, 8] });
    expect(layer(model, 'lif1')).toMatchObject({
      threshold: { per: 'scalar', data: Float32Array.of(1) },
      vReset: { per: 'scalar', data: Float32Array.of(0) },
      reset: 'subtract',
      resetDelay: false,
    });
    expect(layer(model, 'pool1')).toMatchObject({ stride: [2, 2], padding: [0, 0], outShape: [4, 4, 4] });
    expect(layer(model, 'flat').outShape).toEqual([64]);
    expect(layer(model, 'fc')).toMatchObject({ bias: null, inShape: [64], outShape: [3] });
    expect(layer(model, 'out')).toMatchObject({ op: 'li', beta: { per: 'scalar', data: Float32Array.of(1) } });
  });

  it('keeps tensor data as aligned float32 copies', () => {
    const model = parse(tinyModel());
    const conv1 = layer(model, 'conv1');
    if (conv1.op !== 'conv2d') expect.fail('conv1 is not conv2d');
    expect(conv1.weight).toEqual({ name: 'conv1.weight', shape: [4, 2, 3, 3], data: ramp(72) });
    expect(conv1.bias?.data).toEqual(Float32Array.of(0.5, -0.5, 0, 1));
    expect(conv1.weight.data.byteOffset).toBe(0);
  });

  it('infers conv and pool sizes with stride, padding, dilation and groups', () => {
    const model = parse(
      tinyModel(
        (g) => {
          g.layers[0] = { ...g.layers[0], stride: [2, 2], padding: [1, 2], dilation: [2, 2], groups: 2 };
          g.layers[2] = { name: 'pool1', op: 'avgpool2d', kernel: [3, 2], stride: [1, 2], padding: [1, 1] };
        },
        [f32('conv1.weight', [4, 1, 3, 3]), f32('conv1.bias', [4]), f32('fc.weight', [3, 36])],
      ),
    );
    expect(model.layers.map((l) => l.outShape)).toEqual([[4, 3, 4], [4, 3, 4], [4, 3, 3], [36], [3], [3]]);
    expect(layer(model, 'conv1')).toMatchObject({ stride: [2, 2], padding: [1, 2], dilation: [2, 2], groups: 2 });
    expect(layer(model, 'pool1')).toMatchObject({ op: 'avgpool2d', kernel: [3, 2], stride: [1, 2], padding: [1, 1] });
  });

  it('reads every lif/if/li option, per-channel and per-neuron parameters', () => {
    const model = parse(
      tinyModel(
        (g) => {
          g.layers[1] = { name: 'lif1', op: 'lif', beta: 'b.c', threshold: 'th.n', vReset: -0.5, reset: 'zero', resetDelay: true };
          g.layers.splice(2, 0, { name: 'if1', op: 'if', threshold: 2, reset: 'none' });
          g.layers[6] = { name: 'out', op: 'li', beta: 'b.out' };
        },
        [...tinyTensors(), f32('b.c', [4]), f32('th.n', [4, 8, 8]), f32('b.out', [3])],
      ),
    );
    expect(layer(model, 'lif1')).toMatchObject({
      beta: { per: 'channel', data: ramp(4) },
      threshold: { per: 'neuron', data: ramp(256) },
      vReset: { per: 'scalar', data: Float32Array.of(-0.5) },
      reset: 'zero',
      resetDelay: true,
    });
    expect(layer(model, 'if1')).toMatchObject({
      op: 'if',
      beta: { per: 'scalar', data: Float32Array.of(1) },
      threshold: { per: 'scalar', data: Float32Array.of(2) },
      reset: 'none',
      outShape: [4, 8, 8],
    });
    expect(layer(model, 'out')).toMatchObject({ beta: { per: 'channel', data: ramp(3) } });
  });

  it('reads affine (numbers, [C] and [T,C]), relu and flatten of a flat input', () => {
    const model = parse(
      tinyModel(
        (g) => {
          g.layers.splice(1, 0, { name: 'bn1', op: 'affine', scale: 'bn1.scale', shift: 0.25 }, { name: 'act', op: 'relu' });
          g.layers.splice(6, 0, { name: 'flat2', op: 'flatten' }, { name: 'bn2', op: 'affine', scale: 2, shift: 'bn2.shift' });
        },
        [...tinyTensors(), f32('bn1.scale', [5, 4]), f32('bn2.shift', [64])],
      ),
    );
    expect(model.layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'act', 'lif1', 'pool1', 'flat', 'flat2', 'bn2', 'fc', 'out']);
    expect(layer(model, 'bn1')).toMatchObject({
      outShape: [4, 8, 8],
      scale: { name: 'bn1.scale', shape: [5, 4], data: ramp(20) },
      shift: { name: 'bn1.shift', shape: [5, 4], data: new Float32Array(20).fill(0.25) },
    });
    expect(layer(model, 'act').outShape).toEqual([4, 8, 8]);
    expect(layer(model, 'flat2')).toMatchObject({ inShape: [64], outShape: [64] });
    expect(layer(model, 'bn2')).toMatchObject({ scale: { shape: [64], data: new Float32Array(64).fill(2) }, shift: { shape: [64] } });
  });

  it('accepts flat inputs, preprocessing per channel, labels, meta, extra tensors and metadata', () => {
    const graph = {
      format: 'spikelens.model/1',
      name: 'flat',
      meta: { author: 'x', accuracy: 0.9 },
      input: {
        shape: [6],
        preprocess: { scale: 0.5, mean: [1, 2, 3, 4, 5, 6], std: [2] },
        encoding: { kind: 'signed-poisson', gain: 0.5 },
        labels: ['a', 'b'],
      },
      timesteps: 3,
      readout: 'count',
      layers: [
        { name: '0', op: 'linear', weight: 'w', bias: 'b' },
        { name: '1', op: 'if' },
      ],
    };
    const bytes = writeSafetensors([f32('w', [2, 6]), f32('b', [2]), f32('unused', [7])], {
      spikelens: JSON.stringify(graph),
      other: 'ignored',
    });
    const model = parse(bytes);
    expect(model.meta).toEqual({ author: 'x', accuracy: 0.9 });
    expect(model.input.preprocess).toEqual({ scale: 0.5, mean: [1, 2, 3, 4, 5, 6], std: [2] });
    expect(model.input.encoding).toEqual({ kind: 'signed-poisson', gain: 0.5 });
    expect(model.input.labels).toEqual(['a', 'b']);
    expect(model.readout).toBe('count');
    expect(model.layers.map((l) => l.outShape)).toEqual([[2], [2]]);
  });

  it('reads fireAtThreshold on lif, if and cubalif (default false) from a hand-made .safetensors file', () => {
    // The file written byte by byte (docs/model-format.md): an 8-byte header length, the JSON header with the graph
    // under __metadata__.spikelens, then one F32 tensor of two per-neuron thresholds (0.3 and 1, little-endian).
    const graph = {
      format: 'spikelens.model/1',
      input: { shape: [2] },
      layers: [
        { name: 'a', op: 'lif', beta: 0.5, threshold: 'thr', reset: 'subtract', fireAtThreshold: true },
        { name: 'b', op: 'if', threshold: 0.25, reset: 'zero', fireAtThreshold: false },
        { name: 'c', op: 'cubalif', alpha: 0.5, beta: 0.75, fireAtThreshold: true, resetDelay: true },
        { name: 'd', op: 'lif', beta: 0.5 },
      ],
    };
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 0.3, true);
    new DataView(data.buffer).setFloat32(4, 1, true);
    const bytes = container({ __metadata__: { spikelens: JSON.stringify(graph) }, thr: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, data);
    const model = parse(bytes);
    expect(model.layers.map((l) => (l as { fireAtThreshold?: boolean }).fireAtThreshold)).toEqual([true, false, true, false]);
    expect(layer(model, 'a')).toMatchObject({ threshold: { per: 'channel', data: Float32Array.of(0.3, 1) }, reset: 'subtract' });
    expect(layer(model, 'c')).toMatchObject({ op: 'cubalif', resetDelay: true, threshold: { per: 'scalar', data: Float32Array.of(1) } });
    // ... and again through the writer: the field is part of the graph, so it comes back as it went in.
    const again = parse(modelToSafetensors(graph, [{ name: 'thr', dtype: 'F32', shape: [2], data: Float32Array.of(0.3, 1) }]));
    expect(again.layers).toEqual(model.layers);
  });

  it('modelToSafetensors stores the graph under __metadata__.spikelens', () => {
    const bytes = modelToSafetensors({ format: 'spikelens.model/1', any: 'thing' }, tinyTensors());
    const { metadata, tensors } = readSafetensors(bytes, F);
    expect(metadata).toEqual({ spikelens: '{"format":"spikelens.model/1","any":"thing"}' });
    expect(tensors.size).toBe(3);
  });
});

describe('parseModel errors', () => {
  it('needs the spikelens metadata, as a JSON object of the right format', () => {
    const message = (metadata?: Record<string, string>) =>
      inputError(() => parse(writeSafetensors(tinyTensors(), metadata))).message;
    expect(message()).toBe(`${F}: safetensors __metadata__ has no "spikelens" entry, so this is not a spikelens model`);
    expect(message({ other: '{}' })).toContain('no "spikelens" entry');
    expect(message({ spikelens: '{"format": ' })).toMatch(/^m\.safetensors: __metadata__ "spikelens" is not valid JSON \(.+\)$/);
    expect(message({ spikelens: '[]' })).toBe(`${F}: __metadata__ "spikelens" is [], expected a JSON object`);
    expect(problem((g) => (g.format = 'spikelens.model/2'))).toBe(
      'field "format": "spikelens.model/2" is not "spikelens.model/1"',
    );
    expect(problem((g) => delete g.format)).toBe('field "format": missing is not "spikelens.model/1"');
  });

  it('refuses unknown fields everywhere', () => {
    expect(problem((g) => (g.timestep = 4))).toBe(
      'field "timestep": unknown field for the model graph (expected one of format, name, input, timesteps, readout, layers, meta)',
    );
    expect(problem((g) => (g.layers[0].strides = [1, 1]))).toBe(
      'layer "conv1" field "strides": unknown field for op conv2d (expected one of name, op, weight, bias, stride, padding, dilation, groups)',
    );
    expect(problem((g) => (g.layers[0].meta = {}))).toContain('layer "conv1" field "meta": unknown field for op conv2d');
    expect(problem((g) => (g.layers[1] = { name: 'lif1', op: 'if', beta: 0.9 }))).toBe(
      'layer "lif1" field "beta": unknown field for op if (expected one of name, op, threshold, reset, resetDelay, vReset, fireAtThreshold)',
    );
    expect(problem((g) => (g.layers[3].weight = 'x'))).toBe(
      'layer "flat" field "weight": unknown field for op flatten (expected one of name, op)',
    );
    expect(problem((g) => (g.input.size = 3))).toBe(
      'field "input.size": unknown field for input (expected one of shape, preprocess, encoding, labels)',
    );
    expect(problem((g) => (g.input.preprocess = { scale: 1, offset: 0 }))).toBe(
      'field "input.preprocess.offset": unknown field for preprocess (expected one of scale, mean, std)',
    );
    expect(problem((g) => (g.input.encoding = { kind: 'poisson', seed: 1 }))).toContain('field "input.encoding.seed": unknown field');
  });

  it('refuses unknown ops and missing required fields', () => {
    expect(problem((g) => (g.layers[0].op = 'conv3d'))).toBe(
      'layer "conv1" field "op": unknown op "conv3d" (expected one of conv2d, linear, avgpool2d, sumpool2d, maxpool2d, flatten, affine, lif, if, cubalif, li, relu)',
    );
    expect(problem((g) => delete g.layers[2].op)).toContain('layer "pool1" field "op": unknown op missing');
    expect(problem((g) => delete g.layers[1].beta)).toBe('layer "lif1" field "beta": is required');
    expect(problem((g) => delete g.layers[0].weight)).toBe('layer "conv1" field "weight": is required');
    expect(problem((g) => delete g.layers[2].kernel)).toBe('layer "pool1" field "kernel": is required');
    expect(problem((g) => delete g.input)).toBe('field "input": is required');
    expect(problem((g) => delete g.input.shape)).toBe('field "input.shape": missing is not [C, H, W] or [N] of positive integers');
    expect(problem((g) => (g.layers = []))).toBe('field "layers": [] is not a non-empty list of layers');
    expect(problem((g) => (g.layers[4] = 'fc'))).toBe('field "layers[4]": "fc" is not an object');
  });

  it('checks layer names', () => {
    expect(problem((g) => (g.layers[1].name = 'lif 1'))).toBe(
      'layers[1] field "name": "lif 1" does not match ^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
    );
    expect(problem((g) => (g.layers[1].name = '.hidden'))).toContain('does not match');
    expect(problem((g) => (g.layers[1].name = 'a/b'))).toContain('does not match');
    expect(problem((g) => (g.layers[4].name = 'conv1'))).toBe('layers[4] field "name": "conv1" is already the name of layers[0]');
    expect(problem((g) => (g.layers[0].name = 'input'))).toBe(`layers[0] field "name": "input" is reserved for the encoder's output`);
    expect(problem((g) => delete g.layers[2].name)).toBe('layers[2] field "name": is required');
    expect(problem((g) => (g.layers[2].name = 7))).toBe('layers[2] field "name": 7 is not a string');
  });

  it('checks tensors: present, F32, of the right shape, finite', () => {
    const tensors = tinyTensors();
    expect(problem((g) => (g.layers[4].weight = 'fc.w'))).toBe('layer "fc" field "weight": no tensor "fc.w" in the file');
    const f16 = [tensors[0], tensors[1], { name: 'fc.weight', dtype: 'F16', shape: [3, 64], data: new Uint16Array(192) } as const];
    expect(problem(() => {}, f16)).toBe('layer "fc" field "weight": tensor "fc.weight" has dtype F16, expected F32');
    expect(problem(() => {}, [f32('conv1.weight', [4, 1, 3, 3]), tensors[1], tensors[2]])).toBe(
      'layer "conv1" field "weight": tensor "conv1.weight" has shape [4,1,3,3], expected [4,2,3,3]',
    );
    expect(problem(() => {}, [f32('conv1.weight', [4, 2, 3]), tensors[1], tensors[2]])).toBe(
      'layer "conv1" field "weight": tensor "conv1.weight" has shape [4,2,3], expected [Cout, Cin/groups, kH, kW] of positive sizes',
    );
    expect(problem(() => {}, [tensors[0], f32('conv1.bias', [3]), tensors[2]])).toBe(
      'layer "conv1" field "bias": tensor "conv1.bias" has shape [3], expected [4]',
    );
    expect(problem(() => {}, [tensors[0], tensors[1], f32('fc.weight', [3, 63])])).toBe(
      'layer "fc" field "weight": tensor "fc.weight" has shape [3,63], expected [3,64]',
    );
    expect(problem(() => {}, [tensors[0], tensors[1], f32('fc.weight', [192])])).toBe(
      'layer "fc" field "weight": tensor "fc.weight" has shape [192], expected [out,64]',
    );
    const nan = ramp(72);
    nan[17] = NaN;
    expect(problem(() => {}, [f32('conv1.weight', [4, 2, 3, 3], nan), tensors[1], tensors[2]])).toBe(
      'layer "conv1" field "weight": tensor "conv1.weight" element 17 is NaN, expected finite values',
    );
    const inf = ramp(4);
    inf[3] = -Infinity;
    expect(problem((g) => (g.layers[1].threshold = 't'), [...tensors, f32('t', [4], inf)])).toBe(
      'layer "lif1" field "threshold": tensor "t" element 3 is -Infinity, expected finite values',
    );
  });

  it('checks conv groups, output sizes and the input shape each op needs', () => {
    expect(problem((g) => (g.layers[0].groups = 3))).toBe('layer "conv1" field "groups": 3 does not divide the 2 input channels');
    expect(problem((g) => (g.layers[0].groups = 2), [f32('conv1.weight', [3, 1, 3, 3]), f32('conv1.bias', [3]), tinyTensors()[2]])).toBe(
      'layer "conv1" field "groups": 2 does not divide the 3 output channels of tensor "conv1.weight"',
    );
    expect(problem((g) => (g.layers[0].groups = 0))).toBe('layer "conv1" field "groups": 0 is not an integer >= 1');
    expect(problem((g) => ((g.input.shape = [2, 1, 8]), (g.layers[0].padding = [0, 1])))).toBe(
      'layer "conv1" field "weight": output size -1x8 is not positive (input 1x8, kernel 3x3, stride [1,1], padding [0,1], dilation [1,1])',
    );
    expect(problem((g) => (g.layers[2].kernel = [9, 2]))).toBe(
      'layer "pool1" field "kernel": output size 0x4 is not positive (input 8x8, kernel [9,2], stride [9,2], padding [0,0])',
    );
    expect(problem((g) => (g.layers[2].padding = [1, 2]))).toBe('layer "pool1" field "padding": [1,2] is more than half the kernel [2,2]');
    expect(problem((g) => (g.layers[0].stride = [1, 0]))).toBe('layer "conv1" field "stride": [1,0] is not a pair [h, w] of integers >= 1');
    expect(problem((g) => (g.layers[0].padding = 1))).toBe('layer "conv1" field "padding": 1 is not a pair [h, w] of integers >= 0');
    expect(problem((g) => g.layers.splice(3, 1))).toBe(
      'layer "fc": op linear needs a flat [N] input, got [4,4,4] (put a flatten layer before it)',
    );
    expect(problem((g) => g.layers.splice(3, 0, { name: 'p', op: 'flatten' }, { name: 'q', op: 'sumpool2d', kernel: [1, 1] }))).toBe(
      'layer "q": op sumpool2d needs a conv-shaped [C,H,W] input, got the flat [64]',
    );
  });

  it('checks neuron and affine parameters', () => {
    const t = tinyTensors();
    expect(problem((g) => (g.layers[1].beta = 'b'), [...t, f32('b', [5])])).toBe(
      'layer "lif1" field "beta": tensor "b" has shape [5], expected [4] (per channel) or [4,8,8] (per neuron)',
    );
    expect(problem((g) => (g.layers[1].beta = true))).toBe('layer "lif1" field "beta": true is not a number or a tensor name');
    expect(problem((g) => (g.layers[1].reset = 'hard'))).toBe('layer "lif1" field "reset": "hard" is not one of subtract, zero, none');
    expect(problem((g) => (g.layers[1].resetDelay = 1))).toBe('layer "lif1" field "resetDelay": 1 is not true or false');
    expect(problem((g) => (g.layers[1].fireAtThreshold = 'yes'))).toBe('layer "lif1" field "fireAtThreshold": "yes" is not true or false');
    expect(problem((g) => (g.layers[5].fireAtThreshold = true))).toMatch(/^layer "out" field "fireAtThreshold": unknown field for op li/);
    const json = JSON.stringify(tinyGraph()).replace('"beta":0.9', '"beta":0.9,"vReset":-1e999');
    expect(inputError(() => parse(writeSafetensors(t, { spikelens: json }))).message).toBe(
      `${F}: layer "lif1" field "vReset": -Infinity is not a finite number`,
    );
    const affine = (scale: unknown, extra: ReturnType<typeof f32>[]) =>
      problem((g) => g.layers.splice(1, 0, { name: 'bn', op: 'affine', scale, shift: 0 }), [...t, ...extra]);
    expect(affine('s', [f32('s', [2, 3])])).toBe('layer "bn" field "scale": tensor "s" has shape [2,3], expected [4] or [T,4]');
    expect(affine('s', [f32('s', [4, 8, 8])])).toContain('expected [4] or [T,4]');
    expect(affine('s', [f32('s', [0, 4])])).toContain('has shape [0,4], expected [4] or [T,4]');
    expect(affine(undefined, [])).toBe('layer "bn" field "scale": is required');
  });

  it('checks the readout against the last layer', () => {
    const lifLast = (g: Record<string, any>) => (g.layers[5] = { name: 'out', op: 'lif', beta: 1 });
    expect(parse(tinyModel(lifLast)).readout).toBe('count');
    expect(parse(tinyModel((g) => (g.readout = 'mean'))).readout).toBe('mean');
    expect(problem((g) => (g.readout = 'count'))).toBe('field "readout": "count" needs a last lif, if or cubalif layer, but "out" is li');
    expect(problem((g) => (lifLast(g), (g.readout = 'final')))).toBe(
      'field "readout": "final" needs a last li layer, but "out" is lif',
    );
    expect(problem((g) => (g.layers[5] = { name: 'act', op: 'relu' }))).toBe(
      'field "readout": has no default after the relu layer "act" (expected a last lif, if, cubalif or li layer)',
    );
    expect(problem((g) => (g.readout = 'max'))).toBe('field "readout": "max" is not one of final, mean, count');
  });

  it('checks the input, labels, timesteps, name and meta', () => {
    expect(problem((g) => (g.input.labels = ['a', 'b']))).toBe('field "input.labels": 2 labels for the 3 outputs of last layer "out"');
    expect(problem((g) => (g.input.labels = [1, 2, 3]))).toBe('field "input.labels": [1,2,3] is not a list of strings');
    expect(problem((g) => (g.input.shape = [2, 8]))).toBe('field "input.shape": [2,8] is not [C, H, W] or [N] of positive integers');
    expect(problem((g) => (g.input.shape = [2, 0, 8]))).toContain('field "input.shape": [2,0,8] is not');
    expect(problem((g) => (g.input.preprocess = { std: [1, 0] }))).toBe('field "input.preprocess.std": value 1 is 0, expected nonzero values');
    expect(problem((g) => (g.input.preprocess = { mean: [0, 0, 0] }))).toBe(
      'field "input.preprocess.mean": has 3 values, expected 1 or 2 (one per channel)',
    );
    expect(problem((g) => (g.input.preprocess = { mean: 0 }))).toBe('field "input.preprocess.mean": 0 is not a list of finite numbers');
    expect(problem((g) => (g.input.preprocess = 1))).toBe('field "input.preprocess": 1 is not an object');
    expect(problem((g) => (g.input.encoding = { kind: 'rate' }))).toBe(
      'field "input.encoding.kind": "rate" is not one of poisson, signed-poisson, direct',
    );
    expect(problem((g) => (g.input.encoding = { gain: 0 }))).toBe('field "input.encoding.gain": 0 is not positive');
    expect(problem((g) => (g.timesteps = 0))).toBe('field "timesteps": 0 is not an integer >= 1');
    expect(problem((g) => (g.timesteps = 2.5))).toBe('field "timesteps": 2.5 is not an integer >= 1');
    expect(problem((g) => (g.name = 5))).toBe('field "name": 5 is not a string');
    expect(problem((g) => (g.meta = 'card'))).toBe('field "meta": "card" is not an object');
  });
});

describe('affine scale and shift rows', () => {
  it('repeats a [C] shift beside a [T,C] scale, and refuses two different T', async () => {
    const { tinyModel, f32 } = await import('./fixtures.js');
    const { parseModel } = await import('../../src/formats/graph.js');
    const { tinyTensors } = await import('./fixtures.js');
    const withAffine = (scaleShape: number[], shiftShape: number[]) =>
      tinyModel(
        (g) => g.layers.splice(1, 0, { name: 'bn', op: 'affine', scale: 'bn.scale', shift: 'bn.shift' }),
        [...tinyTensors(), f32('bn.scale', scaleShape), f32('bn.shift', shiftShape, Float32Array.from({ length: shiftShape.reduce((a, b) => a * b, 1) }, (_, i) => 0.25 * ((i % 4) + 1)))],
      );
    const m = parseModel(withAffine([3, 4], [4]), 'm.safetensors');
    const bn = m.layers[1];
    if (bn.op !== 'affine') throw new Error('expected affine');
    expect(bn.shift.shape).toEqual([3, 4]);
    expect(Array.from(bn.shift.data)).toEqual([0.25, 0.5, 0.75, 1, 0.25, 0.5, 0.75, 1, 0.25, 0.5, 0.75, 1]);
    expect(() => parseModel(withAffine([3, 4], [2, 4]), 'm.safetensors')).toThrow(/per-step rows must match/);
  });
});
