import { aggregateMaps, eachMapOverlay, pixelsToRgba, rgbaToRgb, type Explanation, type RgbaImage } from '@spikelens/sam';

/** The maps aggregated over steps, over the image, as one grid tile. */
export function aggregatedOverlay(e: Explanation, pixels: Float32Array, C: number, H: number, W: number, b = 0): RgbaImage {
  const one = aggregateMaps(e.maps, e.T, e.B, e.H, e.W, 'sum').subarray(b * e.H * e.W, (b + 1) * e.H * e.W);
  const rgba = pixelsToRgba(pixels.subarray(b * C * H * W, (b + 1) * C * H * W), C as 1 | 3, H, W);
  const base = { width: W, height: H, pixels: rgbaToRgb(rgba, W, H) };
  let tile = rgba;
  eachMapOverlay(one, e.H, e.W, base, { normalize: 'frame', colormap: 'jet', alpha: 0.5 }, (x) => (tile = x));
  return { width: W, height: H, rgba: tile };
}

