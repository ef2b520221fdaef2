import { UsageError } from '../errors.js';
import type { SafetensorsInput } from '../formats/index.js';
import { xorshift32 } from '../random.js';

/**
 * The architectures `spikelens train --arch` offers: each a fixed layer list for gray inputs, 1x28x28 by default
 * (MNIST, Fashion-MNIST) or another size given by `input` (1x48x48 for cluttered MNIST, docs/datasets.md): the
 * convolutions keep the size, each pool halves it, and the first linear layer's width follows. `neuron` picks lif
 * (leaky, beta 0.9) or if (no leak); `analog` builds the ReLU twin used by ANN-to-SNN conversion (same weights and
 * shapes, relu in place of every spiking layer, T = 1).
 */
export interface ArchOptions {
  readonly neuron: 'lif' | 'if';
  readonly analog: boolean;
  readonly encoding: 'poisson' | 'direct';
  readonly timesteps: number;
  readonly beta?: number;
  readonly labels: readonly string[];
  readonly name: string;
  /** [channels, height, width] of an input (default [1, 28, 28]). */
  readonly input?: readonly [number, number, number];
}

interface ConvSpec {
  readonly kind: 'conv';
  readonly out: number;
  readonly k: number;
}
interface PoolSpec {
  readonly kind: 'pool';
}
interface FcSpec {
  readonly kind: 'fc';
  readonly out: number;
  readonly spiking: boolean;
}
type Spec = ConvSpec | PoolSpec | FcSpec;

