/// <reference types="node" />
/** Node-only helpers of the core: the helper thread of rows.ts on worker_threads. */
import { Worker } from "node:worker_threads";
import type { HelperInit, HelperThread } from "./rows.js";

/** Starts a worker thread serving row jobs (rows.ts) on `init.memory`; it does not keep the process alive. */
export async function spawnNodeRows(init: HelperInit): Promise<HelperThread> {
  const worker = new Worker(new URL("./rows-worker.js", import.meta.url), { workerData: init });
  let terminated = false;
  const failed = new Promise<never>((_, reject) => {
    worker.once("error", (e) => reject(e));
    worker.once("exit", (code) => {
      if (!terminated) reject(new Error(`the helper thread exited with code ${code}`));
    });
  });
  failed.catch(() => undefined);
  worker.unref();
  return {
    failed,
    terminate() {
      terminated = true;
      void worker.terminate();
    },
  };
}
