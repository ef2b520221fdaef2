import { at } from "./memory";
import { conv2d_dense_rows } from "./conv";
import { conv2d_event_rows, conv2d_table_rows, count_nonzero, linearFlagged, spike_index, tableOk, table_fits, zeroOne } from "./event";
import { pool2d } from "./pool";
import { affine, relu } from "./elementwise";
import { cubalif, li, lif } from "./neurons";
import { sam_step } from "./sam";
import { encode } from "./encode";
import { conv2d_bits_rows, spike_bits } from "./bits";

// The plan runner (ABI.md "Plans"). A plan is a program of records, laid out by the library in the arena with the
// weights and every buffer, that runs a block of F time steps of a whole network in one call, layer by layer: each
// record computes all F steps of its layer before the next record starts (a layer's input for the block is known once
// the layer below has run it). Every buffer a record writes is a window of frames, [F][B][...]; state (membranes,
// traces, encoder streams) carries from block to block. Each neuron does the same operations in the same order as a
// step-by-step run, so the bits do not depend on the block length or on the number of threads.
//
// A record is [op, words, args...] of i32 words (f32 and f64 arguments as their bits). A record's work is split into
// tiles (samples, channel groups, output rows, frames); with a helper thread both threads take tiles from a shared
// counter and meet once per phase of a record, so a block costs a handful of hand-offs, not one per layer and step.

const OP_END: i32 = 0;
const OP_ENCODE: i32 = 1; // pre, x, rng, B, N, gain (f32), kind (0 poisson, 1 signed)
const OP_DIRECT: i32 = 2; // pre, x, n, frames: the constant input, copied into every frame of the window at t = 0
const OP_CONV: i32 = 3; // x, idx, cnt, wp, bias, y, B, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, event, limit (f64), flags, fanout, sops, rows, kinds (u8 a sample), table, copy bytes, v0..v3 (f32)
const OP_LINEAR: i32 = 4; // x, idx, cnt, wp, bias, y, B, C, Cout, event, limit (f64, one frame), flags, fanout, sops, binary (u8 a sample)
const OP_POOL: i32 = 5; // kind, x, y, B, C, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW, cc
const OP_AFFINE: i32 = 6; // x, y, scale, shift, B, C, HW, rows (0: one row for every step), cc
const OP_RELU: i32 = 7; // x, y, n (one frame)
const OP_LIF: i32 = 8; // I, s, v, beta, thr, cmp, vr, B, C, HW, perNeuron, reset, delay, last, cc
const OP_CUBALIF: i32 = 9; // I, syn, s, v, alpha, beta, thr, cmp, vr, B, C, HW, perNeuron, reset, delay, last, cc
const OP_LI: i32 = 10; // I, v, y, beta, B, C, HW, perNeuron, cc
const OP_COUNT: i32 = 11; // s, n (one frame), counts (f64 a frame)
const OP_READOUT: i32 = 12; // v, acc, frames, n: acc = fl(acc + v) each step, acc copied into frame f of `frames`
const OP_SAM: i32 = 13; // s, trace, map, B, C, HW, decay (f32), mode, silent table, table length

// Errors plan_run returns (and the record index in plan_error_at).
export const PLAN_OK: i32 = 0;
export const PLAN_BAD_OP: i32 = 1;
export const PLAN_AFFINE_ROWS: i32 = 2;
export const PLAN_SAM_STEPS: i32 = 3;
export const PLAN_HELPER: i32 = 4;
let errorAt: i32 = -1;

export function plan_error_at(): i32 {
  return errorAt;
}

@inline function word(r: usize, i: i32): i32 {
  return load<i32>(r + (<usize>(i + 2) << 2));
}
@inline function ptr(r: usize, i: i32): usize {
  return <usize>load<i32>(r + (<usize>(i + 2) << 2));
}
@inline function wordF32(r: usize, i: i32): f32 {
  return reinterpret<f32>(word(r, i));
}
// (one 8-byte load: assembling it from two i32 words sign-extended the low one after inlining)
@inline function wordF64(r: usize, i: i32): f64 {
  return load<f64>(r + (<usize>(i + 2) << 2));
}
@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

