import { at } from "./memory";
import { padded4, panelBytes, putLanes, vectorBase } from "./conv";
import { tapHi, tapLo } from "./window";

// Appends channel c to the list of pixel p (list at ib + p*C, count at cb + p). Channels arrive in ascending order,
// so every list stays sorted and the event conv sums in the dense conv's order.
@inline function append(c: i32, p: i32, C: i32, cb: usize, ib: usize): void {
  const k = load<i32>(at(cb, p));
  store<i32>(at(ib, p * C + k), c);
  store<i32>(at(cb, p), k + 1);
}

// Bit q set iff x[q] of the 4 floats at xq is nonzero; walking the set bits costs a branch per spike, not per input.
@inline function nonzeroBits(xq: usize): i32 {
  return i32x4.bitmask(f32x4.ne(v128.load(xq), f32x4.splat(0)));
}

export function spike_index(x: usize, B: i32, C: i32, HW: i32, idx: usize, cnt: usize): i32 {
  let total = 0;
  if (HW == 1) {
    // Flat activity: a sample's channels are contiguous, so one list per sample is filled straight from the row.
    for (let b = 0; b < B; b++) {
      const xr = at(x, b * C);
      const list = at(idx, b * C);
      let k = 0;
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        for (let bits = nonzeroBits(at(xr, c)); bits; bits &= bits - 1) {
          store<i32>(at(list, k++), c + ctz(bits));
        }
      }
      for (; c < C; c++) if (load<f32>(at(xr, c)) != 0) store<i32>(at(list, k++), c);
      store<i32>(at(cnt, b), k);
      total += k;
    }
    return total;
  }
  for (let b = 0; b < B; b++) {
    const cb = at(cnt, b * HW);
    const ib = at(idx, b * HW * C);
    memory.fill(cb, 0, <usize>HW << 2);
    for (let c = 0; c < C; c++) {
      const xr = at(x, (b * C + c) * HW);
      let p = 0;
      for (; p + 4 <= HW; p += 4) {
        for (let bits = nonzeroBits(at(xr, p)); bits; bits &= bits - 1) {
          append(c, p + ctz(bits), C, cb, ib);
          total++;
        }
      }
      for (; p < HW; p++) {
        if (load<f32>(at(xr, p)) != 0) {
          append(c, p, C, cb, ib);
          total++;
        }
      }
    }
  }
  return total;
}

// One combined list per output pixel: for every in-range tap (ky, kx) in order and every active input channel of
// that input pixel in ascending order (the dense conv's summation order), the byte offset of its weight row within a
// panel of the packed weights (64 bytes a row, conv.ts) and its input value. Built once per pixel and shared by all output-channel tiles, it turns nine
// short loops into one long one. Static scratch; a layer whose receptive field could hold more active inputs than
// it has room for uses the per-tap path below.
const LIST_CAP: i32 = 1 << 15;
// This instance's scratch: static in the one-thread build. The threads build has none (a shared memory would carry
// it as a 256 KiB data segment): each instance on the shared memory points its own at an arena block with
// set_scratch before its first event conv, so two threads never write one list.
let listW: usize = ASC_FEATURE_THREADS ? 0 : memory.data(LIST_CAP << 3, 16);
let listX: usize = listW + (<usize>LIST_CAP << 2);

// Bytes of scratch set_scratch needs.
export function scratch_bytes(): i32 {
  return LIST_CAP << 3;
}

// Moves this instance's combined-list scratch to [ptr, ptr + scratch_bytes()), 16-aligned.
export function set_scratch(ptr: usize): void {
  listW = ptr;
  listX = ptr + (<usize>LIST_CAP << 2);
}

