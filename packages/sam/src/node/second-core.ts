/**
 * Both cores in Node for per-sample work: a worker thread with its own copy of the model runs half of a batch while
 * this thread runs the other half. Every sample keeps its key (its index in the whole input) and samples are
 * independent, so the halves give the one-thread result bit for bit.
 */
import { Worker } from 'node:worker_threads';
import type { Model } from '../model.js';
import type { Job, Reply } from './second-core-worker.js';

export class SecondCore {
  private constructor(private readonly worker: Worker) {}

  static start(model: Model): SecondCore {
    const worker = new Worker(new URL('./second-core-worker.js', import.meta.url), { workerData: model });
    worker.unref();
    return new SecondCore(worker);
  }

  /** Runs one job in the worker thread. */
  run<T>(job: Job): Promise<T> {
    const worker = this.worker;
    worker.ref();
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        worker.removeAllListeners('message');
        worker.removeAllListeners('error');
        worker.unref();
      };
      worker.once('message', (m: Reply) => {
        done();
        if ('error' in m) reject(new Error(m.error));
        else resolve(m.result as T);
      });
      worker.once('error', (err) => {
        done();
        reject(err);
      });
      worker.postMessage(job);
    });
  }

  close(): void {
    void this.worker.terminate();
  }
}