// Synaptic operations of one frame: every nonzero input times the (output channel, position) pairs it reaches, the
// fan-out of its pixel (f64, as the library counts them: b, c, pixel order).
function countSops(x: usize, B: i32, C: i32, HW: i32, fanout: usize): f64 {
  let total: f64 = 0;
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const base = at(x, (b * C + c) * HW);
      for (let q = 0; q < HW; q++) if (load<f32>(at(base, q)) != 0) total += load<f64>(fanout + (<usize>q << 3));
    }
  return total;
}

// ----- the helper thread of the threads build (the control block of src/rows.ts) -----
const JOB: i32 = 0;
const DONE: i32 = 1;
const KIND: i32 = 2;
const FAILED: i32 = 3;
const ARGS: i32 = 4;
// the tile counter both threads take from (after the job arguments)
const NEXT: i32 = 28;
const PLAN_TILES: i32 = 4;
const SPINS: i32 = 1 << 14;
const STALL_WAITS: i32 = 3000000;
let helperFailed = false;
// The control block of this instance's helper thread (0: none); set by the library with plan_set_helper.
let helperCtl: usize = 0;

// The helper's control block (0: none) and the least work (work() units) a record must have to be shared with it.
export function plan_set_helper(ctl: usize, minWork: i32): void {
  helperCtl = ctl;
  minSharedWork = <f64>minWork;
}

// Hands phase `phase` of record r to the helper (JOB bumped and notified last); returns the job number.
@inline function kick(r: usize, phase: i32, t0: i32, F: i32): i32 {
  let seq = 0;
  if (ASC_FEATURE_THREADS) {
    const ctl = helperCtl;
    atomic.store<i32>(at(ctl, NEXT), 0);
    store<i32>(at(ctl, KIND), PLAN_TILES);
    store<i32>(at(ctl, ARGS), <i32>r);
    store<i32>(at(ctl, ARGS + 1), phase);
    store<i32>(at(ctl, ARGS + 2), t0);
    store<i32>(at(ctl, ARGS + 3), F);
    seq = atomic.load<i32>(at(ctl, JOB)) + 1;
    atomic.store<i32>(at(ctl, JOB), seq);
    atomic.notify(at(ctl, JOB), 1);
  }
  return seq;
}

// The threads build's import: a JavaScript Atomics.wait of at most 100 us while the i32 at `addr` holds `expected`
// (src/core.ts; the core's own memory.atomic.wait32 was seen to sleep through notify and timeout on Node's main
// thread). The one-thread build never calls it, and so imports nothing.
// @ts-ignore: decorator
@external("env", "plan_wait")
declare function plan_wait(addr: usize, expected: i32): void;

// Waits until the helper has done job `seq`: spins first (a hand-off inside a block takes microseconds), then sleeps
// in waits of 100 us, so a thread that shares its core with others gives the core back. A helper silent for about
// five minutes, or one whose kernel failed, makes plan_run return PLAN_HELPER.
@inline function waitHelper(seq: i32): void {
  if (ASC_FEATURE_THREADS) {
    const ctl = helperCtl;
    let waits = 0;
    for (let spins = 0; ; spins++) {
      const done = atomic.load<i32>(at(ctl, DONE));
      if (done == seq) break;
      if (spins < SPINS) continue;
      if (++waits > STALL_WAITS) {
        helperFailed = true;
        return;
      }
      plan_wait(at(ctl, DONE), done);
    }
    if (load<i32>(at(ctl, FAILED))) helperFailed = true;
  }
}

// ----- records: the tiles of each phase, the work done once per block by the calling thread, and the tiles -----

// Phases of record r (each phase's tiles may start only when the previous phase is done everywhere).
function phases(r: usize): i32 {
  const op = load<i32>(r);
  if (op == OP_CONV) return word(r, 28) > 1 ? 2 : 1;
  if (op == OP_LINEAR) return 2;
  if (op == OP_DIRECT || op == OP_READOUT) return 0;
  return 1;
}

