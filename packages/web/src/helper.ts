/**
 * Two threads in the browser: the helper thread of `threads: 2` (@spikelens/sam's spawnThread) is a second module
 * worker, started by the page's worker. It only works on a cross-origin isolated page (shared WebAssembly memory);
 * `threading()` says whether this one is, and what the page should say about it.
 */
import { threadsSupported, type HelperInit, type HelperThread } from '@spikelens/core-wasm';

/** How the page's runs are computed, and why. */
export interface Threading {
  readonly threads: 1 | 2;
  /** Whether the page is cross-origin isolated (served with COOP and COEP headers). */
  readonly isolated: boolean;
  /** What the page shows: "2 threads", or "1 thread: " and why not 2. */
  readonly text: string;
}

/** Two threads when the page is cross-origin isolated and the runtime has shared WebAssembly memory, else one. */
export function threading(): Threading {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!isolated) return { threads: 1, isolated, text: '1 thread: the page is not cross-origin isolated (serve it with COOP/COEP headers, docs/web.md)' };
  if (!threadsSupported()) return { threads: 1, isolated, text: '1 thread: this browser has no shared WebAssembly memory' };
  if (typeof Worker === 'undefined') return { threads: 1, isolated, text: '1 thread: this browser cannot start a worker from a worker' };
  return { threads: 2, isolated, text: '2 threads' };
}

/**
 * Starts the helper worker and hands it the run's module, shared memory and blocks. Its `failed` rejects when the
 * worker cannot be loaded or run (an 'error' event), cannot read the message ('messageerror'), or says it failed.
 */
export async function spawnHelper(init: HelperInit): Promise<HelperThread> {
  const worker = new Worker(new URL('./helper-worker.ts', import.meta.url), { type: 'module', name: 'spikelens helper' });
  let terminated = false;
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) => {
      if (!terminated) reject(new Error(`the helper worker ${why}`));
    };
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      fail(`failed: ${e.message || 'it could not be loaded'}`);
    });
    worker.addEventListener('messageerror', () => fail('could not read the shared memory it was sent'));
    worker.addEventListener('message', (e: MessageEvent<{ failed?: string }>) => {
      if (e.data?.failed) fail(`failed to start: ${e.data.failed}`);
    });
  });
  failed.catch(() => undefined);
  worker.postMessage(init);
  return {
    failed,
    terminate() {
      terminated = true;
      worker.terminate();
    },
  };
}
