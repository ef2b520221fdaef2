/**
 * The second core of `SecondCore`: a worker thread that runs library jobs on a model it received once, answering
 * each with its result. Jobs are per-sample computations, so half a batch here gives the bits it gets in one thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attack } from '../attack/attack.js';
import { evaluateChunk } from '../metrics/evaluate.js';
import type { Model } from '../model.js';

export type Job =
  | { readonly job: 'attack'; readonly args: Parameters<typeof attack> extends [Model, ...infer R] ? R : never }
  | { readonly job: 'evaluate'; readonly args: Parameters<typeof evaluateChunk> extends [Model, ...infer R] ? R : never };
export type Reply = { readonly result: unknown } | { readonly error: string };

const model = workerData as Model;
parentPort!.on('message', async (m: Job) => {
  try {
    const result = m.job === 'attack' ? await attack(model, ...m.args) : await evaluateChunk(model, ...m.args);
    parentPort!.postMessage({ result } satisfies Reply);
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error)?.message ?? String(err) } satisfies Reply);
  }
});
