import { at } from "./memory";
import { tapHi, tapLo } from "./window";

const AVG = 0;
const SUM = 1;
const MAX = 2;

// Padding adds nothing to a sum (avg still divides by the full window, as PyTorch counts padding) and is -inf for
// max, so only the in-range part of each window is visited, row by row.
@inline function poolPlanes(
  kind: i32, x: usize, y: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
): void {
  const area = <f32>(kH * kW);
  const HW = H * W;
  let yq = y;
  for (let n = 0; n < planes; n++) {
    const xp = at(x, n * HW);
    for (let oy = 0; oy < Ho; oy++) {
      const iy0 = oy * sH - pH;
      const ky0 = tapLo(iy0, 1), ky1 = tapHi(iy0, 1, kH, H);
      for (let ox = 0; ox < Wo; ox++) {
        const ix0 = ox * sW - pW;
        const kx0 = tapLo(ix0, 1), kx1 = tapHi(ix0, 1, kW, W);
        let acc: f32 = kind == MAX ? -Infinity : 0;
        for (let ky = ky0; ky < ky1; ky++) {
          const xr = at(xp, (iy0 + ky) * W + ix0);
          for (let kx = kx0; kx < kx1; kx++) {
            const v = load<f32>(at(xr, kx));
            acc = kind == MAX ? max<f32>(acc, v) : acc + v;
          }
        }
        store<f32>(yq, kind == AVG ? acc / area : acc);
        yq += 4;
      }
    }
  }
}

export function pool2d(
  kind: i32, x: usize, y: usize, B: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32,
  kH: i32, kW: i32, sH: i32, sW: i32, pH: i32, pW: i32,
): void {
  const planes = B * C;
  if (kind == MAX) poolPlanes(MAX, x, y, planes, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
  else if (kind == AVG) poolPlanes(AVG, x, y, planes, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
  else poolPlanes(SUM, x, y, planes, H, W, Ho, Wo, kH, kW, sH, sW, pH, pW);
}