// Sample chunks of a linear layer's phases: lists and dense products of this many samples a tile.
const LINEAR_SAMPLES: i32 = 32;
// Output vectors (of 4 channels) a linear tile sums: 4 panels, each panel's weights loaded once for all samples.
const LINEAR_VECTORS: i32 = 16;
// Elements a relu tile covers.
const RELU_CHUNK: i32 = 1 << 14;

// Tiles of phase p of record r over F frames.
function tiles(r: usize, p: i32, F: i32): i32 {
  const op = load<i32>(r);
  if (op == OP_ENCODE) return word(r, 3);
  if (op == OP_CONV) {
    const S = F * word(r, 6);
    return word(r, 28) > 1 && p == 1 ? S * word(r, 28) : S;
  }
  if (op == OP_LINEAR) {
    const S = F * word(r, 6);
    if (p == 0 || !linearEvent(r)) return p == 0 ? ceilDiv(S, LINEAR_SAMPLES) : 0;
    return ceilDiv((word(r, 8) + 3) >> 2, LINEAR_VECTORS);
  }
  if (op == OP_POOL) return F * word(r, 3) * ceilDiv(word(r, 4), word(r, 15));
  if (op == OP_AFFINE) return F * word(r, 4) * ceilDiv(word(r, 5), word(r, 8));
  if (op == OP_RELU) return ceilDiv(F * word(r, 2), RELU_CHUNK);
  if (op == OP_LIF) return word(r, 7) * ceilDiv(word(r, 8), word(r, 14));
  if (op == OP_CUBALIF) return word(r, 9) * ceilDiv(word(r, 10), word(r, 16));
  if (op == OP_LI) return word(r, 4) * ceilDiv(word(r, 5), word(r, 8));
  if (op == OP_COUNT) return F;
  if (op == OP_SAM) return word(r, 3);
  return 0;
}

// Whether a linear layer's block took the event path (decided in prepare, kept in its first frame's flag).
@inline function linearEvent(r: usize): bool {
  return load<i32>(ptr(r, 12)) != 0;
}

// The calling thread's part of record r before its tiles: decisions and counts over the whole block. Returns an
// error code (PLAN_OK to go on).
function prepare(r: usize, t0: i32, F: i32): i32 {
  const op = load<i32>(r);
  if (op == OP_DIRECT) {
    // the window keeps the constant input from the first block on
    const n = word(r, 2);
    if (t0 == 0) for (let f = 0; f < word(r, 3); f++) memory.copy(ptr(r, 1) + (<usize>(f * n) << 2), ptr(r, 0), <usize>n << 2);
  } else if (op == OP_CONV) {
    // each frame takes the event path when its nonzero inputs are below the limit (both paths give the same bits)
    const x = ptr(r, 0), B = word(r, 6), C = word(r, 7), HW = word(r, 8) * word(r, 9), n = B * C * HW;
    const event = word(r, 22), limit = wordF64(r, 23), flags = ptr(r, 25), fanout = ptr(r, 26), sops = ptr(r, 27);
    for (let f = 0; f < F; f++) {
      const xf = at(x, f * n);
      store<i32>(at(flags, f), event && <f64>count_nonzero(xf, n) < limit ? 1 : 0);
      if (fanout) store<f64>(sops + (<usize>f << 3), countSops(xf, B, C, HW, fanout));
    }
  } else if (op == OP_LINEAR) {
    const x = ptr(r, 0), B = word(r, 6), C = word(r, 7), n = B * C;
    const event = word(r, 9), limit = wordF64(r, 10), flags = ptr(r, 12), fanout = ptr(r, 13), sops = ptr(r, 14);
    const ev = event && <f64>count_nonzero(x, F * n) < limit * <f64>F ? 1 : 0;
    for (let f = 0; f < F; f++) store<i32>(at(flags, f), ev);
    if (fanout) for (let f = 0; f < F; f++) store<f64>(sops + (<usize>f << 3), countSops(x + (<usize>(f * n) << 2), B, C, 1, fanout));
  } else if (op == OP_AFFINE) {
    const rows = word(r, 7);
    if (rows && t0 + F > rows) return PLAN_AFFINE_ROWS;
  } else if (op == OP_READOUT) {
    const v = ptr(r, 0), acc = ptr(r, 1), frames = ptr(r, 2), n = word(r, 3);
    for (let f = 0; f < F; f++) {
      const vf = v + (<usize>(f * n) << 2);
      for (let i = 0; i < n; i++) store<f32>(at(acc, i), load<f32>(at(acc, i)) + load<f32>(at(vf, i)));
      memory.copy(frames + (<usize>(f * n) << 2), acc, <usize>n << 2);
    }
  } else if (op == OP_SAM) {
    if (t0 + F > word(r, 9)) return PLAN_SAM_STEPS;
  } else if (op < OP_END || op > OP_SAM) return PLAN_BAD_OP;
  return PLAN_OK;
}

