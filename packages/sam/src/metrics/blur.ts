/**
 * The insertion metric's default substrate (docs/metrics.md): a normalised Gaussian of size 11 and sigma 5, zero
 * padding 5, applied to each channel in float64 and rounded to float32.
 */
export function gaussianBlur(images: ArrayLike<number>, B: number, C: number, H: number, W: number, size = 11, sigma = 5): Float32Array {
  const r = (size - 1) / 2;
  const k1 = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum1 = k1.reduce((a, b) => a + b, 0);
  for (let i = 0; i < size; i++) k1[i] /= sum1;
  const out = new Float32Array(B * C * H * W);
  for (let p = 0; p < B * C; p++) {
    const o = p * H * W;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        let s = 0;
        for (let dy = 0; dy < size; dy++) {
          const iy = y + dy - r;
          if (iy < 0 || iy >= H) continue;
          for (let dx = 0; dx < size; dx++) {
            const ix = x + dx - r;
            if (ix >= 0 && ix < W) s += k1[dy] * k1[dx] * images[o + iy * W + ix];
          }
        }
        out[o + y * W + x] = s;
      }
  }
  return out;
}
