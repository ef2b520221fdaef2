const f = Math.fround;

/** kind 0 avg (fl(sum / (kH*kW)), padding counted as 0), 1 sum, 2 max (padding -inf); window row by row. */
export function pool2d(
  kind: number, x: Float32Array, y: Float32Array, B: number, C: number, H: number, W: number, Ho: number, Wo: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number,
): void {
  for (let n = 0; n < B * C; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        let acc = kind === 2 ? -Infinity : 0;
        for (let ky = 0; ky < kH; ky++) {
          for (let kx = 0; kx < kW; kx++) {
            const iy = oy * sH - pH + ky;
            const ix = ox * sW - pW + kx;
            const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            if (kind === 2) acc = Math.max(acc, inside ? x[(n * H + iy) * W + ix] : -Infinity);
            else acc = f(acc + (inside ? x[(n * H + iy) * W + ix] : 0));
          }
        }
        y[(n * Ho + oy) * Wo + ox] = kind === 0 ? f(acc / (kH * kW)) : acc;
      }
    }
  }
}