// Writes the nv accumulators of output channels [4j, 4j + 4nv) of one output pixel, adding the bias.
@inline function putTile(
  nv: i32, j: i32, yp: usize, yc: usize, bias: usize, Cout: i32, a0: v128, a1: v128, a2: v128, a3: v128, a4: v128, a5: v128,
): void {
  const c0 = j << 2;
  const y0 = yp + <usize>c0 * yc;
  const b0: usize = bias ? at(bias, c0) : 0;
  putLanes(a0, y0, yc, Cout - c0, b0);
  if (nv > 1) putLanes(a1, y0 + 4 * yc, yc, Cout - c0 - 4, bias ? b0 + 16 : 0);
  if (nv > 2) putLanes(a2, y0 + 8 * yc, yc, Cout - c0 - 8, bias ? b0 + 32 : 0);
  if (nv > 3) putLanes(a3, y0 + 12 * yc, yc, Cout - c0 - 12, bias ? b0 + 48 : 0);
  if (nv > 4) putLanes(a4, y0 + 16 * yc, yc, Cout - c0 - 16, bias ? b0 + 64 : 0);
  if (nv > 5) putLanes(a5, y0 + 20 * yc, yc, Cout - c0 - 20, bias ? b0 + 80 : 0);
}

// Output channels [4j, 4j + 4nv) of one output pixel from the combined list of n entries. With `ones` every input
// value is 1, so w*x is w exactly and the multiply is skipped (same bits).
// The tile starts at slot `s` (0 or 2, a constant: j & 3) of its panel and runs into the next panel past slot 3.
@inline function listTile(
  nv: i32, s: i32, ones: bool, j: i32, n: i32, lw: usize, lx: usize, wp: usize, ps: usize, yp: usize, yc: usize, bias: usize, Cout: i32,
): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero;
  const wj = wp + <usize>(j >> 2) * ps;
  for (let k = 0; k < n; k++) {
    const wq = wj + <usize>load<i32>(lw + (<usize>k << 2));
    const wr = wq + ps;
    // vector v of the tile is slot s + v of this panel's row, or slot s + v - 4 of the next panel's
    const w0 = s == 0 ? v128.load(wq) : v128.load(wq, 32);
    const w1 = nv > 1 ? (s == 0 ? v128.load(wq, 16) : v128.load(wq, 48)) : zero;
    const w2 = nv > 2 ? (s == 0 ? v128.load(wq, 32) : v128.load(wr)) : zero;
    const w3 = nv > 3 ? (s == 0 ? v128.load(wq, 48) : v128.load(wr, 16)) : zero;
    const w4 = nv > 4 ? (s == 0 ? v128.load(wr) : v128.load(wr, 32)) : zero;
    const w5 = nv > 5 ? (s == 0 ? v128.load(wr, 16) : v128.load(wr, 48)) : zero;
    if (ones) {
      a0 = f32x4.add(a0, w0);
      if (nv > 1) a1 = f32x4.add(a1, w1);
      if (nv > 2) a2 = f32x4.add(a2, w2);
      if (nv > 3) a3 = f32x4.add(a3, w3);
      if (nv > 4) a4 = f32x4.add(a4, w4);
      if (nv > 5) a5 = f32x4.add(a5, w5);
    } else {
      const xv = f32x4.splat(load<f32>(lx + (<usize>k << 2)));
      a0 = f32x4.add(a0, f32x4.mul(w0, xv));
      if (nv > 1) a1 = f32x4.add(a1, f32x4.mul(w1, xv));
      if (nv > 2) a2 = f32x4.add(a2, f32x4.mul(w2, xv));
      if (nv > 3) a3 = f32x4.add(a3, f32x4.mul(w3, xv));
      if (nv > 4) a4 = f32x4.add(a4, f32x4.mul(w4, xv));
      if (nv > 5) a5 = f32x4.add(a5, f32x4.mul(w5, xv));
    }
  }
  putTile(nv, j, yp, yc, bias, Cout, a0, a1, a2, a3, a4, a5);
}

// listTile at vector j (even), with its slot in the panel as a constant.
@inline function tileAt(
  nv: i32, ones: bool, j: i32, n: i32, lw: usize, lx: usize, wp: usize, ps: usize, yp: usize, yc: usize, bias: usize, Cout: i32,
): void {
  if (j & 2) listTile(nv, 2, ones, j, n, lw, lx, wp, ps, yp, yc, bias, Cout);
  else listTile(nv, 0, ones, j, n, lw, lx, wp, ps, yp, yc, bias, Cout);
}

