import { at } from "./memory";
import { tapHi, tapLo } from "./window";

// Weights are packed per group in panels of 16 output channels (four f32x4 vectors, one 64-byte cache line a row),
// [panel][ky][kx][cin][16], the channels padded with zeros to a multiple of 16. One (ky, kx, cin) row of a panel
// holds that input's weight for the panel's 16 output channels, so a kernel broadcasts one input value against
// contiguous f32x4 lanes, and each lane still sums in the order (ky, kx, cin). A tile of up to 4 output vectors
// inside one panel reads one line per input; its weights for every input are one contiguous block (`panelBytes`),
// whatever the layer's width. (Rows holding every output channel put a 4096-wide layer's rows 16 KiB apart: a tile
// touched a page and a cache set per input, and walking one tile over many samples ran 5-10x slower than the
// arithmetic.)

@inline export function padded4(n: i32): i32 {
  return (n + 3) & ~3;
}

// Number of 16-channel panels of a group.
@inline export function panelCount(CoutG: i32): i32 {
  return (CoutG + 15) >> 4;
}

// Bytes of one panel: 64 per (ky, kx, cin) row.
@inline export function panelBytes(kH: i32, kW: i32, CinG: i32): usize {
  return <usize>(kH * kW * CinG) << 6;
}

// Where output vector j's weights start: its panel plus its slot in the panel's rows.
@inline export function vectorBase(wg: usize, ps: usize, j: i32): usize {
  return wg + <usize>(j >> 2) * ps + (<usize>(j & 3) << 4);
}

export function conv2d_packed_len(Cout: i32, CinG: i32, kH: i32, kW: i32, groups: i32): i32 {
  return groups * panelCount(Cout / groups) * 16 * kH * kW * CinG;
}

export function conv2d_pack(src: usize, dst: usize, Cout: i32, CinG: i32, kH: i32, kW: i32, groups: i32): void {
  const CoutG = Cout / groups;
  const P = panelCount(CoutG);
  let d = dst;
  for (let g = 0; g < groups; g++) {
    for (let p = 0; p < P; p++) {
      for (let ky = 0; ky < kH; ky++) {
        for (let kx = 0; kx < kW; kx++) {
          for (let ci = 0; ci < CinG; ci++) {
            for (let q = 0; q < 16; q++) {
              const co = (p << 4) + q;
              const o = (((g * CoutG + co) * CinG + ci) * kH + ky) * kW + kx;
              store<f32>(d, co < CoutG ? load<f32>(at(src, o)) : <f32>0);
              d += 4;
            }
          }
        }
      }
    }
  }
}

// Writes the first n (1..4) lanes of `acc` to channels yq, yq+yc, ..., adding the bias after the whole sum.
@inline export function putLanes(acc: v128, yq: usize, yc: usize, n: i32, bq: usize): void {
  let s0 = f32x4.extract_lane(acc, 0);
  if (bq) s0 = s0 + load<f32>(bq);
  store<f32>(yq, s0);
  if (n > 1) {
    let s1 = f32x4.extract_lane(acc, 1);
    if (bq) s1 = s1 + load<f32>(bq, 4);
    store<f32>(yq + yc, s1);
  }
  if (n > 2) {
    let s2 = f32x4.extract_lane(acc, 2);
    if (bq) s2 = s2 + load<f32>(bq, 8);
    store<f32>(yq + 2 * yc, s2);
  }
  if (n > 3) {
    let s3 = f32x4.extract_lane(acc, 3);
    if (bq) s3 = s3 + load<f32>(bq, 12);
    store<f32>(yq + 3 * yc, s3);
  }
}

