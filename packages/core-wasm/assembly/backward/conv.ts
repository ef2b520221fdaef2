import { at } from "../memory";

// Backward passes of conv2d (and linear, its 1x1 case) and of its bias. Orders (ABI.md, "Backward kernels"):
// - conv2d_backward_weight: dw[co,ci,ky,kx] = fl(dw + S), S summed from +0 over (b, oy, ox) ascending of
//   fl(dy*x), in-range taps only. A zero x may be skipped or multiplied: it adds ±0, which never changes a sum
//   that started at +0, so both give the same bits for finite dy.
// - conv2d_backward_input: dx[b,ci,iy,ix] summed from +0 over (ky, kx, co) with co fastest, each in-range tap's
//   fl(w*dy); dx is overwritten.
// - bias_backward: db[c] = fl(db + S), S summed from +0 over (b, p) ascending.

// Output positions o in [lo, hi) whose tap lands inside the input: o*s - t in [0, size), t = pad - k*dil.
@inline function outLo(t: i32, s: i32): i32 {
  return t <= 0 ? 0 : (t + s - 1) / s;
}
@inline function outHi(t: i32, s: i32, size: i32, n: i32): i32 {
  const last = size - 1 + t;
  return last < 0 ? 0 : min(n, last / s + 1);
}

// Four f32 from four addresses (q bytes past each lane pointer) as one vector.
@inline function gather4(p0: usize, p1: usize, p2: usize, p3: usize, q: usize): v128 {
  let v = v128.load32_zero(p0 + q);
  v = v128.load32_lane(p1 + q, v, 1);
  v = v128.load32_lane(p2 + q, v, 2);
  return v128.load32_lane(p3 + q, v, 3);
}

// dst[k * stride] = fl(dst[k * stride] + lane k) for the first n (0..4) lanes.
@inline function addLanes(acc: v128, dst: usize, stride: usize, n: i32): void {
  if (n > 0) store<f32>(dst, load<f32>(dst) + f32x4.extract_lane(acc, 0));
  if (n > 1) store<f32>(dst + stride, load<f32>(dst + stride) + f32x4.extract_lane(acc, 1));
  if (n > 2) store<f32>(dst + 2 * stride, load<f32>(dst + 2 * stride) + f32x4.extract_lane(acc, 2));
  if (n > 3) store<f32>(dst + 3 * stride, load<f32>(dst + 3 * stride) + f32x4.extract_lane(acc, 3));
}

// dst[k * stride] = lane k for the first n (0..4) lanes.
@inline function putLanes(acc: v128, dst: usize, stride: usize, n: i32): void {
  if (n > 0) store<f32>(dst, f32x4.extract_lane(acc, 0));
  if (n > 1) store<f32>(dst + stride, f32x4.extract_lane(acc, 1));
  if (n > 2) store<f32>(dst + 2 * stride, f32x4.extract_lane(acc, 2));
  if (n > 3) store<f32>(dst + 3 * stride, f32x4.extract_lane(acc, 3));
}