// Tiles of 6 vectors for convolutions; tiles of 4 (one panel) when a list spans whole rows of a wide layer (1x1:
// measured, B3 2.5x slower with 8 accumulators). Every tile starts at an even vector.
@inline function listTiles(
  ones: bool, wide: bool, nvec: i32, n: i32, lw: usize, lx: usize, wp: usize, ps: usize, yp: usize, yc: usize, bias: usize, Cout: i32,
): void {
  let j = 0;
  if (!wide) for (; j + 6 <= nvec; j += 6) tileAt(6, ones, j, n, lw, lx, wp, ps, yp, yc, bias, Cout);
  for (; j + 4 <= nvec; j += 4) tileAt(4, ones, j, n, lw, lx, wp, ps, yp, yc, bias, Cout);
  if (j + 2 <= nvec) {
    tileAt(2, ones, j, n, lw, lx, wp, ps, yp, yc, bias, Cout);
    j += 2;
  }
  if (j < nvec) tileAt(1, ones, j, n, lw, lx, wp, ps, yp, yc, bias, Cout);
}

// Output channels [4j, 4j + 4nv) of one output pixel, gathering each in-range tap's active input channels.
@inline function eventTile(
  nv: i32, j: i32,
  xb: usize, xc: usize, lists: usize, counts: usize, Cin: i32, W: i32, iy0: i32, ix0: i32, dH: i32, dW: i32,
  wp: usize, ps: usize, kW: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32,
  yp: usize, yc: usize, bias: usize, Cout: i32,
): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  // inside one panel: 4-vector tiles start at a multiple of 4, the 2- and 1-vector tails at an even vector
  const wj = vectorBase(wp, ps, j);
  for (let ky = ky0; ky < ky1; ky++) {
    const prow = (iy0 + ky * dH) * W + ix0;
    for (let kx = kx0; kx < kx1; kx++) {
      const p = prow + kx * dW;
      const n = load<i32>(at(counts, p));
      const list = at(lists, p * Cin);
      const xp = at(xb, p);
      const wt = wj + (<usize>((ky * kW + kx) * Cin) << 6);
      for (let k = 0; k < n; k++) {
        const c = load<i32>(at(list, k));
        const xv = f32x4.splat(load<f32>(xp + <usize>c * xc));
        const wq = wt + (<usize>c << 6);
        a0 = f32x4.add(a0, f32x4.mul(v128.load(wq), xv));
        if (nv > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load(wq, 16), xv));
        if (nv > 2) a2 = f32x4.add(a2, f32x4.mul(v128.load(wq, 32), xv));
        if (nv > 3) a3 = f32x4.add(a3, f32x4.mul(v128.load(wq, 48), xv));
      }
    }
  }
  putTile(nv, j, yp, yc, bias, Cout, a0, a1, a2, a3, zero, zero);
}

// The combined list of one output pixel into lw (weight-row byte offsets) and, unless `binary`, lx (input values);
// returns its length. For binary input the offsets are made four at a time from the channel lists, no value is read.
@inline function buildList(
  binary: bool, xb: usize, xc: usize, lists: usize, counts: usize, Cin: i32, W: i32, iy0: i32, ix0: i32, dH: i32, dW: i32,
  kW: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, lw: usize, lx: usize,
): i32 {
  let n = 0;
  for (let ky = ky0; ky < ky1; ky++) {
    const prow = (iy0 + ky * dH) * W + ix0;
    for (let kx = kx0; kx < kx1; kx++) {
      const p = prow + kx * dW;
      const m = load<i32>(at(counts, p));
      const list = at(lists, p * Cin);
      const tap = <usize>((ky * kW + kx) * Cin) << 6;
      const dst = lw + (<usize>n << 2);
      let k = 0;
      if (binary) {
        const tapv = i32x4.splat(<i32>tap);
        for (; k + 4 <= m; k += 4) {
          v128.store(dst + (<usize>k << 2), i32x4.add(i32x4.shl(v128.load(at(list, k)), 6), tapv));
        }
      }
      const xp = at(xb, p);
      for (; k < m; k++) {
        const c = load<i32>(at(list, k));
        store<i32>(dst + (<usize>k << 2), <i32>(tap + (<usize>c << 6)));
        if (!binary) store<f32>(lx + (<usize>(n + k) << 2), load<f32>(xp + <usize>c * xc));
      }
      n += m;
    }
  }
  return n;
}

