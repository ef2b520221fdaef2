import type { RgbaImage } from './canvas.js';
import type { ColormapName } from './colormaps.js';
import { composeGrid } from './grid.js';
import { normalizeSequence, type NormalizeMode } from './normalize.js';
import { overlay } from './overlay.js';
import { resizeBilinear, resizeBilinearInterleaved } from './resize.js';

/**
 * The pictures of `spikelens explain` and of the web page, from raw maps of one sample: one overlay per step and
 * the grid of all steps. One code path, so the page's downloads are the CLI's files pixel for pixel.
 */
export interface MapStyle {
  readonly normalize: NormalizeMode;
  /** The map value shown as 1 with `fixed`. */
  readonly limit?: number;
  readonly colormap: ColormapName;
  /** Opacity of the map over the image, 0..1. */
  readonly alpha: number;
}

/** Grid tiles are at most this many pixels on their longer side, whatever the image size. */
export const MAX_TILE = 256;

/** Interleaved RGB (or gray) `image` of width x height: the picture maps are drawn over. */
export interface BasePicture {
  readonly width: number;
  readonly height: number;
  /** 1 or 3 bytes per pixel, rows top to bottom. */
  readonly pixels: Uint8Array;
}

/** Each step's overlay (opaque RGBA at the picture's size) of raw maps `[T, H, W]` of one sample. */
export function mapOverlays(maps: Float32Array, H: number, W: number, base: BasePicture, style: MapStyle): Uint8Array[] {
  const out: Uint8Array[] = [];
  eachMapOverlay(maps, H, W, base, style, (rgba) => out.push(rgba));
  return out;
}

/**
 * The overlays of mapOverlays handed to `use` one step at a time, so that only one picture is in memory at once
 * (a long run over a large image); `steps` limits them to those steps.
 */
export function eachMapOverlay(
  maps: Float32Array,
  H: number,
  W: number,
  base: BasePicture,
  style: MapStyle,
  use: (rgba: Uint8Array, t: number) => void,
  steps?: readonly number[],
): void {
  const frames = normalizeSequence(maps, H * W, style.normalize, { limit: style.limit });
  for (const t of steps ?? frames.keys()) {
    const full = resizeBilinear(frames[t], H, W, base.height, base.width);
    use(overlay(base.pixels, base.width, base.height, full, style.colormap, style.alpha), t);
  }
}

/** A grid shows at most this many steps: all of a shorter run, else this many evenly spaced, first and last included. */
export const MAX_GRID_STEPS = 64;

/** The steps a grid of a T-step run shows (see MAX_GRID_STEPS). */
export function gridSteps(T: number): number[] {
  if (T <= MAX_GRID_STEPS) return Array.from({ length: T }, (_, t) => t);
  return Array.from({ length: MAX_GRID_STEPS }, (_, i) => Math.round((i * (T - 1)) / (MAX_GRID_STEPS - 1)));
}

/** The size of a width x height picture scaled so its longer side is at most `maxSide` (itself when it fits). */
export function fittedSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  if (scale >= 1) return { width, height };
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The picture scaled (bilinear) so its longer side is at most `maxSide`; itself when it already fits. */
export function fitPicture(base: BasePicture, maxSide: number): BasePicture {
  const { width, height } = fittedSize(base.width, base.height, maxSide);
  if (width === base.width && height === base.height) return base;
  const channels = base.pixels.length / (base.width * base.height);
  const resized = resizeBilinearInterleaved(Float32Array.from(base.pixels), base.height, base.width, channels, height, width);
  const pixels = new Uint8Array(resized.length);
  for (let i = 0; i < resized.length; i++) pixels[i] = Math.min(255, Math.max(0, Math.floor(resized[i] + 0.5)));
  return { width, height, pixels };
}

/**
 * The grid of every step's overlay (tiles at most MAX_TILE a side; past MAX_GRID_STEPS steps, evenly spaced ones),
 * the step under each tile, `title` above.
 */
export function mapGrid(maps: Float32Array, H: number, W: number, base: BasePicture, style: MapStyle, title: string): RgbaImage {
  const tile = fitPicture(base, MAX_TILE);
  const steps = gridSteps(maps.length / (H * W));
  const tiles: RgbaImage[] = [];
  eachMapOverlay(maps, H, W, tile, style, (rgba) => tiles.push({ width: tile.width, height: tile.height, rgba }), steps);
  return composeGrid(tiles, { title, legend: style.colormap, labels: steps.map((t) => `t=${t}`) });
}