// ---------------------------------------------------------------------------------------------------------------
// Weight gradient. A register tile holds dw for 4*NV output channels (the lanes; dy is gathered across channels)
// times NT consecutive input channels at one tap (ky, kx), summed over every (b, oy, ox) whose tap is in range.
// Each input value is broadcast against the tile's channels. Zero inputs are multiplied like any other: skipping
// them gives the same bits (a sum started at +0 never changes by adding ±0), but a per-position skip branch
// mispredicts at spike densities of 5-50% and measured slower than the dense tile (benchmark in README.md).
@inline function dwTile(
  NV: i32, NT: i32,
  xt: usize, xs: usize, xc: usize, W: i32, sH: i32, sW: i32, ty: i32, tx: i32,
  dyb: usize, ds: usize, dc: usize, nco: i32, Wo: i32,
  B: i32, oy0: i32, oy1: i32, ox0: i32, ox1: i32,
  dwp: usize, dwco: usize, dwci: usize,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  // Lane pointers for dy channels co0 .. co0+4NV-1; lanes past the group's channels repeat the last one (their
  // sums are never stored).
  const last = nco - 1;
  const p0 = dyb, p1 = dyb + <usize>min(1, last) * dc, p2 = dyb + <usize>min(2, last) * dc;
  const p3 = dyb + <usize>min(3, last) * dc;
  const p4 = dyb + <usize>min(4, last) * dc, p5 = dyb + <usize>min(5, last) * dc;
  const p6 = dyb + <usize>min(6, last) * dc, p7 = dyb + <usize>min(7, last) * dc;
  const xc2 = xc << 1, xc3 = xc * 3;
  const xStep = <usize>sW << 2;
  for (let b = 0; b < B; b++) {
    const xbb = xt + <usize>b * xs;
    const dbb = <usize>b * ds;
    for (let oy = oy0; oy < oy1; oy++) {
      let xq = xbb + <usize>(((oy * sH - ty) * W + ox0 * sW - tx) << 2);
      let q = dbb + <usize>((oy * Wo + ox0) << 2);
      for (let ox = ox0; ox < ox1; ox++, xq += xStep, q += 4) {
        const x0 = load<f32>(xq);
        const x1 = NT > 1 ? load<f32>(xq + xc) : <f32>0;
        const x2 = NT > 2 ? load<f32>(xq + xc2) : <f32>0;
        const x3 = NT > 3 ? load<f32>(xq + xc3) : <f32>0;
        const d0 = gather4(p0, p1, p2, p3, q);
        const d1 = NV > 1 ? gather4(p4, p5, p6, p7, q) : zero;
        const s0 = f32x4.splat(x0);
        a00 = f32x4.add(a00, f32x4.mul(d0, s0));
        if (NV > 1) a01 = f32x4.add(a01, f32x4.mul(d1, s0));
        if (NT > 1) {
          const s1 = f32x4.splat(x1);
          a10 = f32x4.add(a10, f32x4.mul(d0, s1));
          if (NV > 1) a11 = f32x4.add(a11, f32x4.mul(d1, s1));
        }
        if (NT > 2) {
          const s2 = f32x4.splat(x2);
          a20 = f32x4.add(a20, f32x4.mul(d0, s2));
          if (NV > 1) a21 = f32x4.add(a21, f32x4.mul(d1, s2));
        }
        if (NT > 3) {
          const s3 = f32x4.splat(x3);
          a30 = f32x4.add(a30, f32x4.mul(d0, s3));
          if (NV > 1) a31 = f32x4.add(a31, f32x4.mul(d1, s3));
        }
      }
    }
  }
  const dw4 = dwco << 2;
  addLanes(a00, dwp, dwco, nco);
  if (NV > 1) addLanes(a01, dwp + dw4, dwco, nco - 4);
  if (NT > 1) {
    addLanes(a10, dwp + dwci, dwco, nco);
    if (NV > 1) addLanes(a11, dwp + dwci + dw4, dwco, nco - 4);
  }
  if (NT > 2) {
    addLanes(a20, dwp + 2 * dwci, dwco, nco);
    if (NV > 1) addLanes(a21, dwp + 2 * dwci + dw4, dwco, nco - 4);
  }
  if (NT > 3) {
    addLanes(a30, dwp + 3 * dwci, dwco, nco);
    if (NV > 1) addLanes(a31, dwp + 3 * dwci + dw4, dwco, nco - 4);
  }
}

// Linear layer (1x1 image and kernel): dw[co, ci] over b. Input channels are the lanes (x rows and dw rows are both
// contiguous in ci), NT output channels share each x load.
@inline function linWeightTile(
  NV: i32, NT: i32, xp: usize, xs: usize, dp: usize, ds: usize, B: i32, dwp: usize, dwco: usize,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  for (let b = 0; b < B; b++) {
    const xq = xp + <usize>b * xs;
    const dq = dp + <usize>b * ds;
    const x0 = v128.load(xq);
    const x1 = NV > 1 ? v128.load(xq, 16) : zero;
    const d0 = f32x4.splat(load<f32>(dq));
    a00 = f32x4.add(a00, f32x4.mul(x0, d0));
    if (NV > 1) a01 = f32x4.add(a01, f32x4.mul(x1, d0));
    if (NT > 1) {
      const d1 = f32x4.splat(load<f32>(dq, 4));
      a10 = f32x4.add(a10, f32x4.mul(x0, d1));
      if (NV > 1) a11 = f32x4.add(a11, f32x4.mul(x1, d1));
      const d2 = f32x4.splat(load<f32>(dq, 8));
      a20 = f32x4.add(a20, f32x4.mul(x0, d2));
      if (NV > 1) a21 = f32x4.add(a21, f32x4.mul(x1, d2));
      const d3 = f32x4.splat(load<f32>(dq, 12));
      a30 = f32x4.add(a30, f32x4.mul(x0, d3));
      if (NV > 1) a31 = f32x4.add(a31, f32x4.mul(x1, d3));
    }
  }
  v128.store(dwp, f32x4.add(v128.load(dwp), a00));
  if (NV > 1) v128.store(dwp, f32x4.add(v128.load(dwp, 16), a01), 16);
  if (NT > 1) {
    const r1 = dwp + dwco, r2 = dwp + 2 * dwco, r3 = dwp + 3 * dwco;
    v128.store(r1, f32x4.add(v128.load(r1), a10));
    v128.store(r2, f32x4.add(v128.load(r2), a20));
    v128.store(r3, f32x4.add(v128.load(r3), a30));
    if (NV > 1) {
      v128.store(r1, f32x4.add(v128.load(r1, 16), a11), 16);
      v128.store(r2, f32x4.add(v128.load(r2, 16), a21), 16);
      v128.store(r3, f32x4.add(v128.load(r3, 16), a31), 16);
    }
  }
}

