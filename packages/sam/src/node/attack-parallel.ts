/**
 * Attacks on both cores in Node: a batch split in two halves, the second half in a worker thread. Every sample keeps
 * its key (its index in the whole input), and samples are independent, so the result is the one-thread result bit
 * for bit.
 */
import { Worker } from 'node:worker_threads';
import { attack, type AttackOptions, type AttackResult } from '../attack/attack.js';
import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import type { AttackReply, AttackRequest } from './attack-worker.js';

/** One attacker for many calls: with 2 threads it keeps its worker thread until `close()`. */
export class Attacker {
  private constructor(
    readonly model: Model,
    private readonly worker: Worker | null,
  ) {}

  static async create(model: Model, threads = 1): Promise<Attacker> {
    if (threads !== 1 && threads !== 2) throw new UsageError(`threads must be 1 or 2, not ${threads}`);
    if (threads === 1) return new Attacker(model, null);
    const worker = new Worker(new URL('./attack-worker.js', import.meta.url), { workerData: model });
    worker.unref();
    return new Attacker(model, worker);
  }

  /** `attack` of B images, half of them in the worker thread. */
  async attack(pixels: Float32Array, B: number, o: AttackOptions): Promise<AttackResult> {
    if (!this.worker || B < 2) return attack(this.model, pixels, B, o);
    const h = Math.ceil(B / 2);
    const n = pixels.length / B;
    const labels = o.labels ? Array.from(o.labels) : undefined;
    const second: AttackRequest = {
      pixels: pixels.slice(h * n),
      batch: B - h,
      options: { ...o, keyOffset: (o.keyOffset ?? 0) + h, labels: labels?.slice(h) },
    };
    const worker = this.worker;
    worker.ref();
    const remote = new Promise<AttackResult>((resolve, reject) => {
      worker.once('message', (m: AttackReply) => ('error' in m ? reject(new Error(m.error)) : resolve(m.result)));
      worker.once('error', reject);
    });
    worker.postMessage(second, [second.pixels.buffer as ArrayBuffer]);
    try {
      const [a, b] = await Promise.all([attack(this.model, pixels.subarray(0, h * n), h, { ...o, labels: labels?.slice(0, h) }), remote]);
      return merge(a, b);
    } finally {
      worker.removeAllListeners('message');
      worker.removeAllListeners('error');
      worker.unref();
    }
  }

  close(): void {
    void this.worker?.terminate();
  }
}

function merge(a: AttackResult, b: AttackResult): AttackResult {
  const cat = (x: Float32Array, y: Float32Array): Float32Array => {
    const out = new Float32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  const side = (x: AttackResult['clean'], y: AttackResult['clean']) => ({
    scores: cat(x.scores, y.scores),
    predictions: [...x.predictions, ...y.predictions],
    probabilities: [...x.probabilities, ...y.probabilities],
  });
  return {
    adversarial: cat(a.adversarial, b.adversarial),
    labels: [...a.labels, ...b.labels],
    clean: side(a.clean, b.clean),
    attacked: side(a.attacked, b.attacked),
    linf: [...a.linf, ...b.linf],
  };
}