// True iff each of the n floats at x is 0 or 1 (-0 counts as 0: it contributes nothing, like +0).
export function zeroOne(x: usize, n: i32): bool {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let bad = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(at(x, i));
    bad = v128.or(bad, v128.and(f32x4.ne(v, zero), f32x4.ne(v, one)));
  }
  if (v128.any_true(bad)) return false;
  for (; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (v != 0 && v != 1) return false;
  }
  return true;
}

export function conv2d_event(
  x: usize, idx: usize, cnt: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, H: i32, W: i32,
  Cout: i32, Ho: i32, Wo: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
): void {
  conv2d_event_rows(x, idx, cnt, wp, bias, y, B, Cin, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, 0, Ho);
}

// conv2d_event for output rows [oy0, oy1) only (of every sample): two threads sharing one memory split a layer so.
export function conv2d_event_rows(
  x: usize, idx: usize, cnt: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, H: i32, W: i32,
  Cout: i32, Ho: i32, Wo: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
  oy0: i32, oy1: i32,
): void {
  const lw = listW;
  const lx = listX;
  oy0 = max(oy0, 0);
  oy1 = min(oy1, Ho);
  const HW = H * W;
  const HoWo = Ho * Wo;
  const nvec = padded4(Cout) >> 2;
  const ps = panelBytes(kH, kW, Cin);
  const xc = <usize>HW << 2;
  const yc = <usize>HoWo << 2;
  const combined = kH * kW * Cin <= LIST_CAP;
  for (let b = 0; b < B; b++) {
    const xb = at(x, b * Cin * HW);
    const binary = zeroOne(xb, Cin * HW);
    const counts = at(cnt, b * HW);
    const lists = at(idx, b * HW * Cin);
    for (let oy = oy0; oy < oy1; oy++) {
      const iy0 = oy * sH - pH;
      const ky0 = tapLo(iy0, dH), ky1 = tapHi(iy0, dH, kH, H);
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = ox * sW - pW;
        const kx0 = tapLo(ix0, dW), kx1 = tapHi(ix0, dW, kW, W);
        const yp = at(y, b * Cout * HoWo + oy * Wo + ox);
        if (combined) {
          // Binary samples (the usual spikes) skip the values: 0/1 inputs add weights as they are (same bits).
          const n = binary
            ? buildList(true, xb, xc, lists, counts, Cin, W, iy0, ix0, dH, dW, kW, ky0, ky1, kx0, kx1, lw, lx)
            : buildList(false, xb, xc, lists, counts, Cin, W, iy0, ix0, dH, dW, kW, ky0, ky1, kx0, kx1, lw, lx);
          const wide = kH * kW == 1;
          if (binary) {
            if (wide) listTiles(true, true, nvec, n, lw, lx, wp, ps, yp, yc, bias, Cout);
            else listTiles(true, false, nvec, n, lw, lx, wp, ps, yp, yc, bias, Cout);
          } else if (wide) listTiles(false, true, nvec, n, lw, lx, wp, ps, yp, yc, bias, Cout);
          else listTiles(false, false, nvec, n, lw, lx, wp, ps, yp, yc, bias, Cout);
          continue;
        }
        let j = 0;
        for (; j + 4 <= nvec; j += 4) {
          eventTile(4, j, xb, xc, lists, counts, Cin, W, iy0, ix0, dH, dW, wp, ps, kW, ky0, ky1, kx0, kx1, yp, yc, bias, Cout);
        }
        if (j + 2 <= nvec) {
          eventTile(2, j, xb, xc, lists, counts, Cin, W, iy0, ix0, dH, dW, wp, ps, kW, ky0, ky1, kx0, kx1, yp, yc, bias, Cout);
          j += 2;
        }
        if (j < nvec) {
          eventTile(1, j, xb, xc, lists, counts, Cin, W, iy0, ix0, dH, dW, wp, ps, kW, ky0, ky1, kx0, kx1, yp, yc, bias, Cout);
        }
      }
    }
  }
}

