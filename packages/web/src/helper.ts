/**
 * Two threads in the browser: the helper thread of `threads: 2` (@spikelens/sam's spawnThread) is a second module
 * worker, started by the page's worker and kept from run to run. It only works on a cross-origin isolated page (shared WebAssembly memory);
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

/** How long a new run waits for the last run's helper to say it has stopped before it starts another worker. */
const REUSE_MS = 2_000;

/**
 * The helper worker is started once, by the first two-thread run, and kept for the next runs: a run hands it its
 * module and memory, and when the run's network closes (STOP) it says `{ stopped }` and waits for the next one,
 * holding nothing of the last run. Starting a worker from a worker and ending it again run after run hangs Firefox
 * (ESR 153: after a few dozen to a few hundred such pairs, `new Worker` in the worker never returns, with or without
 * a driver attached), so the page does not do that. A helper that failed, or did not stop in time, is ended and a
 * new one started.
 */
let kept: { worker: Worker; stopped: Promise<boolean> } | null = null;
/** Helper workers started so far, and whether one is serving a run now (the end-to-end test reads them). */
const helpers = { started: 0, serving: false };

export function helperState(): { started: number; serving: boolean } {
  return { ...helpers };
}

/**
 * Hands the run's module, shared memory and blocks to the helper worker (the kept one, or a new one). Its `failed`
 * rejects when the worker cannot be loaded or run (an 'error' event), cannot read the message ('messageerror'), or
 * says it failed; `terminate()` (called after the network posted STOP, or when it gave up on the helper) releases it
 * for the next run.
 */
export async function spawnHelper(init: HelperInit): Promise<HelperThread> {
  let worker: Worker | null = null;
  if (kept) {
    const last = kept;
    kept = null;
    if (await Promise.race([last.stopped, new Promise<boolean>((r) => setTimeout(() => r(false), REUSE_MS))])) worker = last.worker;
    else last.worker.terminate();
  }
  if (!worker) {
    worker = new Worker(new URL('./helper-worker.ts', import.meta.url), { type: 'module', name: 'spikelens helper' });
    helpers.started++;
  }
  const w = worker;
  const listening = new AbortController();
  const signal = listening.signal;
  let released = false;
  /** true when the helper says it stopped serving this run (it can serve another), false when it failed. */
  let stop!: (ok: boolean) => void;
  const stopped = new Promise<boolean>((r) => (stop = r));
  void stopped.then(() => {
    listening.abort();
    helpers.serving = false;
  });
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) => {
      stop(false);
      if (!released) reject(new Error(`the helper worker ${why}`));
    };
    w.addEventListener('error', (e) => {
      e.preventDefault();
      fail(`failed: ${e.message || 'it could not be loaded'}`);
    }, { signal });
    w.addEventListener('messageerror', () => fail('could not read the shared memory it was sent'), { signal });
    w.addEventListener('message', (e: MessageEvent<{ failed?: string; stopped?: boolean }>) => {
      if (e.data?.failed) fail(`failed to start: ${e.data.failed}`);
      else if (e.data?.stopped) stop(true);
    }, { signal });
  });
  failed.catch(() => undefined);
  helpers.serving = true;
  w.postMessage(init);
  return {
    failed,
    terminate() {
      if (released) return;
      released = true;
      kept = { worker: w, stopped };
    },
  };
}
