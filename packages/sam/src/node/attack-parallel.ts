/**
 * Attacks on both cores in Node: a batch split in two halves, the second half in a worker thread. Every sample keeps
 * its key (its index in the whole input), and samples are independent, so the result is the one-thread result bit
 * for bit.
 */
import { attack, type AttackOptions, type AttackResult } from '../attack/attack.js';
import { UsageError } from '../errors.js';
import type { Model } from '../model.js';
import { SecondCore } from './second-core.js';

/** One attacker for many calls: with 2 threads it keeps its worker thread until `close()`. */
export class Attacker {
  private constructor(
    readonly model: Model,
    private readonly second: SecondCore | null,
  ) {}

  static async create(model: Model, threads = 1): Promise<Attacker> {
    if (threads !== 1 && threads !== 2) throw new UsageError(`threads must be 1 or 2, not ${threads}`);
    return new Attacker(model, threads === 2 ? SecondCore.start(model) : null);
  }

  /** `attack` of B images, half of them in the worker thread. */
  async attack(pixels: Float32Array, B: number, o: AttackOptions): Promise<AttackResult> {
    if (!this.second || B < 2) return attack(this.model, pixels, B, o);
    const h = Math.ceil(B / 2);
    const n = pixels.length / B;
    const labels = o.labels ? Array.from(o.labels) : undefined;
    const [a, b] = await Promise.all([
      attack(this.model, pixels.subarray(0, h * n), h, { ...o, labels: labels?.slice(0, h) }),
      this.second.run<AttackResult>({
        job: 'attack',
        args: [pixels.slice(h * n), B - h, { ...o, keyOffset: (o.keyOffset ?? 0) + h, labels: labels?.slice(h) }],
      }),
    ]);
    return merge(a, b);
  }

  close(): void {
    this.second?.close();
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
