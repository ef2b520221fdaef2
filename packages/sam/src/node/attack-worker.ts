/**
 * The second core of `attackBatch`: a worker thread that attacks its half of every chunk with its own networks and
 * answers with the result. The model comes once, as plain data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attack, type AttackOptions, type AttackResult } from '../attack/attack.js';
import type { Model } from '../model.js';

export type AttackRequest = { readonly pixels: Float32Array; readonly batch: number; readonly options: AttackOptions };
export type AttackReply = { readonly result: AttackResult } | { readonly error: string };

const model = workerData as Model;
parentPort!.on('message', async (req: AttackRequest) => {
  try {
    const result = await attack(model, req.pixels, req.batch, req.options);
    parentPort!.postMessage({ result } satisfies AttackReply, [result.adversarial.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error)?.message ?? String(err) } satisfies AttackReply);
  }
});