// The first element of channel c0's parameters: per neuron (or one neuron a channel) they advance with the neuron.
@inline function paramAt(p: usize, perNeuron: i32, HW: i32, c0: i32): usize {
  return at(p, perNeuron || HW == 1 ? c0 * HW : c0);
}

// Tile i of phase p of record r.
function tile(r: usize, p: i32, i: i32, t0: i32, F: i32): void {
  const op = load<i32>(r);
  if (op == OP_ENCODE) {
    // one sample's encoder stream through the block's frames, in step order
    const B = word(r, 3), N = word(r, 4);
    const pre = at(ptr(r, 0), i * N), x = ptr(r, 1), rng = at(ptr(r, 2), 4 * i);
    for (let f = 0; f < F; f++) encode(pre, at(x, (f * B + i) * N), rng, 1, N, wordF32(r, 5), word(r, 6));
  } else if (op == OP_CONV) convTile(r, p, i);
  else if (op == OP_LINEAR) linearTile(r, p, i, F);
  else if (op == OP_POOL) {
    const B = word(r, 3), C = word(r, 4), H = word(r, 5), W = word(r, 6), Ho = word(r, 7), Wo = word(r, 8), cc = word(r, 15);
    const groups = ceilDiv(C, cc);
    const s = i / groups, c0 = (i % groups) * cc, n = min(cc, C - c0);
    pool2d(word(r, 0), at(ptr(r, 1), (s * C + c0) * H * W), at(ptr(r, 2), (s * C + c0) * Ho * Wo), 1, n, H, W, Ho, Wo,
      word(r, 9), word(r, 10), word(r, 11), word(r, 12), word(r, 13), word(r, 14));
  } else if (op == OP_AFFINE) {
    const B = word(r, 4), C = word(r, 5), HW = word(r, 6), rows = word(r, 7), cc = word(r, 8);
    const groups = ceilDiv(C, cc);
    const s = i / groups, c0 = (i % groups) * cc, n = min(cc, C - c0);
    const row = rows ? (t0 + s / B) * C : 0;
    affine(at(ptr(r, 0), (s * C + c0) * HW), at(ptr(r, 1), (s * C + c0) * HW), at(ptr(r, 2), row + c0), at(ptr(r, 3), row + c0), 1, n, HW);
  } else if (op == OP_RELU) {
    const total = F * word(r, 2), o = i * RELU_CHUNK;
    relu(at(ptr(r, 0), o), at(ptr(r, 1), o), min(RELU_CHUNK, total - o));
  } else if (op == OP_LIF) lifTile(r, i, F, false);
  else if (op == OP_CUBALIF) lifTile(r, i, F, true);
  else if (op == OP_LI) {
    const I = ptr(r, 0), v = ptr(r, 1), y = ptr(r, 2), B = word(r, 4), C = word(r, 5), HW = word(r, 6), pn = word(r, 7), cc = word(r, 8);
    const groups = ceilDiv(C, cc);
    const b = i / groups, c0 = (i % groups) * cc, n = min(cc, C - c0);
    const beta = paramAt(ptr(r, 3), pn, HW, c0);
    const vb = at(v, (b * C + c0) * HW);
    for (let f = 0; f < F; f++) {
      const o = ((f * B + b) * C + c0) * HW;
      li(at(I, o), vb, beta, 1, n, HW, pn);
      memory.copy(at(y, o), vb, <usize>(n * HW) << 2);
    }
  } else if (op == OP_COUNT) {
    const n = word(r, 1);
    store<f64>(ptr(r, 2) + (<usize>i << 3), <f64>count_nonzero(at(ptr(r, 0), i * n), n));
  } else if (op == OP_SAM) {
    const B = word(r, 3), C = word(r, 4), HW = word(r, 5), silent = ptr(r, 8);
    const trace = at(ptr(r, 1), i * C * HW);
    for (let f = 0; f < F; f++) {
      const s = f * B + i;
      sam_step(at(ptr(r, 0), s * C * HW), trace, at(ptr(r, 2), s * HW), 1, C, HW, wordF32(r, 6), word(r, 7), load<f32>(at(silent, t0 + f)));
    }
  }
}

