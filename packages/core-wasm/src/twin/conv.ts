const f = Math.fround;

/** f32 count of the packed weight buffer. */
export function conv2dPackedLen(Cout: number, CinG: number, kH: number, kW: number, groups: number): number {
  return groups * Math.ceil(Cout / groups / 16) * 16 * kH * kW * CinG;
}

/** OIHW -> per group, panels of 16 output channels [panel][ky][kx][cin][16], zeros past the group's channels. */
export function conv2dPack(
  src: Float32Array, dst: Float32Array, Cout: number, CinG: number, kH: number, kW: number, groups: number,
): void {
  const CoutG = Cout / groups;
  const panels = Math.ceil(CoutG / 16);
  let d = 0;
  for (let g = 0; g < groups; g++) {
    for (let p = 0; p < panels; p++) {
      for (let ky = 0; ky < kH; ky++) {
        for (let kx = 0; kx < kW; kx++) {
          for (let ci = 0; ci < CinG; ci++) {
            for (let q = 0; q < 16; q++) {
              const co = p * 16 + q;
              dst[d++] = co < CoutG ? src[(((g * CoutG + co) * CinG + ci) * kH + ky) * kW + kx] : 0;
            }
          }
        }
      }
    }
  }
}

/** PyTorch conv2d (zero padding) with OIHW weights; sums (ky, kx, cin), cin fastest, from 0, bias last. */
export function conv2d(
  x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array,
  B: number, Cin: number, H: number, W: number, Cout: number, Ho: number, Wo: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number, groups: number,
): void {
  const CinG = Cin / groups;
  const CoutG = Cout / groups;
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / CoutG);
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          let acc = 0;
          for (let ky = 0; ky < kH; ky++) {
            for (let kx = 0; kx < kW; kx++) {
              for (let ci = 0; ci < CinG; ci++) {
                const iy = oy * sH - pH + ky * dH;
                const ix = ox * sW - pW + kx * dW;
                const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                const xv = inside ? x[((b * Cin + g * CinG + ci) * H + iy) * W + ix] : 0;
                acc = f(acc + f(w[((co * CinG + ci) * kH + ky) * kW + kx] * xv));
              }
            }
          }
          y[((b * Cout + co) * Ho + oy) * Wo + ox] = bias ? f(acc + bias[co]) : acc;
        }
      }
    }
  }
}

/** For each (b, pixel): cnt = number of nonzero channels, idx[(b*HW+p)*C + k] = those channels ascending. */
export function spikeIndex(x: Float32Array, B: number, C: number, HW: number, idx: Int32Array, cnt: Int32Array): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < HW; p++) {
      let k = 0;
      for (let c = 0; c < C; c++) {
        if (x[(b * C + c) * HW + p] !== 0) idx[(b * HW + p) * C + k++] = c;
      }
      cnt[b * HW + p] = k;
      total += k;
    }
  }
  return total;
}

/** conv2d (groups 1, OIHW weights) summing only the inputs listed by spikeIndex, in the same order. */
export function conv2dEvent(
  x: Float32Array, idx: Int32Array, cnt: Int32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array,
  B: number, Cin: number, H: number, W: number, Cout: number, Ho: number, Wo: number,
  kH: number, kW: number, sH: number, sW: number, pH: number, pW: number, dH: number, dW: number,
): void {
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          let acc = 0;
          for (let ky = 0; ky < kH; ky++) {
            for (let kx = 0; kx < kW; kx++) {
              const iy = oy * sH - pH + ky * dH;
              const ix = ox * sW - pW + kx * dW;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const p = iy * W + ix;
              for (let k = 0; k < cnt[b * H * W + p]; k++) {
                const c = idx[(b * H * W + p) * Cin + k];
                acc = f(acc + f(w[((co * Cin + c) * kH + ky) * kW + kx] * x[(b * Cin + c) * H * W + p]));
              }
            }
          }
          y[((b * Cout + co) * Ho + oy) * Wo + ox] = bias ? f(acc + bias[co]) : acc;
        }
      }
    }
  }
}

/** Number of nonzero values in x[0..n). */
export function countNonzero(x: Float32Array, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) if (x[i] !== 0) total++;
  return total;
}
