/**
 * The module's exports, as ABI.md lists them. Every pointer is a byte offset into `memory` (an f32 array 16-byte
 * aligned), every size a count of elements; `f32` marks the two float arguments, every other argument is an i32.
 */
export interface CoreExports {
  readonly memory: WebAssembly.Memory;
  /** First free byte, 16-aligned: the arena starts here. */
  heap_base(): number;
  /** f32 count of the packed weight buffer for `conv2d_pack`. */
  conv2d_packed_len(Cout: number, CinG: number, kH: number, kW: number, groups: number): number;
  /** OIHW weights `src` -> the packed layout at `dst` (conv2d_packed_len floats). */
  conv2d_pack(src: number, dst: number, Cout: number, CinG: number, kH: number, kW: number, groups: number): void;
  /** PyTorch conv2d with zero padding; `bias` 0 = none. Sums (ky, kx, cin) with cin fastest, bias last. */
  conv2d_dense(
    x: number, wp: number, bias: number, y: number, B: number, Cin: number, H: number, W: number,
    Cout: number, Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number, groups: number,
  ): void;
  /** Per (b, pixel): `cnt` = nonzero channel count, `idx` (i32, C per pixel) = those channels ascending. Returns the total. */
  spike_index(x: number, B: number, C: number, HW: number, idx: number, cnt: number): number;
  /** `conv2d_dense` for output rows [oy0, oy1) of every sample only (a 1x1 output is row 0). */
  conv2d_dense_rows(
    x: number, wp: number, bias: number, y: number, B: number, Cin: number, H: number, W: number,
    Cout: number, Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number, groups: number, oy0: number, oy1: number,
  ): void;
  /** `conv2d_event` for output rows [oy0, oy1) of every sample only. */
  conv2d_event_rows(
    x: number, idx: number, cnt: number, wp: number, bias: number, y: number, B: number, Cin: number,
    H: number, W: number, Cout: number, Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number, oy0: number, oy1: number,
  ): void;
  /**
   * A linear layer (`conv2d_event` with H = W = kH = kW = 1) over B samples, output-channel vectors [v0, v1) only
   * (channels [4 v0, 4 v1)); weights stay in cache across samples. Needs `spike_index(x, B, Cin, 1, idx, cnt)`.
   */
  linear_event(
    x: number, idx: number, cnt: number, wp: number, bias: number, y: number, B: number, Cin: number, Cout: number,
    v0: number, v1: number,
  ): void;
  /** Bytes of the event conv's scratch (the combined lists). */
  scratch_bytes(): number;
  /** Moves this instance's event-conv scratch to `ptr` (scratch_bytes(), 16-aligned); required in the threads build. */
  set_scratch(ptr: number): void;
  /** `conv2d_dense` (groups 1) summing only the inputs `spike_index` listed; bit-identical to it. */
  conv2d_event(
    x: number, idx: number, cnt: number, wp: number, bias: number, y: number, B: number, Cin: number,
    H: number, W: number, Cout: number, Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number,
  ): void;
  /** kind 0 avg (padding counted), 1 sum, 2 max (padding -inf); window row by row. */
  pool2d(
    kind: number, x: number, y: number, B: number, C: number, H: number, W: number, Ho: number, Wo: number,
    kH: number, kW: number, sH: number, sW: number, pH: number, pW: number,
  ): void;
  /** `y = fl(fl(x*scale[c]) + shift[c])`; `y` may equal `x`. */
  affine(x: number, y: number, scale: number, shift: number, B: number, C: number, HW: number): void;
  /**
   * One LIF step (docs/semantics.md §3). `s`: previous spikes in, this step's out; `v`: membrane. Params have C values
   * (perNeuron 0) or C*HW (1). A neuron spikes when `v > cmp`; the subtract reset takes `thr`. `cmp` (the layout of
   * `thr`) is `thr` itself, or the next float32 below it for a layer that fires at `v >= thr`. reset 0 subtract,
   * 1 zero, 2 none; resetDelay 0 or 1.
   */
  lif(
    I: number, s: number, v: number, beta: number, thr: number, cmp: number, vr: number, B: number, C: number, HW: number,
    perNeuron: number, reset: number, resetDelay: number,
  ): void;
  /** `v = fl(fl(beta*v) + I)`. */
  li(I: number, v: number, beta: number, B: number, C: number, HW: number, perNeuron: number): void;
  /**
   * One current-based LIF step: `i = fl(fl(alpha*i) + I)` (the synaptic current, state), then `lif` with input `i`.
   * `alpha` has the layout of the other params.
   */
  cubalif(
    I: number, i: number, s: number, v: number, alpha: number, beta: number, thr: number, cmp: number, vr: number,
    B: number, C: number, HW: number, perNeuron: number, reset: number, resetDelay: number,
  ): void;
  /** `y = max(0, x)`. */
  relu(x: number, y: number, n: number): void;
  /**
   * One SAM step (docs/semantics.md §8): updates the trace `nc` from spikes `s`, writes `m[b, p]`. mode 0 inclusive, 1 strict,
   * 2 official; `g` = fl(exp(-gamma)) and `silent` = fl(exp(-gamma*t)) are f32.
   */
  sam_step(s: number, nc: number, m: number, B: number, C: number, HW: number, g: number, mode: number, silent: number): void;
  /** xoshiro128** state (4 u32 per sample) for keys key0 .. key0+B-1 (docs/semantics.md §6). */
  rng_seed(state: number, B: number, seed: number, key0: number): void;
  /** One encoding step over `x[B, N]`: kind 0 poisson (0/1), 1 signed-poisson (-1/0/1); `gain` is f32. */
  encode(x: number, out: number, state: number, B: number, N: number, gain: number, kind: number): void;
  /** Number of nonzero f32 in `x[0..n)`. */
  count_nonzero(x: number, n: number): number;
  /**
   * The f32x4 peak loop (no memory traffic): n iterations of 5 mul chains `a *= m` and 5 add chains `b += c`, all
   * starting at x0 (40 flops per iteration); returns lane 0 of the sum of the ten chains. `x0`, `m`, `c` are f32.
   */
  simd_peak(n: number, x0: number, m: number, c: number): number;
  /**
   * The gather ceiling: `reps` passes over a list of `n` byte offsets (at `list`) of 64-byte weight rows at `w`, each
   * entry adding 4 vectors of its row and 2 of the row `ps` bytes on into 6 f32x4 accumulators (24 synaptic
   * operations); returns lane 0 of their sum.
   */
  gather_peak(w: number, ps: number, list: number, n: number, reps: number): number;