const ARCHS: Record<string, { layers: readonly Spec[] }> = {
  'cnn-s': {
    layers: [
      { kind: 'conv', out: 16, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 32, k: 3 },
      { kind: 'pool' },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
  'cnn-m': {
    layers: [
      { kind: 'conv', out: 32, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 64, k: 3 },
      { kind: 'pool' },
      { kind: 'fc', out: 128, spiking: true },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
  // Three conv/pool stages, narrow first: made for the 48x48 cluttered set (docs/datasets.md), where it takes half the
  // multiply-accumulates of cnn-s (1.5 M a step against 3.0 M) and reads out a 6x6 map; on 28x28 it ends at 3x3.
  'cnn-t': {
    layers: [
      { kind: 'conv', out: 8, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 16, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 32, k: 3 },
      { kind: 'pool' },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
  // cnn-t with a spiking hidden layer of 128 between the 6x6 map and the readout: cnn-t's 17 k parameters stayed at
  // 93 % on cluttered MNIST with train and test accuracy alike (too small, not over-fitted); the hidden layer adds
  // 150 k parameters for a tenth more multiply-accumulates.
  'cnn-th': {
    layers: [
      { kind: 'conv', out: 8, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 16, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 32, k: 3 },
      { kind: 'pool' },
      { kind: 'fc', out: 128, spiking: true },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
  mlp: {
    layers: [
      { kind: 'fc', out: 256, spiking: true },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
};

export const ARCH_NAMES = Object.keys(ARCHS);

const DEFAULT_INPUT: readonly [number, number, number] = [1, 28, 28];

function archOf(name: string): { layers: readonly Spec[] } {
  const a = Object.hasOwn(ARCHS, name) ? ARCHS[name] : undefined;
  if (!a) throw new UsageError(`unknown --arch "${name}" (one of ${ARCH_NAMES.join(', ')})`);
  return a;
}

function checkInput(input: readonly number[]): void {
  if (input.length !== 3 || !input.every((d) => Number.isInteger(d) && d >= 1 && d <= 4096))
    throw new UsageError(`an architecture's input must be [channels, height, width] of integers from 1 to 4096, got [${input.join(', ')}]`);
}

/** Each layer's output shape for `input`; a pool that would leave nothing is refused. */
function shapes(name: string, input: readonly [number, number, number]): { spec: Spec; in: number[]; out: number[] }[] {
  checkInput(input);
  let shape: number[] = [...input];
  return archOf(name).layers.map((spec) => {
    const before = shape;
    if (spec.kind === 'conv') shape = [spec.out, shape[1], shape[2]];
    else if (spec.kind === 'pool') {
      if (shape[1] < 2 || shape[2] < 2) throw new UsageError(`--arch ${name} pools a ${shape[1]}x${shape[2]} map: the input [${input.join(', ')}] is too small`);
      shape = [shape[0], shape[1] >> 1, shape[2] >> 1];
    } else shape = [spec.out];
    return { spec, in: before, out: shape };
  });
}

/** The layer list in one line, for `--help` and model cards: "conv 1->16 3x3, spike, ..., li (20 k parameters)". */
export function describeArch(name: string, input: readonly [number, number, number] = DEFAULT_INPUT): string {
  const parts: string[] = [];
  let params = 0;
  for (const { spec, in: i } of shapes(name, input)) {
    if (spec.kind === 'conv') {
      parts.push(`conv ${i[0]}->${spec.out} ${spec.k}x${spec.k}`, 'spike');
      params += spec.out * i[0] * spec.k * spec.k + spec.out;
    } else if (spec.kind === 'pool') parts.push('avgpool 2');
    else {
      const n = i.reduce((a, b) => a * b, 1);
      parts.push(`linear ${n}->${spec.out}`);
      if (spec.spiking) parts.push('spike');
      params += spec.out * n + spec.out;
    }
  }
  return `${parts.join(', ')}, li (${Math.round(params / 1000)} k parameters)`;
}

/**
 * The graph JSON (docs/model-format.md) and freshly initialised tensors: weights uniform in +-sqrt(6/fan_in) (He), biases 0.
 */
export function buildArch(name: string, o: ArchOptions, seed: number): { graph: Record<string, unknown>; tensors: SafetensorsInput[] } {
  const arch = archOf(name);
  const input = o.input ?? DEFAULT_INPUT;
  shapes(name, input);
  const rand = xorshift32(seed ^ 0x5bd1e995);
  const layers: Record<string, unknown>[] = [];
  const tensors: SafetensorsInput[] = [];
  let shape: number[] = [...input];
  let conv = 0;
  let fc = 0;
  let flat = false;
  const spike = (n: string): void => {
    if (o.analog) layers.push({ name: n, op: 'relu' });
    else if (o.neuron === 'lif') layers.push({ name: n, op: 'lif', beta: o.beta ?? 0.9, threshold: 1, reset: 'subtract', resetDelay: false });
    else layers.push({ name: n, op: 'if', threshold: 1, reset: 'subtract', resetDelay: false });
  };
  const param = (n: string, dims: number[], fanIn: number): void => {
    const bound = Math.sqrt(6 / fanIn);
    const size = dims.reduce((a, b) => a * b, 1);
    tensors.push({ name: `${n}.weight`, dtype: 'F32', shape: dims, data: Float32Array.from({ length: size }, () => (rand() * 2 - 1) * bound) });
    tensors.push({ name: `${n}.bias`, dtype: 'F32', shape: [dims[0]], data: new Float32Array(dims[0]) });
  };
  for (const spec of arch.layers) {
    if (spec.kind === 'conv') {
      conv++;
      const n = `conv${conv}`;
      param(n, [spec.out, shape[0], spec.k, spec.k], shape[0] * spec.k * spec.k);
      layers.push({ name: n, op: 'conv2d', weight: `${n}.weight`, bias: `${n}.bias`, padding: [spec.k >> 1, spec.k >> 1] });
      spike(o.analog ? `relu${conv}` : `${o.neuron}${conv}`);
      shape = [spec.out, shape[1], shape[2]];
    } else if (spec.kind === 'pool') {
      layers.push({ name: `pool${conv}`, op: 'avgpool2d', kernel: [2, 2] });
      shape = [shape[0], shape[1] >> 1, shape[2] >> 1];
    } else {
      if (!flat) {
        layers.push({ name: 'flat', op: 'flatten' });
        shape = [shape.reduce((a, b) => a * b, 1)];
        flat = true;
      }
      fc++;
      const n = `fc${fc}`;
      param(n, [spec.out, shape[0]], shape[0]);
      layers.push({ name: n, op: 'linear', weight: `${n}.weight`, bias: `${n}.bias` });
      if (spec.spiking) spike(o.analog ? `relu_fc${fc}` : `${o.neuron}_fc${fc}`);
      shape = [spec.out];
    }
  }
  layers.push({ name: 'out', op: 'li', beta: 1 });
  const graph = {
    format: 'spikelens.model/1',
    name: o.name,
    input: {
      shape: [...input],
      preprocess: { scale: 1 / 255, mean: [0], std: [1] },
      encoding: o.analog ? { kind: 'direct' } : { kind: o.encoding, gain: 1 },
      labels: [...o.labels],
    },
    timesteps: o.analog ? 1 : o.timesteps,
    readout: 'final',
    layers,
  };
  return { graph, tensors };
}
