import { UsageError } from '../errors.js';
import { colormapIndex, colormapTable, type ColormapName } from './colormaps.js';

/**
 * Draw a normalized map over an image (docs/semantics.md §9): rgb = alpha * colour + (1 - alpha) * image, both in [0, 1],
 * written as floor(255 * rgb + 0.5). Computed in float64 in exactly that order (alpha * colour, then
 * (1 - alpha) * (pixel / 255), then the sum), which every JS engine evaluates identically.
 *
 * `image` is width x height with 1 (gray), 3 (RGB) or 4 (RGBA) bytes per pixel, the count taken from its length;
 * an RGBA image's alpha is composited over black first, as the model saw it. `map` holds one normalized value per
 * pixel (already resized to the image). Returns opaque RGBA.
 */
export function overlay(
  image: Uint8Array,
  width: number,
  height: number,
  map: Float32Array,
  cmap: ColormapName,
  alpha = 0.5,
): Uint8Array {
  const pixels = width * height;
  if (!Number.isInteger(width) || !Number.isInteger(height) || pixels <= 0 || map.length !== pixels) {
    throw new RangeError(`overlay: a ${width}x${height} image needs a map of ${pixels} values, got ${map.length}`);
  }
  const channels = image.length / pixels;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new RangeError(`overlay: ${image.length} bytes is not a gray, RGB or RGBA ${width}x${height} image`);
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new UsageError(`alpha must be in [0, 1], got ${alpha}`);
  const table = colormapTable(cmap);
  const keep = 1 - alpha;
  const out = new Uint8Array(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    const e = colormapIndex(map[p]) * 3;
    const i = p * channels;
    const a = channels === 4 ? image[i + 3] : 255;
    for (let c = 0; c < 3; c++) {
      const byte = image[channels === 1 ? i : i + c];
      // Composited over black exactly as image.ts composites the model input.
      const pixel = Math.fround((byte * a) / 255);
      const rgb = alpha * table[e + c] + keep * (pixel / 255);
      out[p * 4 + c] = Math.floor(255 * rgb + 0.5);
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}