function linearWeight(x: usize, dy: usize, dw: usize, B: i32, Cin: i32, Cout: i32, groups: i32): void {
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  const xs = <usize>Cin << 2;
  const ds = <usize>Cout << 2;
  const dwco = <usize>CinG << 2;
  for (let g = 0; g < groups; g++) {
    for (let co = 0; co < CoutG; ) {
      const four = co + 4 <= CoutG;
      const dp = at(dy, g * CoutG + co);
      const dwr = at(dw, (g * CoutG + co) * CinG);
      let ci = 0;
      for (; ci + 8 <= CinG; ci += 8) {
        const xp = at(x, g * CinG + ci);
        if (four) linWeightTile(2, 4, xp, xs, dp, ds, B, at(dwr, ci), dwco);
        else linWeightTile(2, 1, xp, xs, dp, ds, B, at(dwr, ci), dwco);
      }
      for (; ci + 4 <= CinG; ci += 4) {
        const xp = at(x, g * CinG + ci);
        if (four) linWeightTile(1, 4, xp, xs, dp, ds, B, at(dwr, ci), dwco);
        else linWeightTile(1, 1, xp, xs, dp, ds, B, at(dwr, ci), dwco);
      }
      const nt = four ? 4 : 1;
      for (; ci < CinG; ci++) {
        for (let t = 0; t < nt; t++) {
          let s: f32 = 0;
          for (let b = 0; b < B; b++) {
            s += load<f32>(at(x, b * Cin + g * CinG + ci)) * load<f32>(at(dy, b * Cout + g * CoutG + co + t));
          }
          const q = at(dwr, t * CinG + ci);
          store<f32>(q, load<f32>(q) + s);
        }
      }
      co += nt;
    }
  }
}

@inline function isLinear(H: i32, W: i32, Ho: i32, Wo: i32, kH: i32, kW: i32, pH: i32, pW: i32): bool {
  return H == 1 && W == 1 && Ho == 1 && Wo == 1 && kH == 1 && kW == 1 && pH == 0 && pW == 0;
}