// A linear layer (1x1 kernel on a 1x1 input: the flat case) over many samples, e.g. a batch times a block of time
// steps, for output-channel vectors [v0, v1) only. Tiles of 4 output vectors (a panel) run outermost and samples
// inside, so one tile's weights (a 64-byte line per input, contiguous) stay in cache while every sample's active list is
// summed into it: the weights are read from memory once per call instead of once per sample. Each output sums in the
// dense conv's order (ascending input channels from zero, bias last): the bits of conv2d_event and conv2d_dense.
// Needs spike_index(x, B, Cin, 1, idx, cnt). Each sample's 0/1 flag (a byte) and list cursor (an i32) go to the
// scratch, so samples are taken LIST_CAP at a time.
export function linear_event(
  x: usize, idx: usize, cnt: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, v0: i32, v1: i32,
): void {
  const cap = LIST_CAP;
  const flags = listW;
  for (let b0 = 0; b0 < B; b0 += cap) {
    const n = min(cap, B - b0);
    for (let b = 0; b < n; b++) store<u8>(flags + <usize>b, zeroOne(at(x, (b0 + b) * Cin), Cin) ? 1 : 0);
    linearSamples(at(x, b0 * Cin), at(idx, b0 * Cin), at(cnt, b0), wp, bias, at(y, b0 * Cout), n, Cin, Cout, v0, v1, flags);
  }
}

// linear_event with each sample's 0/1 flag (a byte: zeroOne of its row) given in `flags`, for callers that split one
// layer into many calls (the plan's tiles) and check the inputs once.
export function linearFlagged(
  x: usize, idx: usize, cnt: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, v0: i32, v1: i32, flags: usize,
): void {
  const cap = LIST_CAP;
  for (let b0 = 0; b0 < B; b0 += cap) {
    linearSamples(at(x, b0 * Cin), at(idx, b0 * Cin), at(cnt, b0), wp, bias, at(y, b0 * Cout), min(cap, B - b0), Cin, Cout, v0, v1, flags + <usize>b0);
  }
}

function linearSamples(
  x: usize, idx: usize, cnt: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, Cout: i32, v0: i32, v1: i32, flags: usize,
): void {
  const nvec = padded4(Cout) >> 2;
  v0 = max(v0, 0);
  v1 = min(v1, nvec);
  if (v0 >= v1) return;
  const ps = panelBytes(1, 1, Cin);
  let j = v0;
  while (j & 3 && j < v1) linearTiles(1, j++, x, idx, cnt, wp, ps, bias, y, B, Cin, Cout, flags); // then from a panel's start
  for (; j + 4 <= v1; j += 4) linearTiles(4, j, x, idx, cnt, wp, ps, bias, y, B, Cin, Cout, flags);
  if (j + 2 <= v1) {
    linearTiles(2, j, x, idx, cnt, wp, ps, bias, y, B, Cin, Cout, flags);
    j += 2;
  }
  if (j < v1) linearTiles(1, j, x, idx, cnt, wp, ps, bias, y, B, Cin, Cout, flags);
}

// Inputs a tile sums in one pass over the samples: its weights for them (64 B each, 256 KiB) stay in L2.
const ROW_BLOCK: i32 = 4096;