  // Plans (ABI.md, "Plans"): a block of steps of a whole network in one call, layer by layer.
  /**
   * Runs steps t0 .. t0 + steps - 1 of the program at `prog` (records [op, words, args...]; every window holds at
   * least `steps` frames); returns 0, or an error code (1 unknown op, 2 a per-step affine past its rows, 3 SAM past
   * its table, 4 the helper thread failed) with the record's index in plan_error_at().
   */
  plan_run(prog: number, t0: number, steps: number): number;
  plan_error_at(): number;
  /** One record at address `r` for steps t0 .. t0 + steps - 1, as plan_run runs it (a profiler times records so). */
  plan_record(r: number, t0: number, steps: number): number;
  /**
   * Threads build: the control block of this instance's helper thread (0: none), for plans that split layers, and
   * the least work (elements, or a conv's MACs / 16, over a block) a record needs to be shared with it.
   */
  plan_set_helper(ctl: number, minWork: number): void;
  /** Threads build, the helper's side: the tiles of phase `phase` of record `r`, from the counter of block `ctl`. */
  plan_tiles(r: number, phase: number, t0: number, steps: number, ctl: number): void;

  // Plan files (ABI.md, "Plan files"; docs/plan-file.md): a whole network from a .slplan, no JavaScript needed.
  /** Arena bytes the plan file at `file` (`len` bytes) needs, from its header; or minus an error code (10..13). */
  sl_plan_bytes(file: number, len: number): number;
  /** Checks the plan file, lays it out in the arena at `arena` and relocates it: 0 or an error code (10..17). */
  sl_load(file: number, len: number, arena: number): number;
  /** The byte of the plan file where sl_load found its error. */
  sl_error_at(): number;
  /** The loaded plan's header in the arena (relocated), 0 when none is loaded. */
  sl_header(): number;
  /** kind 0 pixels f32 [B, ...], 1 uint8, 2 int8, 3 float32 train [T', B, ...]; seeds the encoder: 0 or 18/19. */
  sl_set_input(kind: number, src: number, count: number, seed: number): number;
  /** The input window (f32 frames [T][B][...]). */
  sl_input(): number;
  /** Runs the next `steps` steps in one block: 0, a plan_run error, or 19. */
  sl_run(steps: number): number;
  sl_steps(): number;
  /** Scores [B, K] (f32) after the last sl_run. */
  sl_scores(): number;
  /** The window of the header's output i (frames of the last sl_run), 0 if none. */
  sl_output(i: number): number;

