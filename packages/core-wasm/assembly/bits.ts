import { at } from "./memory";
import { padded4, panelBytes, putLanes } from "./conv";
import { tapHi, tapLo } from "./window";

// The event conv for binary input (spikes 0/1), straight from bit masks: each input pixel keeps one bit per input
// channel in (C + 63) / 64 words, and an output pixel's tile walks the set bits of each tap's words (i64.ctz) and adds
// the weight rows they name. No list is built per output pixel; each output sums (tap, channel ascending) like the
// dense conv, so the bits are those of conv2d_dense and conv2d_event.

// Words of 64 channels an input pixel's mask takes.
@inline export function maskWords(C: i32): i32 {
  return (C + 63) >> 6;
}

// The masks of one sample's input [C, HW] into `bits` (HW x maskWords(C) u64), checking on the way that every value
// is 0 or 1 (-0 counts as 0); returns false at the first other value (the masks are then incomplete), so a valued
// input (pooled spikes, currents) costs little before it goes to the lists.
export function spike_bits(x: usize, C: i32, HW: i32, bits: usize): bool {
  const Wd = maskWords(C);
  memory.fill(bits, 0, <usize>(HW * Wd) << 3);
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  for (let c = 0; c < C; c++) {
    const xr = at(x, c * HW);
    const word = bits + (<usize>(c >> 6) << 3);
    const bit: u64 = (<u64>1) << <u64>(c & 63);
    let p = 0;
    for (; p + 4 <= HW; p += 4) {
      const v = v128.load(at(xr, p));
      const nz = f32x4.ne(v, zero);
      if (v128.any_true(v128.and(nz, f32x4.ne(v, one)))) return false;
      for (let m = i32x4.bitmask(nz); m; m &= m - 1) {
        const q = word + (<usize>((p + ctz(m)) * Wd) << 3);
        store<u64>(q, load<u64>(q) | bit);
      }
    }
    for (; p < HW; p++) {
      const v = load<f32>(at(xr, p));
      if (v != 0) {
        if (v != 1) return false;
        const q = word + (<usize>(p * Wd) << 3);
        store<u64>(q, load<u64>(q) | bit);
      }
    }
  }
  return true;
}

// Output channels [4j, 4j + 4nv) of one output pixel: for every in-range tap (ky, kx) in order, the set bits of its
// input pixel's mask in ascending channel order. The tile starts at slot `s` (0 or 2, a constant) of its panel and
// runs into the next panel past slot 3, as in event.ts.
@inline function bitsTile(
  nv: i32, s: i32, j: i32, bits: usize, Wd: i32, Cin: i32, W: i32, iy0: i32, ix0: i32, dH: i32, dW: i32,
  kW: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32, wp: usize, ps: usize, yp: usize, yc: usize, bias: usize, Cout: i32,
): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero;
  const wj = wp + <usize>(j >> 2) * ps;
  for (let ky = ky0; ky < ky1; ky++) {
    const prow = (iy0 + ky * dH) * W + ix0;
    for (let kx = kx0; kx < kx1; kx++) {
      const mp = bits + (<usize>((prow + kx * dW) * Wd) << 3);
      let base = wj + (<usize>((ky * kW + kx) * Cin) << 6);
      for (let w = 0; w < Wd; w++, base += 4096) {
        let m = load<u64>(mp + (<usize>w << 3));
        while (m) {
          const wq = base + (<usize>ctz(m) << 6);
          m &= m - 1;
          const wr = wq + ps;
          a0 = f32x4.add(a0, s == 0 ? v128.load(wq) : v128.load(wq, 32));
          if (nv > 1) a1 = f32x4.add(a1, s == 0 ? v128.load(wq, 16) : v128.load(wq, 48));
          if (nv > 2) a2 = f32x4.add(a2, s == 0 ? v128.load(wq, 32) : v128.load(wr));
          if (nv > 3) a3 = f32x4.add(a3, s == 0 ? v128.load(wq, 48) : v128.load(wr, 16));
          if (nv > 4) a4 = f32x4.add(a4, s == 0 ? v128.load(wr) : v128.load(wr, 32));
          if (nv > 5) a5 = f32x4.add(a5, s == 0 ? v128.load(wr, 16) : v128.load(wr, 48));
        }
      }
    }
  }
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

// One output-channel tile (vectors [j, j + nv)) over output rows [oy0, oy1) of one sample: the tile's weights stay
// in cache while every pixel is summed into it.
@inline function bitsRows(
  nv: i32, j: i32, bits: usize, Wd: i32, Cin: i32, H: i32, W: i32, Wo: i32, kH: i32, kW: i32, sH: i32, sW: i32,
  pH: i32, pW: i32, dH: i32, dW: i32, oy0: i32, oy1: i32, wp: usize, ps: usize, y: usize, yc: usize, bias: usize, Cout: i32,
): void {
  for (let oy = oy0; oy < oy1; oy++) {
    const iy0 = oy * sH - pH;
    const ky0 = tapLo(iy0, dH), ky1 = tapHi(iy0, dH, kH, H);
    for (let ox = 0; ox < Wo; ox++) {
      const ix0 = ox * sW - pW;
      const kx0 = tapLo(ix0, dW), kx1 = tapHi(ix0, dW, kW, W);
      const yp = at(y, oy * Wo + ox);
      if (j & 2) bitsTile(nv, 2, j, bits, Wd, Cin, W, iy0, ix0, dH, dW, kW, ky0, ky1, kx0, kx1, wp, ps, yp, yc, bias, Cout);
      else bitsTile(nv, 0, j, bits, Wd, Cin, W, iy0, ix0, dH, dW, kW, ky0, ky1, kx0, kx1, wp, ps, yp, yc, bias, Cout);
    }
  }
}

// conv2d (groups 1) of one sample with binary input given as spike_bits masks, output rows [oy0, oy1) only; output
// channel tiles of 6 vectors (then 4, 2, 1) outermost.
export function conv2d_bits_rows(
  bits: usize, wp: usize, bias: usize, y: usize, Cin: i32, H: i32, W: i32, Cout: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, oy0: i32, oy1: i32,
): void {
  oy0 = max(oy0, 0);
  oy1 = min(oy1, Ho);
  if (oy0 >= oy1) return;
  const Wd = maskWords(Cin);
  const nvec = padded4(Cout) >> 2;
  const ps = panelBytes(kH, kW, Cin);
  const yc = <usize>(Ho * Wo) << 2;
  let j = 0;
  for (; j + 6 <= nvec; j += 6) bitsRows(6, j, bits, Wd, Cin, H, W, Wo, kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1, wp, ps, y, yc, bias, Cout);
  if (j + 4 <= nvec) {
    bitsRows(4, j, bits, Wd, Cin, H, W, Wo, kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1, wp, ps, y, yc, bias, Cout);
    j += 4;
  }
  if (j + 2 <= nvec) {
    bitsRows(2, j, bits, Wd, Cin, H, W, Wo, kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1, wp, ps, y, yc, bias, Cout);
    j += 2;
  }
  if (j < nvec) bitsRows(1, j, bits, Wd, Cin, H, W, Wo, kH, kW, sH, sW, pH, pW, dH, dW, oy0, oy1, wp, ps, y, yc, bias, Cout);
}
