/**
 * A digit drawn on the page, made to look like an MNIST digit: MNIST centred each digit's bounding box, scaled to fit
 * 20x20 inside the 28x28 frame (keeping its aspect ratio), by its centre of mass. A raw downscale of a drawing
 * instead leaves it off-centre and of the wrong size, and the networks, trained on MNIST, misread it.
 */

export interface GrayImage {
  readonly width: number;
  readonly height: number;
  /** One byte per pixel, rows top to bottom. */
  readonly data: Uint8Array;
}

/** Ink (0..255) of each pixel of an RGBA drawing: its brightness over black, so a light stroke on dark counts. */
export function inkOf(rgba: Uint8Array, width: number, height: number): GrayImage {
  const data = new Uint8Array(width * height);
  for (let p = 0; p < data.length; p++) {
    const a = rgba[p * 4 + 3];
    const y = 0.299 * rgba[p * 4] + 0.587 * rgba[p * 4 + 1] + 0.114 * rgba[p * 4 + 2];
    data[p] = Math.round((y * a) / 255);
  }
  return { width, height, data };
}

/** Box-filter resample: each output pixel is the area-weighted mean of the source pixels it covers. */
export function resampleArea(src: GrayImage, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const sx = src.width / outW;
  const sy = src.height / outH;
  for (let oy = 0; oy < outH; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.min(src.height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(src.width, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += src.data[y * src.width + x] * wx * wy;
        }
      }
      out[oy * outW + ox] = sum / (sx * sy);
    }
  }
  return out;
}

/**
 * The drawing as an opaque gray RGBA image of `size` x `size` (28 for MNIST): bounding box scaled to fit
 * round(size * 20 / 28) pixels, centre of mass moved to the centre. Null when nothing is drawn.
 */
export function mnistStyle(rgba: Uint8Array, width: number, height: number, size = 28): Uint8Array | null {
  const ink = inkOf(rgba, width, height);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink.data[y * width + x] > 16) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const crop = new Uint8Array(bw * bh);
  for (let y = 0; y < bh; y++) crop.set(ink.data.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + bw), y * bw);
  const box = Math.round((size * 20) / 28);
  const scale = box / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));
  const small = resampleArea({ width: bw, height: bh, data: crop }, w, h);

  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = small[y * w + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  // Top-left corner so the centre of mass lands on the frame's centre, kept inside the frame.
  const left = Math.min(size - w, Math.max(0, Math.round(size / 2 - mx / mass)));
  const top = Math.min(size - h, Math.max(0, Math.round(size / 2 - my / mass)));
  const out = new Uint8Array(size * size * 4);
  for (let p = 0; p < size * size; p++) out[p * 4 + 3] = 255;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = Math.min(255, Math.round(small[y * w + x]));
      const o = ((top + y) * size + left + x) * 4;
      out[o] = out[o + 1] = out[o + 2] = v;
    }
  return out;
}