  // Backward kernels (training): ABI.md, "Backward kernels". Parameter gradients accumulate (+=), input
  // gradients overwrite.
  /** `dx = dL/dx` of conv2d for `dy = dL/dy`; `w` is the plain OIHW weight. Sums (ky, kx, co), co fastest. */
  conv2d_backward_input(
    dy: number, w: number, dx: number, B: number, Cin: number, H: number, W: number,
    Cout: number, Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number, groups: number,
  ): void;
  /** `dw += dL/dw` (OIHW): per element the sum over (b, oy, ox) ascending from +0, then added once. */
  conv2d_backward_weight(
    x: number, dy: number, dw: number, B: number, Cin: number, H: number, W: number,
    Cout: number, Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number,
    pH: number, pW: number, dH: number, dW: number, groups: number,
  ): void;
  /** `db[c] += sum over (b, p) of dy`. */
  bias_backward(dy: number, db: number, B: number, C: number, HW: number): void;
  /** `dx = dL/dx` of pool2d (kind 0 avg, 1 sum, 2 max: to the first maximum of each window); `x` is read for max only. */
  pool2d_backward(
    kind: number, x: number, dy: number, dx: number, B: number, C: number, H: number, W: number,
    Ho: number, Wo: number, kH: number, kW: number, sH: number, sW: number, pH: number, pW: number,
  ): void;
  /** `dx = dy*scale[c]`, `dscale[c] += sum dy*x`, `dshift[c] += sum dy`; each output pointer may be 0 (skip). */
  affine_backward(
    x: number, dy: number, scale: number, dx: number, dscale: number, dshift: number, B: number, C: number, HW: number,
  ): void;
  /** `dx = x > 0 ? dy : 0`. */
  relu_backward(x: number, dy: number, dx: number, n: number): void;
  /**
   * `lif` with resetDelay 0 that also writes the pre-reset membrane `u` (spike `u > cmp`, subtract `thr`, as `lif`);
   * surrogate 3 (smooth, tests only) spikes `s = sigmoid(4*(u - thr))`. `v`: v_{t-1} in, v_t out. reset 0 subtract, 1 zero, 2 none (also zero and none with
   * resetDelay 1: the same spikes, `u` being the delayed form's membrane), 3 subtract with resetDelay 1 (`s`: the
   * previous spikes in; `u = v`, and `u` may equal `v`).
   */
  lif_forward_train(
    I: number, s: number, v: number, u: number, beta: number, thr: number, cmp: number, vr: number,
    B: number, C: number, HW: number, perNeuron: number, reset: number, surrogate: number,
  ): void;
  /**
   * One LIF step back (the surrogate centred on `thr`, whatever `cmp` the forward used): `du = ds*sg(u) + gv*dv/du`; `dI = du`; `gv` (dL/dv_t in) becomes `beta*du` (dL/dv_{t-1});
   * `dbeta += du*vprev` (0 = skip). surrogate 0 triangle, 1 atan, 2 fast-sigmoid, 3 smooth; keepReset 0/1.
   * reset 3 (subtract with resetDelay 1): `du = ds*sg(u) + gv*(beta - keepReset*thr*sg(u))`, `gv` (dL/dv_{t+1} in)
   * becomes `du` itself (dL/dv_t).
   */
  lif_backward(
    ds: number, u: number, s: number, vprev: number, gv: number, dI: number, dbeta: number,
    beta: number, thr: number, vr: number, B: number, C: number, HW: number, perNeuron: number, reset: number,
    surrogate: number, keepReset: number,
  ): void;
  /** `g = dv + gv` (dv 0 = none); `dI = g`; `gv = beta*g`; `dbeta += g*vprev` (0 = skip). */
  li_backward(
    dv: number, gv: number, dI: number, vprev: number, dbeta: number, beta: number, B: number, C: number, HW: number,
    perNeuron: number,
  ): void;
}

export const coreFunctionNames = [
  "heap_base", "conv2d_packed_len", "conv2d_pack", "conv2d_dense", "conv2d_dense_rows", "spike_index", "conv2d_event",
  "conv2d_event_rows", "linear_event", "scratch_bytes", "set_scratch", "pool2d",
  "affine", "lif", "li", "cubalif", "relu", "sam_step", "rng_seed", "encode", "count_nonzero", "simd_peak", "gather_peak",
  "plan_run", "plan_error_at", "plan_record", "plan_set_helper", "plan_tiles",
  "sl_plan_bytes", "sl_load", "sl_error_at", "sl_header", "sl_set_input", "sl_input", "sl_run", "sl_steps", "sl_scores", "sl_output",
  "conv2d_backward_input", "conv2d_backward_weight", "bias_backward", "pool2d_backward", "affine_backward",
  "relu_backward", "lif_forward_train", "lif_backward", "li_backward",
] as const satisfies readonly Exclude<keyof CoreExports, "memory">[];