// First k in [k, n) whose listed channel is at least c (the list ascends).
@inline function lowerBound(list: usize, k: i32, n: i32, c: i32): i32 {
  let hi = n;
  while (k < hi) {
    const mid = (k + hi) >>> 1;
    if (load<i32>(at(list, mid)) < c) k = mid + 1;
    else hi = mid;
  }
  return k;
}

// Output channels [4j, 4j + 4nv) of every sample, inside one panel. A full 4-vector tile of a layer with more than
// ROW_BLOCK inputs sums them in passes of ROW_BLOCK, every sample per pass, each sample's sum carried over in its
// outputs (stored and loaded as f32: the same additions in the same order) and its place in its list in the
// scratch (listX); the bias comes after the last pass. Other tiles take one pass.
@inline function linearTiles(
  nv: i32, j: i32, x: usize, idx: usize, cnt: usize, wp: usize, ps: usize, bias: usize, y: usize, B: i32, Cin: i32,
  Cout: i32, flags: usize,
): void {
  const wj = vectorBase(wp, ps, j);
  const zero = f32x4.splat(0);
  const pass = nv == 4 && (j << 2) + 16 <= Cout ? ROW_BLOCK : Cin;
  const cursors = listX;
  for (let c0 = 0; c0 < Cin; c0 += pass) {
    const c1 = min(Cin, c0 + pass);
    for (let b = 0; b < B; b++) {
      const list = at(idx, b * Cin);
      const n = load<i32>(at(cnt, b));
      const k0 = c0 == 0 ? 0 : load<i32>(cursors + (<usize>b << 2));
      const k1 = c1 == Cin ? n : lowerBound(list, k0, n, c1);
      if (c1 < Cin) store<i32>(cursors + (<usize>b << 2), k1);
      const yq = at(y, b * Cout + (j << 2));
      let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
      if (nv == 4 && c0 > 0) {
        a0 = v128.load(yq);
        a1 = v128.load(yq, 16);
        a2 = v128.load(yq, 32);
        a3 = v128.load(yq, 48);
      }
      if (load<u8>(flags + <usize>b)) {
        for (let k = k0; k < k1; k++) {
          const wq = wj + (<usize>load<i32>(at(list, k)) << 6);
          a0 = f32x4.add(a0, v128.load(wq));
          if (nv > 1) a1 = f32x4.add(a1, v128.load(wq, 16));
          if (nv > 2) a2 = f32x4.add(a2, v128.load(wq, 32));
          if (nv > 3) a3 = f32x4.add(a3, v128.load(wq, 48));
        }
      } else {
        const xb = at(x, b * Cin);
        for (let k = k0; k < k1; k++) {
          const c = load<i32>(at(list, k));
          const xv = f32x4.splat(load<f32>(at(xb, c)));
          const wq = wj + (<usize>c << 6);
          a0 = f32x4.add(a0, f32x4.mul(v128.load(wq), xv));
          if (nv > 1) a1 = f32x4.add(a1, f32x4.mul(v128.load(wq, 16), xv));
          if (nv > 2) a2 = f32x4.add(a2, f32x4.mul(v128.load(wq, 32), xv));
          if (nv > 3) a3 = f32x4.add(a3, f32x4.mul(v128.load(wq, 48), xv));
        }
      }
      if (c1 == Cin) putTile(nv, j, at(y, b * Cout), 4, bias, Cout, a0, a1, a2, a3, zero, zero);
      else if (nv == 4) {
        v128.store(yq, a0);
        v128.store(yq, a1, 16);
        v128.store(yq, a2, 32);
        v128.store(yq, a3, 48);
      }
    }
  }
}

export function count_nonzero(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  // Each true lane of a comparison is -1, so subtracting masks counts per lane.
  let lanes = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) lanes = i32x4.sub(lanes, f32x4.ne(v128.load(at(x, i)), zero));
  let total = i32x4.extract_lane(lanes, 0) + i32x4.extract_lane(lanes, 1)
    + i32x4.extract_lane(lanes, 2) + i32x4.extract_lane(lanes, 3);
  for (; i < n; i++) if (load<f32>(at(x, i)) != 0) total++;
  return total;
}

