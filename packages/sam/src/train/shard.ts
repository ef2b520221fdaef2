import type { Dataset } from './data/dataset.js';
import type { DiffNetwork } from '../diff/network.js';
import { countCorrect, softmaxCrossEntropy } from './loss.js';

/** Params laid end to end, in the graph's order: how weights and gradients travel between cores. */
export function flatLength(graph: DiffNetwork): number {
  return graph.params.reduce((n, p) => n + p.data.length, 0);
}

export function readWeights(graph: DiffNetwork, out: Float32Array): void {
  let o = 0;
  for (const p of graph.params) {
    out.set(p.data, o);
    o += p.data.length;
  }
}

export function writeWeights(graph: DiffNetwork, flat: Float32Array): void {
  let o = 0;
  for (const p of graph.params) {
    p.data.set(flat.subarray(o, o + p.data.length));
    o += p.data.length;
  }
  graph.syncWeights();
}

export function readGrads(graph: DiffNetwork, out: Float32Array): void {
  let o = 0;
  for (const p of graph.params) {
    out.set(p.grad, o);
    o += p.grad.length;
  }
}

/** Gathers a batch's raw pixel values (0..255) as float32, in the order of `indices`. */
export function gatherPixels(ds: Dataset, indices: ArrayLike<number>, out: Float32Array): void {
  const n = ds.height * ds.width * ds.channels;
  for (let b = 0; b < indices.length; b++) {
    const src = ds.pixels.subarray(indices[b] * n, (indices[b] + 1) * n);
    for (let i = 0; i < n; i++) out[b * n + i] = src[i];
  }
}

export interface ShardResult {
  /** Sum over the shard's samples of the cross-entropy. */
  readonly lossSum: number;
  readonly correct: number;
}

/**
 * One shard of a mini-batch on one core: forward, cross-entropy, backward. The loss is the mean over the whole
 * mini-batch of `totalBatch` samples, so the shards' gradients add up to the batch's gradient.
 */
export function shardStep(
  graph: DiffNetwork,
  ds: Dataset,
  indices: ArrayLike<number>,
  seed: number,
  totalBatch: number,
  pixels: Float32Array,
): ShardResult {
  gatherPixels(ds, indices, pixels);
  const scores = graph.forward(pixels, indices, seed);
  const labels = Uint8Array.from({ length: indices.length }, (_, b) => ds.labels[indices[b]]);
  const grad = new Float32Array(scores.length);
  const loss = softmaxCrossEntropy(scores, labels, grad);
  // the loss is the shard's mean; the batch's mean weighs it by the shard's share
  const scale = Math.fround(indices.length / totalBatch);
  for (let i = 0; i < grad.length; i++) grad[i] = Math.fround(grad[i] * scale);
  graph.zeroGrad();
  graph.backward(grad);
  return { lossSum: loss * indices.length, correct: countCorrect(scores, labels) };
}
