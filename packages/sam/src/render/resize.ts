/**
 * Bilinear resize as PyTorch's `F.interpolate(size=..., mode="bilinear", align_corners=False)` on CPU float32,
 * without antialiasing (docs/semantics.md §7, §9). Every operation is rounded to float32 (Math.fround; a double result rounded
 * to float32 equals the float32 operation for + - * /), in this order:
 *
 *   per axis:  scale = fl(in / out)
 *              src   = max(0, fl(fl(scale * (d + 0.5)) - 0.5))
 *              i0    = min(floor(src), in - 1),  i1 = min(i0 + 1, in - 1)
 *              l1    = clamp(fl(src - i0), 0, 1),  l0 = fl(1 - l1)
 *              (an axis whose size does not change is the identity: i0 = i1 = d, l0 = 1, l1 = 0)
 *   per pixel: top    = fl(fl(x[y0][x0] * w0) + fl(x[y0][x1] * w1))
 *              bottom = fl(fl(x[y1][x0] * w0) + fl(x[y1][x1] * w1))
 *              out    = fl(fl(top * h0) + fl(bottom * h1))
 *
 * which is the order of ATen's `cpu_upsample_linear` (width innermost, no fused multiply-add).
 */

const f = Math.fround;

interface AxisWeights {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly l0: Float32Array;
  readonly l1: Float32Array;
}

function axisWeights(inSize: number, outSize: number): AxisWeights {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  const scale = f(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    if (inSize === outSize) {
      i0[d] = d;
      i1[d] = d;
      l0[d] = 1;
      continue;
    }
    const src = Math.max(0, f(f(scale * (d + 0.5)) - 0.5));
    const k = Math.min(Math.floor(src), inSize - 1);
    const lambda = Math.min(1, Math.max(0, f(src - k)));
    i0[d] = k;
    i1[d] = k < inSize - 1 ? k + 1 : k;
    l1[d] = lambda;
    l0[d] = f(1 - lambda);
  }
  return { i0, i1, l0, l1 };
}

function checkSizes(length: number, inH: number, inW: number, channels: number, outH: number, outW: number): void {
  for (const [name, v] of [['inH', inH], ['inW', inW], ['channels', channels], ['outH', outH], ['outW', outW]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`resize: ${name} must be a positive integer, got ${v}`);
  }
  if (length !== inH * inW * channels) {
    throw new RangeError(`resize: expected ${inH}x${inW}x${channels} = ${inH * inW * channels} values, got ${length}`);
  }
}

/**
 * Resize an interleaved image (`channels` values per pixel, rows top to bottom) from inH x inW to outH x outW.
 * Returns a new array, also when the sizes are equal.
 */
export function resizeBilinearInterleaved(
  src: Float32Array,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
): Float32Array {
  checkSizes(src.length, inH, inW, channels, outH, outW);
  if (inH === outH && inW === outW) return src.slice();
  const ys = axisWeights(inH, outH);
  const xs = axisWeights(inW, outW);
  const out = new Float32Array(outH * outW * channels);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const row0 = ys.i0[y] * inW;
    const row1 = ys.i1[y] * inW;
    const h0 = ys.l0[y];
    const h1 = ys.l1[y];
    for (let x = 0; x < outW; x++) {
      const c0 = xs.i0[x];
      const c1 = xs.i1[x];
      const w0 = xs.l0[x];
      const w1 = xs.l1[x];
      const p00 = (row0 + c0) * channels;
      const p01 = (row0 + c1) * channels;
      const p10 = (row1 + c0) * channels;
      const p11 = (row1 + c1) * channels;
      for (let c = 0; c < channels; c++) {
        const top = f(f(src[p00 + c] * w0) + f(src[p01 + c] * w1));
        const bottom = f(f(src[p10 + c] * w0) + f(src[p11 + c] * w1));
        out[o++] = f(f(top * h0) + f(bottom * h1));
      }
    }
  }
  return out;
}

/** Resize a single-channel image (row-major inH x inW) to outH x outW. */
export function resizeBilinear(src: Float32Array, inH: number, inW: number, outH: number, outW: number): Float32Array {
  return resizeBilinearInterleaved(src, inH, inW, 1, outH, outW);
}

/** Resize a planar [C, inH, inW] image channel by channel to [C, outH, outW]. */
export function resizeBilinearPlanar(
  src: Float32Array,
  channels: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
): Float32Array {
  checkSizes(src.length, inH, inW, channels, outH, outW);
  const plane = inH * inW;
  const out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const resized = resizeBilinear(src.subarray(c * plane, (c + 1) * plane), inH, inW, outH, outW);
    out.set(resized, c * outH * outW);
  }
  return out;
}