export function conv2d_backward_weight(
  x: usize, dy: usize, dw: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32,
): void {
  if (isLinear(H, W, Ho, Wo, kH, kW, pH, pW)) {
    linearWeight(x, dy, dw, B, Cin, Cout, groups);
    return;
  }
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  const HW = H * W;
  const HoWo = Ho * Wo;
  const kk = kH * kW;
  const xs = <usize>(Cin * HW) << 2;
  const xc = <usize>HW << 2;
  const ds = <usize>(Cout * HoWo) << 2;
  const dc = <usize>HoWo << 2;
  const dwci = <usize>kk << 2;
  const dwco = <usize>(CinG * kk) << 2;
  for (let g = 0; g < groups; g++) {
    for (let ky = 0; ky < kH; ky++) {
      const ty = pH - ky * dH;
      const oy0 = outLo(ty, sH), oy1 = outHi(ty, sH, H, Ho);
      for (let kx = 0; kx < kW; kx++) {
        const tx = pW - kx * dW;
        const ox0 = outLo(tx, sW), ox1 = outHi(tx, sW, W, Wo);
        for (let co = 0; co < CoutG; co += 8) {
          const nco = min(8, CoutG - co);
          const dyb = at(dy, (g * CoutG + co) * HoWo);
          const dwb = at(dw, (g * CoutG + co) * CinG * kk + ky * kW + kx);
          let ci = 0;
          for (; ci + 4 <= CinG; ci += 4) {
            const xt = at(x, (g * CinG + ci) * HW);
            const dwp = dwb + <usize>ci * dwci;
            if (nco > 4) dwTile(2, 4, xt, xs, xc, W, sH, sW, ty, tx, dyb, ds, dc, nco, Wo, B, oy0, oy1, ox0, ox1, dwp, dwco, dwci);
            else dwTile(1, 4, xt, xs, xc, W, sH, sW, ty, tx, dyb, ds, dc, nco, Wo, B, oy0, oy1, ox0, ox1, dwp, dwco, dwci);
          }
          for (; ci < CinG; ci++) {
            const xt = at(x, (g * CinG + ci) * HW);
            const dwp = dwb + <usize>ci * dwci;
            if (nco > 4) dwTile(2, 1, xt, xs, xc, W, sH, sW, ty, tx, dyb, ds, dc, nco, Wo, B, oy0, oy1, ox0, ox1, dwp, dwco, dwci);
            else dwTile(1, 1, xt, xs, xc, W, sH, sW, ty, tx, dyb, ds, dc, nco, Wo, B, oy0, oy1, ox0, ox1, dwp, dwco, dwci);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Input gradient (transposed convolution). A register tile holds dx for 4*NV input channels (the lanes; w is
// gathered across them) at four input columns ix0 + q*sW of one row, which see the same taps: for each in-range
// tap, each output channel's weights are gathered once and broadcast-multiplied by the four dy values.
@inline function dxTile(
  NV: i32,
  wb: usize, wci: usize, wco: usize, nci: i32, kW: i32, kH: i32,
  dyb: usize, dco: usize, CoutG: i32, Ho: i32, Wo: i32,
  iy: i32, ix0: i32, np: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32,
  dxp: usize, dxci: usize,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  const last = nci - 1;
  const o1 = <usize>min(1, last) * wci, o2 = <usize>min(2, last) * wci, o3 = <usize>min(3, last) * wci;
  const o4 = <usize>min(4, last) * wci, o5 = <usize>min(5, last) * wci;
  const o6 = <usize>min(6, last) * wci, o7 = <usize>min(7, last) * wci;
  for (let ky = 0; ky < kH; ky++) {
    const tyy = iy + pH - ky * dH;
    if (tyy < 0) break;
    if (tyy % sH != 0) continue;
    const oy = tyy / sH;
    if (oy >= Ho) continue;
    for (let kx = 0; kx < kW; kx++) {
      const txx = ix0 + pW - kx * dW;
      if (txx % sW != 0) continue;
      const ox0 = txx / sW;
      // Columns q with 0 <= ox0 + q < Wo and q < np.
      const qlo = max(0, -ox0);
      const qhi = min(np, Wo - ox0);
      if (qlo >= qhi) continue;
      const wq = wb + <usize>((ky * kW + kx) << 2);
      const dq = dyb + <usize>((oy * Wo + ox0) << 2);
      if (qlo == 0 && qhi == 4) {
        for (let co = 0; co < CoutG; co++) {
          const wp = wq + <usize>co * wco;
          const dp = dq + <usize>co * dco;
          const w0 = gather4(wp, wp + o1, wp + o2, wp + o3, 0);
          const w1 = NV > 1 ? gather4(wp + o4, wp + o5, wp + o6, wp + o7, 0) : zero;
          const s0 = f32x4.splat(load<f32>(dp));
          const s1 = f32x4.splat(load<f32>(dp, 4));
          const s2 = f32x4.splat(load<f32>(dp, 8));
          const s3 = f32x4.splat(load<f32>(dp, 12));
          a00 = f32x4.add(a00, f32x4.mul(w0, s0));
          a10 = f32x4.add(a10, f32x4.mul(w0, s1));
          a20 = f32x4.add(a20, f32x4.mul(w0, s2));
          a30 = f32x4.add(a30, f32x4.mul(w0, s3));
          if (NV > 1) {
            a01 = f32x4.add(a01, f32x4.mul(w1, s0));
            a11 = f32x4.add(a11, f32x4.mul(w1, s1));
            a21 = f32x4.add(a21, f32x4.mul(w1, s2));
            a31 = f32x4.add(a31, f32x4.mul(w1, s3));
          }
        }
      } else {
        const q0 = qlo <= 0 && qhi > 0, q1 = qlo <= 1 && qhi > 1, q2 = qlo <= 2 && qhi > 2, q3 = qlo <= 3 && qhi > 3;
        for (let co = 0; co < CoutG; co++) {
          const wp = wq + <usize>co * wco;
          const dp = dq + <usize>co * dco;
          const w0 = gather4(wp, wp + o1, wp + o2, wp + o3, 0);
          const w1 = NV > 1 ? gather4(wp + o4, wp + o5, wp + o6, wp + o7, 0) : zero;
          if (q0) {
            const s = f32x4.splat(load<f32>(dp));
            a00 = f32x4.add(a00, f32x4.mul(w0, s));
            if (NV > 1) a01 = f32x4.add(a01, f32x4.mul(w1, s));
          }
          if (q1) {
            const s = f32x4.splat(load<f32>(dp, 4));
            a10 = f32x4.add(a10, f32x4.mul(w0, s));
            if (NV > 1) a11 = f32x4.add(a11, f32x4.mul(w1, s));
          }
          if (q2) {
            const s = f32x4.splat(load<f32>(dp, 8));
            a20 = f32x4.add(a20, f32x4.mul(w0, s));
            if (NV > 1) a21 = f32x4.add(a21, f32x4.mul(w1, s));
          }
          if (q3) {
            const s = f32x4.splat(load<f32>(dp, 12));
            a30 = f32x4.add(a30, f32x4.mul(w0, s));
            if (NV > 1) a31 = f32x4.add(a31, f32x4.mul(w1, s));
          }
        }
      }
    }
  }
  const col = <usize>sW << 2;
  const dx4 = dxci << 2;
  putLanes(a00, dxp, dxci, nci);
  if (NV > 1) putLanes(a01, dxp + dx4, dxci, nci - 4);
  if (np > 1) {
    putLanes(a10, dxp + col, dxci, nci);
    if (NV > 1) putLanes(a11, dxp + col + dx4, dxci, nci - 4);
  }
  if (np > 2) {
    putLanes(a20, dxp + 2 * col, dxci, nci);
    if (NV > 1) putLanes(a21, dxp + 2 * col + dx4, dxci, nci - 4);
  }
  if (np > 3) {
    putLanes(a30, dxp + 3 * col, dxci, nci);
    if (NV > 1) putLanes(a31, dxp + 3 * col + dx4, dxci, nci - 4);
  }
}

// Linear layer: dx[b, ci] over co. Input channels are the lanes (w rows are contiguous in ci), NB samples share
// each weight load.
@inline function linInputTile(
  NV: i32, NB: i32, wp: usize, wco: usize, dp: usize, ds: usize, CoutG: i32, dxp: usize, dxs: usize,
): void {
  const zero = f32x4.splat(0);
  let a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
  const ds2 = ds << 1, ds3 = ds * 3;
  for (let co = 0; co < CoutG; co++) {
    const wq = wp + <usize>co * wco;
    const dq = dp + (<usize>co << 2);
    const w0 = v128.load(wq);
    const w1 = NV > 1 ? v128.load(wq, 16) : zero;
    const s0 = f32x4.splat(load<f32>(dq));
    a00 = f32x4.add(a00, f32x4.mul(w0, s0));
    if (NV > 1) a01 = f32x4.add(a01, f32x4.mul(w1, s0));
    if (NB > 1) {
      const s1 = f32x4.splat(load<f32>(dq + ds));
      const s2 = f32x4.splat(load<f32>(dq + ds2));
      const s3 = f32x4.splat(load<f32>(dq + ds3));
      a10 = f32x4.add(a10, f32x4.mul(w0, s1));
      a20 = f32x4.add(a20, f32x4.mul(w0, s2));
      a30 = f32x4.add(a30, f32x4.mul(w0, s3));
      if (NV > 1) {
        a11 = f32x4.add(a11, f32x4.mul(w1, s1));
        a21 = f32x4.add(a21, f32x4.mul(w1, s2));
        a31 = f32x4.add(a31, f32x4.mul(w1, s3));
      }
    }
  }
  v128.store(dxp, a00);
  if (NV > 1) v128.store(dxp, a01, 16);
  if (NB > 1) {
    v128.store(dxp + dxs, a10);
    v128.store(dxp + 2 * dxs, a20);
    v128.store(dxp + 3 * dxs, a30);
    if (NV > 1) {
      v128.store(dxp + dxs, a11, 16);
      v128.store(dxp + 2 * dxs, a21, 16);
      v128.store(dxp + 3 * dxs, a31, 16);
    }
  }
}

function linearInput(dy: usize, w: usize, dx: usize, B: i32, Cin: i32, Cout: i32, groups: i32): void {
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  const ds = <usize>Cout << 2;
  const dxs = <usize>Cin << 2;
  const wco = <usize>CinG << 2;
  for (let g = 0; g < groups; g++) {
    const wg = at(w, g * CoutG * CinG);
    for (let b = 0; b < B; ) {
      const four = b + 4 <= B;
      const dp = at(dy, b * Cout + g * CoutG);
      const dxr = at(dx, b * Cin + g * CinG);
      let ci = 0;
      for (; ci + 8 <= CinG; ci += 8) {
        if (four) linInputTile(2, 4, at(wg, ci), wco, dp, ds, CoutG, at(dxr, ci), dxs);
        else linInputTile(2, 1, at(wg, ci), wco, dp, ds, CoutG, at(dxr, ci), dxs);
      }
      for (; ci + 4 <= CinG; ci += 4) {
        if (four) linInputTile(1, 4, at(wg, ci), wco, dp, ds, CoutG, at(dxr, ci), dxs);
        else linInputTile(1, 1, at(wg, ci), wco, dp, ds, CoutG, at(dxr, ci), dxs);
      }
      const nb = four ? 4 : 1;
      for (; ci < CinG; ci++) {
        for (let q = 0; q < nb; q++) {
          let s: f32 = 0;
          for (let co = 0; co < CoutG; co++) {
            s += load<f32>(at(wg, co * CinG + ci)) * load<f32>(at(dp, q * Cout + co));
          }
          store<f32>(at(dxr, q * Cin + ci), s);
        }
      }
      b += nb;
    }
  }
}

export function conv2d_backward_input(
  dy: usize, w: usize, dx: usize, B: i32, Cin: i32, H: i32, W: i32, Cout: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32, dH: i32, dW: i32, groups: i32,
): void {
  if (isLinear(H, W, Ho, Wo, kH, kW, pH, pW)) {
    linearInput(dy, w, dx, B, Cin, Cout, groups);
    return;
  }
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  const HW = H * W;
  const HoWo = Ho * Wo;
  const kk = kH * kW;
  const wci = <usize>kk << 2;
  const wco = <usize>(CinG * kk) << 2;
  const dco = <usize>HoWo << 2;
  const dxci = <usize>HW << 2;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < groups; g++) {
      const dyb = at(dy, (b * Cout + g * CoutG) * HoWo);
      for (let ci = 0; ci < CinG; ci += 8) {
        const nci = min(8, CinG - ci);
        const wb = at(w, g * CoutG * CinG * kk + ci * kk);
        const dxb = at(dx, (b * Cin + g * CinG + ci) * HW);
        for (let iy = 0; iy < H; iy++) {
          const dxr = at(dxb, iy * W);
          // Columns of one residue mod sW see the same taps; four of them make a tile.
          const rEnd = min(sW, W);
          for (let r = 0; r < rEnd; r++) {
            for (let ix = r; ix < W; ix += 4 * sW) {
              const np = min(4, (W - ix + sW - 1) / sW);
              if (nci > 4) {
                dxTile(2, wb, wci, wco, nci, kW, kH, dyb, dco, CoutG, Ho, Wo, iy, ix, np, sH, sW, pH, pW, dH, dW, at(dxr, ix), dxci);
              } else {
                dxTile(1, wb, wci, wco, nci, kW, kH, dyb, dco, CoutG, Ho, Wo, iy, ix, np, sH, sW, pH, pW, dH, dW, at(dxr, ix), dxci);
              }
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
export function bias_backward(dy: usize, db: usize, B: i32, C: i32, HW: i32): void {
  if (HW == 1) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      let acc = f32x4.splat(0);
      for (let b = 0; b < B; b++) acc = f32x4.add(acc, v128.load(at(dy, b * C + c)));
      v128.store(at(db, c), f32x4.add(v128.load(at(db, c)), acc));
    }
    for (; c < C; c++) {
      let s: f32 = 0;
      for (let b = 0; b < B; b++) s += load<f32>(at(dy, b * C + c));
      store<f32>(at(db, c), load<f32>(at(db, c)) + s);
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    let s: f32 = 0;
    for (let b = 0; b < B; b++) {
      const row = at(dy, (b * C + c) * HW);
      for (let p = 0; p < HW; p++) s += load<f32>(at(row, p));
    }
    store<f32>(at(db, c), load<f32>(at(db, c)) + s);
  }
}