// A register tile: output channels [4j, 4j + 4nv) of np (1 or 4) output pixels whose windows clip alike. Pixel q's
// input window starts q*xStep bytes after pixel 0's and its outputs q*yStep bytes after. np and nv are constants at
// every call, so each call inlines to straight-line SIMD with only the accumulators it uses.
@inline function denseTile(
  np: i32, nv: i32, j: i32,
  xg: usize, xStep: usize, xc: usize, iy0: i32, ix0: i32, W: i32, dH: i32, dW: i32,
  wg: usize, ps: usize, CinG: i32, kW: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32,
  yp: usize, yStep: usize, yc: usize, bg: usize, CoutG: i32,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a02 = zero, a03 = zero;
  let a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  const xs2 = xStep << 1, xs3 = xStep * 3;
  // j + nv never passes the panel's end: 4-vector tiles start at a multiple of 4, 2-vector ones at an even vector
  const wj = vectorBase(wg, ps, j);
  for (let ky = ky0; ky < ky1; ky++) {
    const xrow = (iy0 + ky * dH) * W + ix0;
    for (let kx = kx0; kx < kx1; kx++) {
      let xq = at(xg, xrow + kx * dW);
      let wq = wj + (<usize>((ky * kW + kx) * CinG) << 6);
      for (let ci = 0; ci < CinG; ci++) {
        const w0 = v128.load(wq);
        const w1 = nv > 1 ? v128.load(wq, 16) : zero;
        const x0 = f32x4.splat(load<f32>(xq));
        a00 = f32x4.add(a00, f32x4.mul(w0, x0));
        if (nv > 1) a01 = f32x4.add(a01, f32x4.mul(w1, x0));
        if (nv > 2) a02 = f32x4.add(a02, f32x4.mul(v128.load(wq, 32), x0));
        if (nv > 3) a03 = f32x4.add(a03, f32x4.mul(v128.load(wq, 48), x0));
        if (np > 1) {
          const x1 = f32x4.splat(load<f32>(xq + xStep));
          const x2 = f32x4.splat(load<f32>(xq + xs2));
          const x3 = f32x4.splat(load<f32>(xq + xs3));
          a10 = f32x4.add(a10, f32x4.mul(w0, x1));
          a20 = f32x4.add(a20, f32x4.mul(w0, x2));
          a30 = f32x4.add(a30, f32x4.mul(w0, x3));
          if (nv > 1) {
            a11 = f32x4.add(a11, f32x4.mul(w1, x1));
            a21 = f32x4.add(a21, f32x4.mul(w1, x2));
            a31 = f32x4.add(a31, f32x4.mul(w1, x3));
          }
        }
        wq += 64;
        xq += xc;
      }
    }
  }
  const c0 = j << 2;
  const y0 = yp + <usize>c0 * yc;
  const b0: usize = bg ? at(bg, c0) : 0;
  const b1: usize = bg ? b0 + 16 : 0;
  putLanes(a00, y0, yc, CoutG - c0, b0);
  if (nv > 1) putLanes(a01, y0 + 4 * yc, yc, CoutG - c0 - 4, b1);
  if (nv > 2) putLanes(a02, y0 + 8 * yc, yc, CoutG - c0 - 8, bg ? b0 + 32 : 0);
  if (nv > 3) putLanes(a03, y0 + 12 * yc, yc, CoutG - c0 - 12, bg ? b0 + 48 : 0);
  if (np > 1) {
    putLanes(a10, y0 + yStep, yc, CoutG - c0, b0);
    putLanes(a20, y0 + 2 * yStep, yc, CoutG - c0, b0);
    putLanes(a30, y0 + 3 * yStep, yc, CoutG - c0, b0);
    if (nv > 1) {
      putLanes(a11, y0 + yStep + 4 * yc, yc, CoutG - c0 - 4, b1);
      putLanes(a21, y0 + 2 * yStep + 4 * yc, yc, CoutG - c0 - 4, b1);
      putLanes(a31, y0 + 3 * yStep + 4 * yc, yc, CoutG - c0 - 4, b1);
    }
  }
}

// Every output channel of one group for np (1 or 4) pixels: 4 pixels x 8 channels, or 1 pixel x 16 channels, per
// tile, which keeps the accumulators, weights and broadcasts inside 16 SIMD registers.
function densePixels(
  np: i32,
  xg: usize, xStep: usize, xc: usize, iy0: i32, ix0: i32, W: i32, dH: i32, dW: i32,
  wg: usize, ps: usize, CinG: i32, kW: i32, ky0: i32, ky1: i32, kx0: i32, kx1: i32,
  yp: usize, yStep: usize, yc: usize, bg: usize, CoutG: i32,
): void {
  const nvec = padded4(CoutG) >> 2;
  let j = 0;
  if (np == 4) {
    for (; j + 2 <= nvec; j += 2) {
      denseTile(4, 2, j, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1, yp, yStep, yc, bg, CoutG);
    }
    if (j < nvec) {
      denseTile(4, 1, j, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1, yp, yStep, yc, bg, CoutG);
    }
  } else {
    for (; j + 4 <= nvec; j += 4) {
      denseTile(1, 4, j, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1, yp, yStep, yc, bg, CoutG);
    }
    if (j + 2 <= nvec) {
      denseTile(1, 2, j, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1, yp, yStep, yc, bg, CoutG);
      j += 2;
    }
    if (j < nvec) {
      denseTile(1, 1, j, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1, yp, yStep, yc, bg, CoutG);
    }
  }
}

