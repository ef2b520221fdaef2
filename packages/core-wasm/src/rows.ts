/**
 * Two threads on one layer: a helper thread with its own instance of the threads build on the same shared memory
 * computes some output rows of a convolution while the caller computes the rest. Each output element is computed
 * by exactly one thread with the same code, so the result has the bits of the one-thread kernel.
 *
 * The protocol lives in a small block of the shared memory (an Int32Array `ctl`): the caller writes a job (kernel
 * and its integer arguments) and bumps `ctl[JOB]`; the helper runs it and copies that number into `ctl[DONE]`.
 * Both sides spin briefly and then block in Atomics.wait, so a step costs no event-loop round trip.
 */
import type { ThreadsCore } from "./core.js";

export const CTL_BYTES = 128;
const JOB = 0;
const DONE = 1;
const KIND = 2;
const FAILED = 3;
const ARGS = 4;
/** Set to 1 by the helper when it serves (readiness goes through the shared memory, not a message: see start). */
const READY = CTL_BYTES / 4 - 1;
/** How long start() waits for a helper to come up, and wait() for one job. */
const START_MS = 30_000;
const STALL_MS = 300_000;
/** Job kinds: the rows kernels (arguments as conv2d_*_rows take them) and linear_event by output vectors. */
export const DENSE_ROWS = 0;
export const EVENT_ROWS = 1;
export const STOP = 2;
export const LINEAR_COLS = 3;
/** The core's plan runner (plan.ts): tiles of one phase of a plan record, taken from a counter in the block. */
export const PLAN_TILES = 4;
/** Spins before blocking: about 20-60 us, longer than a typical hand-off, shorter than any layer. */
const SPINS = 1 << 14;

/** A started helper thread, as a spawner returns it. */
export interface HelperThread {
  terminate(): void;
  /** Rejects when the thread dies (errors or exits) before it is terminated. */
  readonly failed: Promise<never>;
}

export interface HelperInit {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly ctl: number;
  readonly scratch: number;
}

/** The helper's side: waits for jobs on `ctl` and runs them on `ex` until STOP (used by the worker script). */
export function serveRows(ex: ThreadsCore["exports"], memory: WebAssembly.Memory, ctlPtr: number): void {
  const ctl = new Int32Array(memory.buffer, ctlPtr, CTL_BYTES / 4);
  let seen = Atomics.load(ctl, JOB);
  Atomics.store(ctl, READY, 1);
  Atomics.notify(ctl, READY);
  const a = new Array<number>(23).fill(0);
  for (;;) {
    for (let spins = 0; Atomics.load(ctl, JOB) === seen; spins++) if (spins > SPINS) Atomics.wait(ctl, JOB, seen);
    seen = Atomics.load(ctl, JOB);
    const kind = ctl[KIND];
    if (kind === STOP) return;
    for (let i = 0; i < a.length; i++) a[i] = ctl[ARGS + i];
    try {
      if (kind === DENSE_ROWS) {
        ex.conv2d_dense_rows(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21]);
      } else if (kind === PLAN_TILES) {
        ex.plan_tiles(a[0], a[1], a[2], a[3], ctlPtr);
      } else if (kind === LINEAR_COLS) {
        ex.linear_event(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]);
      } else {
        ex.conv2d_event_rows(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22]);
      }
      ctl[FAILED] = 0;
    } catch {
      ctl[FAILED] = 1;
    }
    Atomics.store(ctl, DONE, seen);
    Atomics.notify(ctl, DONE);
  }
}

/** The caller's side of one helper thread. `spawn` starts the thread that calls `serveRows` (platform-specific). */
export class RowsHelper {
  private readonly ctl: Int32Array;
  private seq = 0;
  private pending = false;
  private closed = false;

  private constructor(
    memory: WebAssembly.Memory,
    ctlPtr: number,
    private readonly stop: () => void,
  ) {
    // Growing a shared memory lengthens `memory.buffer` without moving it: this view stays valid.
    this.ctl = new Int32Array(memory.buffer, ctlPtr, CTL_BYTES / 4);
    this.seq = Atomics.load(this.ctl, JOB);
  }

  /**
   * Starts a helper. `ctl` (CTL_BYTES) and `scratch` (scratch_bytes()) are the caller's arena blocks; `spawn` must
   * start a thread that instantiates `init.module` on `init.memory`, calls set_scratch(init.scratch) and runs
   * `serveRows`; its `failed` rejects if the thread dies. Readiness is read from the shared memory: a message posted
   * by a thread that then blocks in Atomics.wait was seen to never arrive in Node.
   */
  static async start(
    core: ThreadsCore,
    ctl: number,
    scratch: number,
    spawn: (init: HelperInit) => Promise<HelperThread>,
  ): Promise<RowsHelper> {
    const view = new Int32Array(core.memory.buffer, ctl, CTL_BYTES / 4);
    view.fill(0);
    const thread = await spawn({ module: core.module, memory: core.memory, ctl, scratch });
    let died: unknown = null;
    thread.failed.catch((e: unknown) => (died = e ?? new Error("the helper thread exited")));
    const deadline = Date.now() + START_MS;
    while (Atomics.load(view, READY) !== 1) {
      if (died) throw new Error(`@spikelens/core-wasm: the helper thread failed to start: ${String(died)}`);
      if (Date.now() > deadline) {
        thread.terminate();
        throw new Error(`@spikelens/core-wasm: the helper thread did not start within ${START_MS / 1000} s`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const helper: RowsHelper = new RowsHelper(core.memory, ctl, () => {
      helper.post(STOP, []);
      thread.terminate();
    });
    return helper;
  }

  /** Hands a job to the helper; `wait()` before the next one. */
  post(kind: number, args: readonly number[]): void {
    if (this.closed) throw new Error("@spikelens/core-wasm: the rows helper is closed");
    if (this.pending) throw new Error("@spikelens/core-wasm: the rows helper has a job running: wait() first");
    const ctl = this.ctl;
    ctl[KIND] = kind;
    for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i];
    // the core's plan runner posts jobs on the same block: continue from the number it left
    this.seq = (Atomics.load(ctl, JOB) + 1) | 0;
    Atomics.store(ctl, JOB, this.seq);
    Atomics.notify(ctl, JOB);
    this.pending = kind !== STOP;
  }

  /** Blocks until the posted job is done; throws if it failed in the helper. */
  wait(): void {
    if (!this.pending) return;
    const ctl = this.ctl;
    let since = 0;
    for (let spins = 0; ; spins++) {
      // Wait on the value just compared: re-reading it for Atomics.wait could see the helper's answer, whose notify
      // has already gone, and sleep a whole timeout (seen once in a thousand hand-offs).
      const done = Atomics.load(ctl, DONE);
      if (done === this.seq) break;
      if (spins <= SPINS) continue;
      since ||= Date.now();
      // A helper that died (its exit cannot be seen while this thread blocks) must not hang the caller forever.
      if (Date.now() - since > STALL_MS) {
        this.pending = false;
        this.closed = true;
        throw new Error(`@spikelens/core-wasm: the helper thread did not finish a job within ${STALL_MS / 1000} s`);
      }
      Atomics.wait(ctl, DONE, done, 1000);
    }
    this.pending = false;
    if (ctl[FAILED]) throw new Error("@spikelens/core-wasm: a kernel failed in the helper thread");
  }

  close(): void {
    if (this.closed) return;
    this.wait();
    this.stop();
    this.closed = true;
  }
}
