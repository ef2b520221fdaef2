import { rankPixels } from './rank.js';

/** A box in pixel coordinates of the input, inclusive on every side: [y0, x0, y1, x1]. */
export type Box = readonly [number, number, number, number];

/**
 * Pointing game (Zhang et al. 2018): 1 when the map's top-ranked pixel (highest value, lowest index on ties) lies in
 * the box grown by `tolerance` pixels on every side, else 0.
 */
export function pointingHit(map: ArrayLike<number>, width: number, box: Box, tolerance = 0): number {
  const top = rankPixels(map)[0];
  const y = Math.floor(top / width);
  const x = top % width;
  const [y0, x0, y1, x1] = box;
  return y >= y0 - tolerance && y <= y1 + tolerance && x >= x0 - tolerance && x <= x1 + tolerance ? 1 : 0;
}

/** Energy-based pointing (Wang et al. 2020): the share of the map's sum inside the box, 0 for an all-zero map. */
export function energyInBox(map: ArrayLike<number>, width: number, box: Box): number {
  const [y0, x0, y1, x1] = box;
  let inside = 0;
  let total = 0;
  for (let i = 0; i < map.length; i++) {
    const y = Math.floor(i / width);
    const x = i % width;
    total += map[i];
    if (y >= y0 && y <= y1 && x >= x0 && x <= x1) inside += map[i];
  }
  return total > 0 ? inside / total : 0;
}