// ----- a value table: inputs whose nonzero values are few (2x2 pooled spikes: k/4) add fl(w*v) without a multiply -----

// Whether every nonzero of the n floats at x is one of v0..v3.
export function tableOk(x: usize, n: i32, v0: f32, v1: f32, v2: f32, v3: f32): bool {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(x, i));
    if (v != 0 && v != v0 && v != v1 && v != v2 && v != v3) return false;
  }
  return true;
}

// The combined list of one output pixel as offsets into a table of 4 copies of the packed weights (`copy` bytes
// apart, copy q holding fl(w * vq)): each entry names the row of its channel in the copy of its value.
@inline function buildTableList(
  xb: usize, xc: usize, lists: usize, counts: usize, Cin: i32, W: i32, iy0: i32, ix0: i32, dH: i32, dW: i32,
  kW: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, lw: usize, copy: usize, v0: f32, v1: f32, v2: f32,
): i32 {
  let n = 0;
  for (let ky = ky0; ky < ky1; ky++) {
    const prow = (iy0 + ky * dH) * W + ix0;
    for (let kx = kx0; kx < kx1; kx++) {
      const p = prow + kx * dW;
      const m = load<i32>(at(counts, p));
      const list = at(lists, p * Cin);
      const tap = <usize>((ky * kW + kx) * Cin) << 6;
      const xp = at(xb, p);
      for (let k = 0; k < m; k++) {
        const c = load<i32>(at(list, k));
        const v = load<f32>(xp + <usize>c * xc);
        const q: usize = v == v0 ? 0 : v == v1 ? 1 : v == v2 ? 2 : 3;
        store<i32>(lw + (<usize>(n + k) << 2), <i32>(tap + (<usize>c << 6) + q * copy));
      }
      n += m;
    }
  }
  return n;
}

// conv2d_event_rows of one sample whose nonzero inputs are all among v0..v3 (tableOk), from spike_index lists, with
// `table` holding 4 copies of the packed weights, copy q = fl(w * vq) (the product the list path computes): the tiles
// only add. Needs kH*kW*Cin <= the combined list's capacity (table_fits).
export function conv2d_table_rows(
  x: usize, idx: usize, cnt: usize, table: usize, copy: usize, v0: f32, v1: f32, v2: f32, bias: usize, y: usize,
  Cin: i32, H: i32, W: i32, Cout: i32, Ho: i32, Wo: i32, kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
  oy0: i32, oy1: i32,
): void {
  const lw = listW;
  const lx = listX;
  oy0 = max(oy0, 0);
  oy1 = min(oy1, Ho);
  const HW = H * W;
  const HoWo = Ho * Wo;
  const nvec = padded4(Cout) >> 2;
  const ps = panelBytes(kH, kW, Cin);
  const xc = <usize>HW << 2;
  const yc = <usize>HoWo << 2;
  const wide = kH * kW == 1;
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * sH - pH;
    const ky0 = tapLo(iy0, dH), ky1 = tapHi(iy0, dH, kH, H);
    for (let ox = 0; ox < Wo; ox++) {
      const ix0 = ox * sW - pW;
      const kx0 = tapLo(ix0, dW), kx1 = tapHi(ix0, dW, kW, W);
      const yp = at(y, oy * Wo + ox);
      const n = buildTableList(x, xc, idx, cnt, Cin, W, iy0, ix0, dH, dW, kW, ky0, ky1, kx0, kx1, lw, copy, v0, v1, v2);
      if (wide) listTiles(true, true, nvec, n, lw, lx, table, ps, yp, yc, bias, Cout);
      else listTiles(true, false, nvec, n, lw, lx, table, ps, yp, yc, bias, Cout);
    }
  }
}

// Whether a conv's receptive field fits the combined list (the table path needs it).
export function table_fits(kH: i32, kW: i32, Cin: i32): bool {
  return kH * kW * Cin <= LIST_CAP;
}
