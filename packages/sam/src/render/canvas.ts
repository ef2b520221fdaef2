/** An RGBA picture: width x height pixels, 4 bytes each, rows top to bottom. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

export type Rgb = readonly [number, number, number];

export function createImage(width: number, height: number, background: Rgb): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) rgba.set([background[0], background[1], background[2], 255], p * 4);
  return { width, height, rgba };
}

/** Fill a rectangle, clipped to the image. */
export function fillRect(img: RgbaImage, x: number, y: number, w: number, h: number, color: Rgb): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(img.width, x + w);
  const y1 = Math.min(img.height, y + h);
  for (let yy = y0; yy < y1; yy++) {
    for (let xx = x0; xx < x1; xx++) {
      const o = (yy * img.width + xx) * 4;
      img.rgba[o] = color[0];
      img.rgba[o + 1] = color[1];
      img.rgba[o + 2] = color[2];
      img.rgba[o + 3] = 255;
    }
  }
}

/**
 * Copy an RGBA picture into `dst` at (x, y), each source pixel drawn as a `scale` x `scale` block (nearest
 * neighbour, so small maps stay crisp rather than blurred), clipped to `dst`.
 */
export function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number, scale = 1): void {
  for (let sy = 0; sy < src.height * scale; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    const srcRow = Math.floor(sy / scale) * src.width;
    for (let sx = 0; sx < src.width * scale; sx++) {
      const dx = x + sx;
      if (dx < 0 || dx >= dst.width) continue;
      const s = (srcRow + Math.floor(sx / scale)) * 4;
      dst.rgba.set(src.rgba.subarray(s, s + 4), (dy * dst.width + dx) * 4);
    }
  }
}
