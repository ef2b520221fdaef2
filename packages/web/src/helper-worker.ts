/**
 * The helper thread of a two-thread run (docs/plan.md, "Two threads"): a module worker started by the page's worker
 * (helper.ts) with the core's threads build and the run's shared memory. It instantiates the module on that memory
 * and serves tiles of every layer until the network closes (serveRows blocks in Atomics.wait, as a worker may);
 * then it says `{ stopped }` and waits for the next run's message (helper.ts keeps it from run to run). Readiness
 * is seen by the caller in the shared memory; a failure to start is posted back as `{ failed }`.
 */
import { instantiateOn, serveRows, type CoreExports, type HelperInit } from '@spikelens/core-wasm';

/** The worker's global scope (the DOM lib types `self` as a window). */
const scope = self as unknown as { addEventListener(type: 'message', f: (e: MessageEvent<HelperInit>) => void): void; postMessage(message: unknown): void };

scope.addEventListener('message', (e: MessageEvent<HelperInit>) => {
  const init = e.data;
  instantiateOn(init.module, init.memory).then(
    (instance) => {
      const ex = instance.exports as unknown as CoreExports;
      try {
        ex.set_scratch(init.scratch);
        serveRows(ex, init.memory, init.ctl);
      } catch (err) {
        scope.postMessage({ failed: String(err) });
        return;
      }
      // The run's network closed (STOP): ready for the next run's module and memory (helper.ts keeps this worker).
      scope.postMessage({ stopped: true });
    },
    (err: unknown) => scope.postMessage({ failed: String(err) }),
  );
});
