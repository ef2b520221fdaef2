import { UsageError } from '../errors.js';
import { INFERNO, VIRIDIS } from './colormap-data.js';

/**
 * The four colormaps of docs/semantics.md §9 as matplotlib builds them with N = 256. A table is 768 float64 values in [0, 1]
 * (R, G, B per entry, entry 0 first); a value v in [0, 1] picks entry min(255, floor(v * 256)), as matplotlib does.
 */
export type ColormapName = 'jet' | 'viridis' | 'inferno' | 'gray';

export const COLORMAPS: readonly ColormapName[] = ['jet', 'viridis', 'inferno', 'gray'];

export function isColormapName(name: string): name is ColormapName {
  return (COLORMAPS as readonly string[]).includes(name);
}

/** A LinearSegmentedColormap channel: rows (x, y0, y1), y0 the value left of x and y1 right of it. */
type Segments = readonly (readonly [number, number, number])[];

// matplotlib's _cm.py `_jet_data`.
const JET_RED: Segments = [[0, 0, 0], [0.35, 0, 0], [0.66, 1, 1], [0.89, 1, 1], [1, 0.5, 0.5]];
const JET_GREEN: Segments = [[0, 0, 0], [0.125, 0, 0], [0.375, 1, 1], [0.64, 1, 1], [0.91, 0, 0], [1, 0, 0]];
const JET_BLUE: Segments = [[0, 0.5, 0.5], [0.11, 1, 1], [0.34, 1, 1], [0.65, 0, 0], [1, 0, 0]];

const N = 256;

/**
 * matplotlib's `_create_lookup_table(N, data)` with gamma 1: x_i = i * (1/255) as np.linspace computes it, the
 * segment is the first with x_k >= x_i (np.searchsorted), the ends are pinned to y1[0] and y0[-1], then clipped.
 */
function segmentedChannel(seg: Segments): Float64Array {
  const out = new Float64Array(N);
  const step = 1 / (N - 1);
  out[0] = seg[0][2];
  out[N - 1] = seg[seg.length - 1][1];
  for (let i = 1; i < N - 1; i++) {
    const x = i * step;
    let k = 1;
    while (seg[k][0] < x) k++;
    const [x0, , left] = seg[k - 1];
    const [x1, right] = seg[k];
    out[i] = Math.min(1, Math.max(0, ((x - x0) / (x1 - x0)) * (right - left) + left));
  }
  return out;
}

function segmentedTable(r: Segments, g: Segments, b: Segments): Float64Array {
  const channels = [segmentedChannel(r), segmentedChannel(g), segmentedChannel(b)];
  const table = new Float64Array(N * 3);
  for (let i = 0; i < N; i++) for (let c = 0; c < 3; c++) table[i * 3 + c] = channels[c][i];
  return table;
}

function listedTable(millionths: string): Float64Array {
  const table = new Float64Array(N * 3);
  for (let j = 0; j < table.length; j++) table[j] = Number(millionths.slice(j * 6, j * 6 + 6)) / 1e6;
  return table;
}

function grayTable(): Float64Array {
  const table = new Float64Array(N * 3);
  for (let i = 0; i < N; i++) table.fill(i / (N - 1), i * 3, i * 3 + 3);
  return table;
}

const floatTables = new Map<ColormapName, Float64Array>();
const byteTables = new Map<ColormapName, Uint8Array>();

function checkName(name: string): ColormapName {
  if (!isColormapName(name)) throw new UsageError(`unknown colormap '${name}' (one of ${COLORMAPS.join(', ')})`);
  return name;
}

/** The table as floats in [0, 1]: 768 values, R G B per entry. Shared: do not modify it. */
export function colormapTable(name: ColormapName): Float64Array {
  let table = floatTables.get(checkName(name));
  if (!table) {
    switch (name) {
      case 'jet': table = segmentedTable(JET_RED, JET_GREEN, JET_BLUE); break;
      case 'viridis': table = listedTable(VIRIDIS); break;
      case 'inferno': table = listedTable(INFERNO); break;
      case 'gray': table = grayTable(); break;
    }
    floatTables.set(name, table);
  }
  return table;
}

/** The table as bytes floor(255 c + 0.5): what overlay writes at alpha 1. Shared: do not modify it. */
export function colormapBytes(name: ColormapName): Uint8Array {
  let bytes = byteTables.get(name);
  if (!bytes) {
    bytes = Uint8Array.from(colormapTable(name), (c) => Math.floor(255 * c + 0.5));
    byteTables.set(name, bytes);
  }
  return bytes;
}

/** Table entry for a normalized value: min(255, floor(v * 256)), values below 0 (and NaN) at entry 0. */
export function colormapIndex(v: number): number {
  if (!(v > 0)) return 0;
  return Math.min(N - 1, Math.floor(v * N));
}

/** Colour every value of a normalized map: RGB (3) or opaque RGBA (4) bytes, one pixel per value. */
export function colorize(norm: Float32Array, cmap: ColormapName, channels: 3 | 4 = 4): Uint8Array {
  const bytes = colormapBytes(cmap);
  const out = new Uint8Array(norm.length * channels);
  for (let p = 0; p < norm.length; p++) {
    const e = colormapIndex(norm[p]) * 3;
    const o = p * channels;
    out[o] = bytes[e];
    out[o + 1] = bytes[e + 1];
    out[o + 2] = bytes[e + 2];
    if (channels === 4) out[o + 3] = 255;
  }
  return out;
}

/**
 * A horizontal colour bar, low values on the left: column x shows v = (x + 0.5) / width, so a 256-wide strip
 * shows every entry once. Opaque RGBA.
 */
export function legendStrip(cmap: ColormapName, width: number, height: number): Uint8Array {
  const row = new Float32Array(width);
  for (let x = 0; x < width; x++) row[x] = (x + 0.5) / width;
  const line = colorize(row, cmap, 4);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) out.set(line, y * width * 4);
  return out;
}