// Channels from which a binary input is summed from bit masks rather than lists.
const BITS_MIN_CHANNELS: i32 = 16;

// A conv layer: phase 0 takes one sample-frame a tile (its masks or lists, then all its rows unless the rows are
// split), and with `rows` > 1 chunks phase 1 computes `rows` chunks of output rows of each sample-frame. An event
// frame's binary samples (spikes) are summed from bit masks, its other samples (pooled spikes, currents) from lists
// of active inputs with their values; `kinds` keeps each sample-frame's choice (1 lists, 2 masks) between phases.
function convTile(r: usize, p: i32, i: i32): void {
  const x = ptr(r, 0), idx = ptr(r, 1), cnt = ptr(r, 2), wp = ptr(r, 3), bias = ptr(r, 4), y = ptr(r, 5);
  const B = word(r, 6), C = word(r, 7), H = word(r, 8), W = word(r, 9), Cout = word(r, 10), Ho = word(r, 11), Wo = word(r, 12);
  const kH = word(r, 13), kW = word(r, 14), sH = word(r, 15), sW = word(r, 16), pH = word(r, 17), pW = word(r, 18);
  const dH = word(r, 19), dW = word(r, 20), groups = word(r, 21), flags = ptr(r, 25), chunks = word(r, 28), kinds = ptr(r, 29);
  const HW = H * W;
  const s = p == 0 ? i : i / chunks;
  const event = load<i32>(at(flags, s / B)) != 0;
  const xs = at(x, s * C * HW), ys = at(y, s * Cout * Ho * Wo);
  const is = at(idx, s * HW * C), cs = at(cnt, s * HW);
  const table = ptr(r, 30);
  if (p == 0 && event) {
    if (C >= BITS_MIN_CHANNELS && spike_bits(xs, C, HW, is)) {
      store<u8>(kinds + <usize>s, 2);
    } else {
      spike_index(xs, 1, C, HW, is, cs);
      const tabled = table != 0 && table_fits(kH, kW, C) && tableOk(xs, C * HW, wordF32(r, 32), wordF32(r, 33), wordF32(r, 34), wordF32(r, 35));
      store<u8>(kinds + <usize>s, tabled ? 3 : 1);
    }
  }
  if (p == 0 && chunks > 1) return;
  let oy0 = 0, oy1 = Ho;
  if (chunks > 1) {
    const k = i % chunks;
    oy0 = (Ho * k) / chunks;
    oy1 = (Ho * (k + 1)) / chunks;
  }
  if (!event) conv2d_dense_rows(xs, wp, bias, ys, 1, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, oy0, oy1);
  else if (load<u8>(kinds + <usize>s) == 2) conv2d_bits_rows(is, wp, bias, ys, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1);
  else if (load<u8>(kinds + <usize>s) == 3)
    conv2d_table_rows(xs, is, cs, table, <usize>word(r, 31), wordF32(r, 32), wordF32(r, 33), wordF32(r, 34), bias, ys, C, H, W, Cout, Ho, Wo,
      kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1);
  else conv2d_event_rows(xs, is, cs, wp, bias, ys, 1, C, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1);
}

