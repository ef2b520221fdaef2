/**
 * One training core: a worker thread that owns a DiffNetwork for its shard of every mini-batch. It receives the
 * current weights and its sample indices, and answers with its gradients (summed over its samples).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseModel } from '../formats/index.js';
import { DiffNetwork, type DiffNetworkOptions } from '../diff/network.js';
import { flatLength, readGrads, shardStep, writeWeights } from '../train/shard.js';
import type { Dataset } from '../train/data/dataset.js';
import { loadDataset, type DatasetName } from './datasets.js';

export interface WorkerInit {
  readonly model: Uint8Array;
  readonly options: DiffNetworkOptions;
  readonly dataset: DatasetName;
  /** A generated set's images (docs/datasets.md), given rather than loaded; pixels shared when they can be. */
  readonly images?: {
    readonly pixels: Uint8Array;
    readonly labels: Uint8Array;
    readonly height: number;
    readonly width: number;
    readonly classes: readonly string[];
  };
}

export type WorkerRequest = { readonly weights: Float32Array; readonly indices: Uint32Array; readonly seed: number; readonly total: number };
export type WorkerReply =
  | { readonly grads: Float32Array; readonly lossSum: number; readonly correct: number; readonly spikes: Record<string, number> }
  | { readonly error: string };

async function start(): Promise<void> {
  const init = workerData as WorkerInit;
  const model = parseModel(init.model, 'model');
  const graph = await DiffNetwork.create(model, init.options);
  const im = init.images;
  const ds: Dataset = im
    ? { name: init.dataset, count: im.labels.length, channels: 1, height: im.height, width: im.width, pixels: im.pixels, labels: im.labels, classes: [...im.classes] }
    : await loadDataset(init.dataset, 'train');
  const pixels = new Float32Array(init.options.batch * ds.channels * ds.height * ds.width);
  const n = flatLength(graph);
  parentPort!.on('message', (req: WorkerRequest) => {
    try {
      writeWeights(graph, req.weights);
      const r = shardStep(graph, ds, req.indices, req.seed, req.total, pixels);
      const grads = new Float32Array(n);
      readGrads(graph, grads);
      const reply: WorkerReply = { grads, lossSum: r.lossSum, correct: r.correct, spikes: Object.fromEntries(graph.spikeCounts) };
      parentPort!.postMessage(reply, [grads.buffer]);
    } catch (err) {
      parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) } satisfies WorkerReply);
    }
  });
  parentPort!.postMessage({ ready: true });
}

start().catch((err) => parentPort!.postMessage({ error: (err as Error)?.stack ?? String(err) }));
