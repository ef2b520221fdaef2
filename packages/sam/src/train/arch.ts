import { UsageError } from '../errors.js';
import type { SafetensorsInput } from '../formats/index.js';
import { xorshift32 } from '../random.js';

/**
 * The architectures `spikelens train --arch` offers: each a fixed layer list for 1x28x28 inputs (MNIST,
 * Fashion-MNIST). `neuron` picks lif (leaky, beta 0.9) or if (no leak); `analog` builds the ReLU twin used by
 * ANN-to-SNN conversion (same weights and shapes, relu in place of every spiking layer, T = 1).
 */
export interface ArchOptions {
  readonly neuron: 'lif' | 'if';
  readonly analog: boolean;
  readonly encoding: 'poisson' | 'direct';
  readonly timesteps: number;
  readonly beta?: number;
  readonly labels: readonly string[];
  readonly name: string;
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

const ARCHS: Record<string, { about: string; layers: readonly Spec[] }> = {
  'cnn-s': {
    about: 'conv 1->16 3x3, spike, avgpool 2, conv 16->32 3x3, spike, avgpool 2, linear 1568->10, li (20 k parameters)',
    layers: [
      { kind: 'conv', out: 16, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 32, k: 3 },
      { kind: 'pool' },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
  'cnn-m': {
    about: 'conv 1->32 3x3, spike, avgpool 2, conv 32->64 3x3, spike, avgpool 2, linear 3136->128, spike, linear 128->10, li (421 k parameters)',
    layers: [
      { kind: 'conv', out: 32, k: 3 },
      { kind: 'pool' },
      { kind: 'conv', out: 64, k: 3 },
      { kind: 'pool' },
      { kind: 'fc', out: 128, spiking: true },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
  mlp: {
    about: 'linear 784->256, spike, linear 256->10, li (204 k parameters)',
    layers: [
      { kind: 'fc', out: 256, spiking: true },
      { kind: 'fc', out: 10, spiking: false },
    ],
  },
};

export const ARCH_NAMES = Object.keys(ARCHS);

export function describeArch(name: string): string {
  const a = ARCHS[name];
  if (!a) throw new UsageError(`unknown --arch "${name}" (one of ${ARCH_NAMES.join(', ')})`);
  return a.about;
}


/**
 * The graph JSON (docs/model-format.md) and freshly initialised tensors: weights uniform in +-sqrt(6/fan_in) (He), biases 0.
 */
export function buildArch(name: string, o: ArchOptions, seed: number): { graph: Record<string, unknown>; tensors: SafetensorsInput[] } {
  const arch = ARCHS[name];
  if (!arch) throw new UsageError(`unknown --arch "${name}" (one of ${ARCH_NAMES.join(', ')})`);
  const rand = xorshift32(seed ^ 0x5bd1e995);
  const layers: Record<string, unknown>[] = [];
  const tensors: SafetensorsInput[] = [];
  let shape = [1, 28, 28];
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
      shape: [1, 28, 28],
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