// A linear layer over all F x B samples of the block: phase 0 builds the lists (and 0/1 flags) of LINEAR_SAMPLES
// samples a tile, or on the dense path computes them; phase 1 sums LINEAR_VECTORS output vectors of every sample a
// tile, its weights read once for all samples.
function linearTile(r: usize, p: i32, i: i32, F: i32): void {
  const x = ptr(r, 0), idx = ptr(r, 1), cnt = ptr(r, 2), wp = ptr(r, 3), bias = ptr(r, 4), y = ptr(r, 5);
  const S = F * word(r, 6), C = word(r, 7), Cout = word(r, 8), binary = ptr(r, 15);
  if (p == 0) {
    const s0 = i * LINEAR_SAMPLES, n = min(LINEAR_SAMPLES, S - s0);
    if (linearEvent(r)) {
      spike_index(at(x, s0 * C), n, C, 1, at(idx, s0 * C), at(cnt, s0));
      for (let s = s0; s < s0 + n; s++) store<u8>(binary + <usize>s, zeroOne(at(x, s * C), C) ? 1 : 0);
    } else conv2d_dense_rows(at(x, s0 * C), wp, bias, at(y, s0 * Cout), n, C, 1, 1, Cout, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1);
    return;
  }
  const v0 = i * LINEAR_VECTORS;
  linearFlagged(x, idx, cnt, wp, bias, y, S, C, Cout, v0, min(v0 + LINEAR_VECTORS, (Cout + 3) >> 2), binary);
}

// A LIF (or current-based LIF: `k` = 2 more words, syn and alpha) layer: one sample's channel group a tile, through
// the block's frames in step order. With a delayed reset the kernel reads the previous step's spikes in its output,
// so each frame starts as a copy of the one before (the first from `last`, the block before's final spikes), and
// `last` keeps the block's final ones.
function lifTile(r: usize, i: i32, F: i32, cuba: bool): void {
  const k = cuba ? 2 : 0;
  const I = ptr(r, 0), syn = cuba ? ptr(r, 1) : 0, s = ptr(r, 1 + (k >> 1)), v = ptr(r, 2 + (k >> 1));
  const B = word(r, 7 + k), C = word(r, 8 + k), HW = word(r, 9 + k), pn = word(r, 10 + k);
  const reset = word(r, 11 + k), delay = word(r, 12 + k), last = ptr(r, 13 + k), cc = word(r, 14 + k);
  const groups = ceilDiv(C, cc);
  const b = i / groups, c0 = (i % groups) * cc, n = min(cc, C - c0);
  const alpha = cuba ? paramAt(ptr(r, 4), pn, HW, c0) : 0;
  const beta = paramAt(ptr(r, 3 + k), pn, HW, c0);
  const thr = paramAt(ptr(r, 4 + k), pn, HW, c0);
  const cmp = paramAt(ptr(r, 5 + k), pn, HW, c0);
  const vr = paramAt(ptr(r, 6 + k), pn, HW, c0);
  const state = (b * C + c0) * HW;
  const frame = B * C * HW;
  const bytes = <usize>(n * HW) << 2;
  for (let f = 0; f < F; f++) {
    const o = f * frame + state;
    if (delay) memory.copy(at(s, o), f == 0 ? at(last, state) : at(s, o - frame), bytes);
    if (cuba) cubalif(at(I, o), at(syn, state), at(s, o), at(v, state), alpha, beta, thr, cmp, vr, 1, n, HW, pn, reset, delay);
    else lif(at(I, o), at(s, o), at(v, state), beta, thr, cmp, vr, 1, n, HW, pn, reset, delay);
  }
  if (delay) memory.copy(at(last, state), at(s, (F - 1) * frame + state), bytes);
}

// Runs the tiles of one phase on this thread, taking them from the shared counter when a helper takes them too.
function runTiles(r: usize, p: i32, n: i32, t0: i32, F: i32, shared: bool): void {
  if (ASC_FEATURE_THREADS && shared) {
    const next = at(helperCtl, NEXT);
    for (let i = atomic.add<i32>(next, 1); i < n; i = atomic.add<i32>(next, 1)) tile(r, p, i, t0, F);
    return;
  }
  for (let i = 0; i < n; i++) tile(r, p, i, t0, F);
}

