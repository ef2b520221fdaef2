import { modelToSafetensors, parseModel } from '../formats/index.js';
import type { Layer, Model } from '../model.js';
import { Network } from '../network.js';
import type { Dataset } from './data/dataset.js';

export interface ConvertOptions {
  /** Percentile of each ReLU layer's nonzero activations taken as its maximum rate: 100 = max, 99.9 (default). */
  readonly percentile?: number;
  readonly timesteps: number;
  readonly encoding: 'poisson' | 'direct';
  /** Training images used for the activation statistics. */
  readonly images?: number;
  readonly name: string;
}

/** The p-th percentile (nearest rank) of the nonzero values. */
function percentileOf(values: Float32Array, p: number): number {
  const nz = values.filter((v) => v > 0).sort();
  if (nz.length === 0) return 1;
  const rank = Math.min(nz.length - 1, Math.max(0, Math.ceil((p / 100) * nz.length) - 1));
  return nz[rank];
}

/**
 * ANN-to-SNN conversion (Rueckauer et al. 2017, data-based weight normalisation): each ReLU becomes an IF neuron
 * with threshold 1 and subtract reset, and each weighted layer is rescaled by lambda_prev / lambda, where lambda is a
 * high percentile of its ReLU's activations on training images, so firing rates stay below one spike per step.
 * The readout layer keeps the previous scale only, so the final membrane over T approximates the ANN's logits.
 */
export async function convertToSnn(analog: Model, ds: Dataset, o: ConvertOptions): Promise<{ bytes: Uint8Array; model: Model; scales: Record<string, number> }> {
  const relus = analog.layers.filter((l) => l.op === 'relu').map((l) => l.name);
  const images = Math.min(o.images ?? 1000, ds.count);
  const B = 50;
  const n = ds.height * ds.width * ds.channels;
  const collected = new Map<string, Float32Array[]>(relus.map((r) => [r, []]));
  const net = await Network.create(analog, { batch: B });
  for (let start = 0; start + B <= images; start += B) {
    const px = Float32Array.from(ds.pixels.subarray(start * n, (start + B) * n));
    net.setInput({ kind: 'pixels', data: px }, start);
    net.step();
    for (const r of relus) collected.get(r)!.push(net.output(r).slice());
  }
  const lambda = new Map<string, number>();
  for (const r of relus) {
    const parts = collected.get(r)!;
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    lambda.set(r, percentileOf(all, o.percentile ?? 99.9));
  }

  const layers: Record<string, unknown>[] = [];
  const tensors: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[] = [];
  let prevScale = 1;
  const list = analog.layers;
  for (let i = 0; i < list.length; i++) {
    const l = list[i];
    if (l.op === 'conv2d' || l.op === 'linear') {
      const next = nextRelu(list, i);
      const scale = next ? lambda.get(next)! : 1;
      const w = Float32Array.from(l.weight.data, (v) => (v * prevScale) / scale);
      tensors.push({ name: l.weight.name, dtype: 'F32', shape: [...l.weight.shape], data: w });
      if (l.bias) tensors.push({ name: l.bias.name, dtype: 'F32', shape: [...l.bias.shape], data: Float32Array.from(l.bias.data, (v) => v / scale) });
      layers.push(layerJson(l));
      prevScale = scale;
    } else if (l.op === 'relu') {
      layers.push({ name: l.name.replace(/^relu/, 'if'), op: 'if', threshold: 1, reset: 'subtract', resetDelay: false });
    } else {
      layers.push(layerJson(l));
    }
  }
  const graph = {
    format: 'spikelens.model/1',
    name: o.name,
    input: {
      shape: [...analog.input.shape],
      preprocess: analog.input.preprocess,
      encoding: o.encoding === 'direct' ? { kind: 'direct' } : { kind: 'poisson', gain: 1 },
      labels: analog.input.labels ? [...analog.input.labels] : undefined,
    },
    timesteps: o.timesteps,
    readout: 'final',
    layers,
  };
  const bytes = modelToSafetensors(graph, tensors);
  return { bytes, model: parseModel(bytes, o.name), scales: Object.fromEntries(lambda) };
}

function nextRelu(layers: readonly Layer[], i: number): string | null {
  for (let j = i + 1; j < layers.length; j++) {
    if (layers[j].op === 'relu') return layers[j].name;
    if (layers[j].op === 'conv2d' || layers[j].op === 'linear') return null;
  }
  return null;
}

function layerJson(l: Layer): Record<string, unknown> {
  switch (l.op) {
    case 'conv2d':
      return { name: l.name, op: l.op, weight: l.weight.name, bias: l.bias?.name ?? null, stride: l.stride, padding: l.padding, dilation: l.dilation, groups: l.groups };
    case 'linear':
      return { name: l.name, op: l.op, weight: l.weight.name, bias: l.bias?.name ?? null };
    case 'avgpool2d':
    case 'sumpool2d':
    case 'maxpool2d':
      return { name: l.name, op: l.op, kernel: l.kernel, stride: l.stride, padding: l.padding };
    case 'li':
      return { name: l.name, op: 'li', beta: l.beta.data[0] };
    default:
      return { name: l.name, op: l.op };
  }
}
