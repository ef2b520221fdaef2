/**
 * spikelens on both cores: the batch split over worker threads, each with its own WebAssembly core and network for
 * its samples (keyOffset keeps every sample's PRNG stream, so the spikes are those of one network with the whole
 * batch, which `check` verifies). For batches of at least 2.
 */
import { Worker } from 'node:worker_threads';
import { modelToSafetensors } from '@spikelens/sam';
import type { SuiteWorkload } from './suite-workloads.js';

export class ParallelBatch {
  private constructor(
    private readonly workers: Worker[],
    readonly T: number,
  ) {}

  static async create(w: SuiteWorkload, count = 2): Promise<ParallelBatch> {
    const bytes = modelToSafetensors(w.graph, w.tensors);
    const per = Math.ceil(w.batch / count);
    const sample = w.pixels.length / w.batch;
    const workers: Worker[] = [];
    for (let i = 0; i * per < w.batch; i++) {
      const b = Math.min(per, w.batch - i * per);
      const worker = new Worker(new URL('./parallel-worker.js', import.meta.url), {
        workerData: { model: bytes, pixels: w.pixels.slice(i * per * sample, (i * per + b) * sample), batch: b, keyOffset: i * per, seed: w.seed, T: w.timesteps },
      });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      workers.push(worker);
    }
    return new ParallelBatch(workers, w.timesteps);
  }

  private ask<T>(worker: Worker, cmd: string): Promise<T> {
    return new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ cmd });
    });
  }

  /** Wall seconds for the whole batch, all workers at once. */
  async time(): Promise<number> {
    const s = performance.now();
    await Promise.all(this.workers.map((w) => this.ask(w, 'run')));
    return (performance.now() - s) / 1000;
  }

  /** Each spiking layer's spikes [T, B, ...] put back together from the workers' slices. */
  async spikes(): Promise<Record<string, Uint8Array>> {
    const parts = await Promise.all(this.workers.map((w) => this.ask<{ spikes: Record<string, Uint8Array> }>(w, 'record')));
    const out: Record<string, Uint8Array> = {};
    for (const name of Object.keys(parts[0].spikes)) {
      const total = parts.reduce((a, p) => a + p.spikes[name].length, 0);
      const merged = new Uint8Array(total);
      let at = 0;
      for (let t = 0; t < this.T; t++)
        for (const p of parts) {
          const step = p.spikes[name].length / this.T;
          merged.set(p.spikes[name].subarray(t * step, (t + 1) * step), at);
          at += step;
        }
      out[name] = merged;
    }
    return out;
  }

  close(): void {
    for (const w of this.workers) void w.terminate();
  }
}