// The helper's side of a hand-off: tiles of phase p of record r, from the counter of control block ctl.
export function plan_tiles(r: usize, p: i32, t0: i32, F: i32, ctl: usize): void {
  if (ASC_FEATURE_THREADS) {
    const n = tiles(r, p, F);
    const next = at(ctl, NEXT);
    for (let i = atomic.add<i32>(next, 1); i < n; i = atomic.add<i32>(next, 1)) tile(r, p, i, t0, F);
  }
}

// Work below which a record runs on the calling thread alone (plan_set_helper): a hand-off costs microseconds, more
// when the helper has gone to sleep. Units: elements touched, a conv's multiply-accumulates / 16.
let minSharedWork: f64 = 0;

// A rough size of record r's work over F frames, in MIN_SHARED_WORK's units.
function work(r: usize, F: i32): f64 {
  const op = load<i32>(r);
  const f = <f64>F;
  if (op == OP_ENCODE) return f * <f64>word(r, 3) * <f64>word(r, 4);
  if (op == OP_CONV)
    return (f * <f64>word(r, 6) * <f64>word(r, 10) * <f64>word(r, 11) * <f64>word(r, 12) * <f64>word(r, 7) * <f64>word(r, 13) * <f64>word(r, 14)) /
      (16 * <f64>word(r, 21));
  if (op == OP_LINEAR) return (f * <f64>word(r, 6) * <f64>word(r, 7) * <f64>word(r, 8)) / 16;
  if (op == OP_POOL) return f * <f64>word(r, 3) * <f64>word(r, 4) * <f64>word(r, 7) * <f64>word(r, 8) * <f64>word(r, 9) * <f64>word(r, 10);
  if (op == OP_AFFINE) return f * <f64>word(r, 4) * <f64>word(r, 5) * <f64>word(r, 6);
  if (op == OP_RELU) return f * <f64>word(r, 2);
  if (op == OP_LIF) return 4 * f * <f64>word(r, 7) * <f64>word(r, 8) * <f64>word(r, 9);
  if (op == OP_CUBALIF) return 6 * f * <f64>word(r, 9) * <f64>word(r, 10) * <f64>word(r, 11);
  if (op == OP_LI) return 3 * f * <f64>word(r, 4) * <f64>word(r, 5) * <f64>word(r, 6);
  if (op == OP_COUNT) return f * <f64>word(r, 1);
  if (op == OP_SAM) return 4 * f * <f64>word(r, 3) * <f64>word(r, 4) * <f64>word(r, 5);
  return 0;
}

// Runs record r (index k) for steps t0 .. t0 + F - 1: its block-wide part, then each phase's tiles, shared with the
// helper when there is one and the record is worth a hand-off.
function runRecord(r: usize, k: i32, t0: i32, F: i32): i32 {
  const err = prepare(r, t0, F);
  if (err != PLAN_OK) {
    errorAt = k;
    return err;
  }
  const P = phases(r);
  const shared = ASC_FEATURE_THREADS && helperCtl != 0 && work(r, F) >= minSharedWork;
  for (let p = 0; p < P; p++) {
    const n = tiles(r, p, F);
    if (shared && n > 1) {
      const seq = kick(r, p, t0, F);
      runTiles(r, p, n, t0, F, true);
      waitHelper(seq);
      if (helperFailed) {
        helperFailed = false;
        errorAt = k;
        return PLAN_HELPER;
      }
    } else runTiles(r, p, n, t0, F, false);
  }
  return PLAN_OK;
}

// Runs steps t0 .. t0 + F - 1 of the program at `prog`; every window must hold F frames. Returns PLAN_OK or an
// error (plan_error_at: the record's index).
export function plan_run(prog: usize, t0: i32, F: i32): i32 {
  let r = prog;
  for (let k = 0; load<i32>(r) != OP_END; k++) {
    const err = runRecord(r, k, t0, F);
    if (err != PLAN_OK) return err;
    r += <usize>load<i32>(r, 4) << 2;
  }
  return PLAN_OK;
}

// One record of a program (at address r) for steps t0 .. t0 + F - 1, as plan_run runs it: a profiler times records
// one by one; plan_error_at() is 0 on an error.
export function plan_record(r: usize, t0: i32, F: i32): i32 {
  return runRecord(r, 0, t0, F);
}
