// The valid files every mutation starts from: models, inputs and images from the repository, and NIR graphs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelParts } from './formats.mjs';

export const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..');
export const CLI_BIN = join(REPO, 'packages', 'cli', 'bin', 'spikelens.js');
export const CLI_MAIN = join(REPO, 'packages', 'cli', 'dist', 'main.js');

const cache = new Map();
export function repoFile(rel) {
  if (!cache.has(rel)) cache.set(rel, new Uint8Array(readFileSync(join(REPO, rel))));
  return cache.get(rel);
}

/** Models (safetensors) with what the argv generators need to know about them. */
export const MODELS = {
  c01: { file: 'conformance/c01-lif-subtract/model.safetensors', spiking: ['lif1', 'lif2', 'lif3'], maps: ['lif1', 'lif2'], input: [1, 28, 28], T: 20 },
  untrained: { file: 'models/c01-untrained.safetensors', spiking: ['lif1', 'lif2', 'lif3'], maps: ['lif1', 'lif2'], input: [1, 28, 28], T: 20 },
  mnist: { file: 'models/mnist-lif-bptt.safetensors', spiking: ['lif1', 'lif2'], maps: ['lif1', 'lif2'], input: [1, 28, 28], T: 8 },
  mnistIf: { file: 'models/mnist-if-convert.safetensors', spiking: ['lif1', 'lif2'], maps: ['lif1', 'lif2'], input: [1, 28, 28], T: 32 },
};

export const NIR_BASES = {
  conv: { file: 'conformance/nir-snntorch-conv_subtract/model.nir', input: 'conformance/nir-snntorch-conv_subtract/input.npy' },
  linear: { file: 'conformance/nir-snntorch-linear_zero/model.nir', input: 'conformance/nir-snntorch-linear_zero/input.npy' },
};

export const INPUTS = {
  c01Train: 'conformance/c01-lif-subtract/input.npy',
};

export const PNGS = ['samples/mnist/digit-7-0.png', 'samples/mnist/digit-0-3.png', 'samples/mnist/digit-1-2.png', 'samples/mnist/digit-3-18.png'];

export const modelOf = (key) => modelParts(repoFile(MODELS[key].file));

// -------------------------------------------------------------------------------------- hand-made NIR graphs

export const i64 = (...v) => ({ i64: v, shape: [v.length] });
export const i64s = (v) => ({ i64: [v], shape: [] });
export const f32 = (shape, fill) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { f32: Array.from({ length: n }, (_, i) => fill(i)), shape };
};

const lifNode = (shape, tau = 1e-3) => ({
  type: 'LIF',
  tau: f32(shape, () => tau),
  r: f32(shape, () => tau / 1e-4),
  v_leak: f32(shape, () => 0),
  v_threshold: f32(shape, () => 1),
  v_reset: f32(shape, () => 0),
});

/** A conv chain: Input [1,6,6] -> Conv2d 1->2 3x3 p1 -> LIF -> Flatten -> Affine 72->3 -> LIF -> Output. */
export function convGraph() {
  return {
    type: 'NIRGraph',
    nodes: {
      input: { type: 'Input', shape: i64(1, 6, 6) },
      conv: { type: 'Conv2d', weight: f32([2, 1, 3, 3], (i) => ((i * 37) % 17) / 16 - 0.25), bias: [0.125, -0.0625], stride: i64(1, 1), padding: i64(1, 1), dilation: i64(1, 1), groups: i64s(1), input_shape: i64(6, 6) },
      lif1: lifNode([2, 6, 6]),
      pool: { type: 'SumPool2d', kernel_size: i64(1, 1), stride: i64(1, 1), padding: i64(0, 0) },
      flat: { type: 'Flatten', start_dim: i64s(0), end_dim: i64s(-1), input_type: i64(2, 6, 6) },
      fc: { type: 'Affine', weight: f32([3, 72], (i) => ((i * 13) % 11) / 8 - 0.5), bias: [0.25, 0, -0.25] },
      lif2: lifNode([3]),
      output: { type: 'Output', shape: i64(3) },
    },
    edges: [['lif2', 'output'], ['conv', 'lif1'], ['lif1', 'pool'], ['pool', 'flat'], ['fc', 'lif2'], ['input', 'conv'], ['flat', 'fc']],
  };
}

/** A flat chain: Input [8] -> Linear 8->4 -> CubaLIF -> Linear 4->3 -> LI -> Output. */
export function flatGraph() {
  return {
    type: 'NIRGraph',
    nodes: {
      input: { type: 'Input', shape: i64(8) },
      fc1: { type: 'Linear', weight: f32([4, 8], (i) => ((i * 7) % 5) / 4 - 0.3) },
      cuba: { type: 'CubaLIF', tau_syn: f32([4], () => 5e-4), tau_mem: f32([4], () => 1e-3), r: f32([4], () => 10), v_leak: f32([4], () => 0), v_threshold: f32([4], () => 1), v_reset: f32([4], () => 0), w_in: f32([4], () => 5) },
      fc2: { type: 'Affine', weight: f32([3, 4], (i) => (i % 3) / 2), bias: [0, 0.1, 0.2] },
      li: { type: 'LI', tau: f32([3], () => 1e-3), r: f32([3], () => 10), v_leak: f32([3], () => 0) },
      output: { type: 'Output', shape: i64(3) },
    },
    edges: [['input', 'fc1'], ['fc1', 'cuba'], ['cuba', 'fc2'], ['fc2', 'li'], ['li', 'output']],
  };
}

/** Layer names the CLI gives the nodes of these graphs. */
export const GRAPH_LAYERS = { conv: { spiking: ['lif1', 'lif2'], maps: ['lif1'], input: [1, 6, 6] }, flat: { spiking: ['cuba'], maps: [], input: [8] } };
