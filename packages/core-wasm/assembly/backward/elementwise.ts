import { at } from "../memory";
import { tapHi, tapLo } from "../window";

const AVG = 0;
const MAX = 2;

// dx is cleared, then each window (oy, ox ascending) adds its share: avg fl(dy / (kH*kW)), sum dy, max dy to the
// first in-range element of the window (row by row) holding the window's maximum. Padding receives nothing.
@inline function poolBackPlanes(
  kind: i32, x: usize, dy: usize, dx: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
): void {
  const area = <f32>(kH * kW);
  const HW = H * W;
  let dq = dy;
  for (let n = 0; n < planes; n++) {
    const xp = at(x, n * HW);
    const gp = at(dx, n * HW);
    for (let oy = 0; oy < Ho; oy++) {
      const iy0 = oy * sH - pH;
      const ky0 = tapLo(iy0, 1), ky1 = tapHi(iy0, 1, kH, H);
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = ox * sW - pW;
        const kx0 = tapLo(ix0, 1), kx1 = tapHi(ix0, 1, kW, W);
        const g = load<f32>(dq);
        dq += 4;
        if (ky0 >= ky1 || kx0 >= kx1) continue;
        if (kind == MAX) {
          let best = (iy0 + ky0) * W + ix0 + kx0;
          let bv = load<f32>(at(xp, best));
          for (let ky = ky0; ky < ky1; ky++) {
            const r = (iy0 + ky) * W + ix0;
            for (let kx = kx0; kx < kx1; kx++) {
              const v = load<f32>(at(xp, r + kx));
              if (v > bv) {
                bv = v;
                best = r + kx;
              }
            }
          }
          const q = at(gp, best);
          store<f32>(q, load<f32>(q) + g);
        } else {
          const share = kind == AVG ? g / area : g;
          for (let ky = ky0; ky < ky1; ky++) {
            const r = at(gp, (iy0 + ky) * W + ix0);
            for (let kx = kx0; kx < kx1; kx++) {
              const q = at(r, kx);
              store<f32>(q, load<f32>(q) + share);
            }
          }
        }
      }
    }
  }
}

export function pool2d_backward(
  kind: i32, x: usize, dy: usize, dx: usize, B: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
): void {
  const planes = B * C;
  memory.fill(dx, 0, <usize>(planes * H * W) << 2);
  if (kind == MAX) poolBackPlanes(MAX, x, dy, dx, planes, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
  else if (kind == AVG) poolBackPlanes(AVG, x, dy, dx, planes, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
  else poolBackPlanes(1, x, dy, dx, planes, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
}

// dx = fl(dy*scale[c]) (dx 0 = skip); dscale[c] = fl(dscale + S) with S the sum from +0 over (b, p) of fl(dy*x);
// dshift likewise with the sum of dy (either 0 = skip). dx may equal dy.
export function affine_backward(
  x: usize, dy: usize, scale: usize, dx: usize, dscale: usize, dshift: usize, B: i32, C: i32, HW: i32,
): void {
  if (HW == 1) {
    // Flat activity: channels are the lanes, each lane sums over b in order.
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const sc = v128.load(at(scale, c));
      let accS = f32x4.splat(0), accH = f32x4.splat(0);
      for (let b = 0; b < B; b++) {
        const o = b * C + c;
        const d = v128.load(at(dy, o));
        accS = f32x4.add(accS, f32x4.mul(d, v128.load(at(x, o))));
        accH = f32x4.add(accH, d);
        if (dx) v128.store(at(dx, o), f32x4.mul(d, sc));
      }
      if (dscale) v128.store(at(dscale, c), f32x4.add(v128.load(at(dscale, c)), accS));
      if (dshift) v128.store(at(dshift, c), f32x4.add(v128.load(at(dshift, c)), accH));
    }
    for (; c < C; c++) {
      const sc = load<f32>(at(scale, c));
      let sS: f32 = 0, sH: f32 = 0;
      for (let b = 0; b < B; b++) {
        const o = b * C + c;
        const d = load<f32>(at(dy, o));
        sS += d * load<f32>(at(x, o));
        sH += d;
        if (dx) store<f32>(at(dx, o), d * sc);
      }
      if (dscale) store<f32>(at(dscale, c), load<f32>(at(dscale, c)) + sS);
      if (dshift) store<f32>(at(dshift, c), load<f32>(at(dshift, c)) + sH);
    }
    return;
  }
  for (let c = 0; c < C; c++) {
    const sc1 = load<f32>(at(scale, c));
    const sc = f32x4.splat(sc1);
    let sS: f32 = 0, sH: f32 = 0;
    for (let b = 0; b < B; b++) {
      const o = (b * C + c) * HW;
      const dr = at(dy, o), xr = at(x, o);
      let p = 0;
      for (; p + 4 <= HW; p += 4) {
        const d = v128.load(at(dr, p));
        const prod = f32x4.mul(d, v128.load(at(xr, p)));
        if (dx) v128.store(at(dx, o + p), f32x4.mul(d, sc));
        // The per-channel sums run element by element, in order.
        sS += f32x4.extract_lane(prod, 0);
        sS += f32x4.extract_lane(prod, 1);
        sS += f32x4.extract_lane(prod, 2);
        sS += f32x4.extract_lane(prod, 3);
        sH += f32x4.extract_lane(d, 0);
        sH += f32x4.extract_lane(d, 1);
        sH += f32x4.extract_lane(d, 2);
        sH += f32x4.extract_lane(d, 3);
      }
      for (; p < HW; p++) {
        const d = load<f32>(at(dr, p));
        sS += d * load<f32>(at(xr, p));
        sH += d;
        if (dx) store<f32>(at(dx, o + p), d * sc1);
      }
    }
    if (dscale) store<f32>(at(dscale, c), load<f32>(at(dscale, c)) + sS);
    if (dshift) store<f32>(at(dshift, c), load<f32>(at(dshift, c)) + sH);
  }
}

// dx = x > 0 ? dy : +0. dx may equal dy.
export function relu_backward(x: usize, dy: usize, dx: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(dx, i), v128.and(v128.load(at(dy, i)), f32x4.gt(v128.load(at(x, i)), zero)));
  }
  for (; i < n; i++) store<f32>(at(dx, i), load<f32>(at(x, i)) > 0 ? load<f32>(at(dy, i)) : 0);
}