export function conv2d_dense(
  x: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32,
): void {
  conv2d_dense_rows(x, wp, bias, y, B, Cin, H, W, Cout, Ho, Wo, kH, kW, sH, sW, pH, pW, dH, dW, groups, 0, Ho);
}

// conv2d_dense for output rows [oy0, oy1) only (of every sample and group). A 1x1 output (a linear layer) is one
// row: computed whole when [oy0, oy1) contains row 0.
export function conv2d_dense_rows(
  x: usize, wp: usize, bias: usize, y: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32, oy0: i32, oy1: i32,
): void {
  oy0 = max(oy0, 0);
  oy1 = min(oy1, Ho);
  if (oy0 >= oy1) return;
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  const HW = H * W;
  const HoWo = Ho * Wo;
  const ps = panelBytes(kH, kW, CinG);
  const xc = <usize>HW << 2;
  const yc = <usize>HoWo << 2;
  const wgStride = <usize>panelCount(CoutG) * ps;

  if (HoWo == 1) {
    // One output pixel per sample (a linear layer): the batch is what can share weight loads.
    const ky0 = tapLo(-pH, dH), ky1 = tapHi(-pH, dH, kH, H);
    const kx0 = tapLo(-pW, dW), kx1 = tapHi(-pW, dW, kW, W);
    const xs = <usize>(Cin * HW) << 2;
    const ys = <usize>Cout << 2;
    for (let g = 0; g < groups; g++) {
      const xg = at(x, g * CinG * HW);
      const yg = at(y, g * CoutG);
      const wg = wp + <usize>g * wgStride;
      const bg: usize = bias ? at(bias, g * CoutG) : 0;
      let b = 0;
      for (; b + 4 <= B; b += 4) {
        densePixels(4, xg + <usize>b * xs, xs, xc, -pH, -pW, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1,
          yg + <usize>b * ys, ys, yc, bg, CoutG);
      }
      for (; b < B; b++) {
        densePixels(1, xg + <usize>b * xs, xs, xc, -pH, -pW, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, kx0, kx1,
          yg + <usize>b * ys, ys, yc, bg, CoutG);
      }
    }
    return;
  }

  // Output columns [oxLo, oxHi) see their whole window row; only they are tiled four at a time.
  const oxLo = min(Wo, (pW + sW - 1) / sW);
  const last = W - 1 + pW - (kW - 1) * dW;
  const oxHi = max(oxLo, last < 0 ? 0 : min(Wo, last / sW + 1));
  const xStep = <usize>sW << 2;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const xg = at(x, (b * Cin + g * CinG) * HW);
      const wg = wp + <usize>g * wgStride;
      const bg: usize = bias ? at(bias, g * CoutG) : 0;
      for (let oy = oy0; oy < oy1; oy++) {
        const iy0 = oy * sH - pH;
        const ky0 = tapLo(iy0, dH), ky1 = tapHi(iy0, dH, kH, H);
        const yrow = at(y, (b * Cout + g * CoutG) * HoWo + oy * Wo);
        let ox = 0;
        for (; ox < oxLo; ox++) {
          const ix0 = ox * sW - pW;
          densePixels(1, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1,
            tapLo(ix0, dW), tapHi(ix0, dW, kW, W), at(yrow, ox), 4, yc, bg, CoutG);
        }
        for (; ox + 4 <= oxHi; ox += 4) {
          densePixels(4, xg, xStep, xc, iy0, ox * sW - pW, W, dH, dW, wg, ps, CinG, kW, ky0, ky1, 0, kW,
            at(yrow, ox), 4, yc, bg, CoutG);
        }
        for (; ox < Wo; ox++) {
          const ix0 = ox * sW - pW;
          densePixels(1, xg, xStep, xc, iy0, ix0, W, dH, dW, wg, ps, CinG, kW, ky0, ky1,
            tapLo(ix0, dW), tapHi(ix0, dW, kW, W), at(yrow, ox), 4, yc, bg, CoutG);
        }
      }
    }
  }
}
