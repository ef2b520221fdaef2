import { UsageError } from '../errors.js';

/**
 * Normalization of a heatmap before colouring (docs/semantics.md §9). All arithmetic is float32 (Math.fround after every
 * operation), so Node and browsers give the same bits.
 */
export type NormalizeMode = 'frame' | 'global' | 'official' | 'fixed';

export const NORMALIZE_MODES: readonly NormalizeMode[] = ['frame', 'global', 'official', 'fixed'];

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface NormalizeOptions {
  /** `fixed`: the value shown as 1; required, finite and > 0. */
  readonly limit?: number;
  /** `global`: min and max over all steps of the sample (see `sequenceRange`); without it, the frame's own. */
  readonly range?: Range;
}

const f = Math.fround;
const OFFICIAL_EPS = f(1e-3);

export function isNormalizeMode(mode: string): mode is NormalizeMode {
  return (NORMALIZE_MODES as readonly string[]).includes(mode);
}

/** min and max of `data` (0 and 0 when empty). */
export function valueRange(data: Float32Array): Range {
  if (data.length === 0) return { min: 0, max: 0 };
  let min = data[0];
  let max = data[0];
  for (let i = 1; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** One min/max over every frame of a sample, for `global`. */
export function sequenceRange(frames: readonly Float32Array[]): Range {
  let min = Infinity;
  let max = -Infinity;
  for (const frame of frames) {
    if (frame.length === 0) continue;
    const r = valueRange(frame);
    if (r.min < min) min = r.min;
    if (r.max > max) max = r.max;
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}

/** (M - min) / (max - min), and 0 everywhere when max == min. */
function minMax(map: Float32Array, { min, max }: Range): Float32Array {
  const out = new Float32Array(map.length);
  if (!(max > min)) return out;
  const span = f(max - min);
  for (let i = 0; i < map.length; i++) out[i] = f(f(map[i] - min) / span);
  return out;
}

/**
 * Normalize one frame (H*W values). `official` is the paper's (M - min) / (max + 1e-3), computed as defined and not
 * clamped (colour lookup clamps); `fixed` is M / limit clamped to [0, 1].
 */
export function normalizeMap(map: Float32Array, mode: NormalizeMode, opts: NormalizeOptions = {}): Float32Array {
  switch (mode) {
    case 'frame':
      return minMax(map, valueRange(map));
    case 'global':
      return minMax(map, opts.range ?? valueRange(map));
    case 'official': {
      const { min, max } = valueRange(map);
      const denom = f(max + OFFICIAL_EPS);
      const out = new Float32Array(map.length);
      for (let i = 0; i < map.length; i++) out[i] = f(f(map[i] - min) / denom);
      return out;
    }
    case 'fixed': {
      const limit = opts.limit;
      if (limit === undefined || !Number.isFinite(limit) || !(limit > 0)) {
        throw new UsageError(`normalization 'fixed' needs a limit > 0 (--limit L), got ${limit ?? 'none'}`);
      }
      const l = f(limit);
      const out = new Float32Array(map.length);
      for (let i = 0; i < map.length; i++) out[i] = Math.min(1, Math.max(0, f(map[i] / l)));
      return out;
    }
    default:
      throw new UsageError(`unknown normalization '${String(mode)}' (one of ${NORMALIZE_MODES.join(', ')})`);
  }
}

/**
 * Normalize every step of one sample: `data` is [T, H*W] (frame t at t*frameSize), as a `.sam` record holds one
 * sample. `global` takes its min/max over all T frames. Returns one array per step.
 */
export function normalizeSequence(
  data: Float32Array,
  frameSize: number,
  mode: NormalizeMode,
  opts: Pick<NormalizeOptions, 'limit'> = {},
): Float32Array[] {
  if (!Number.isInteger(frameSize) || frameSize <= 0 || data.length % frameSize !== 0) {
    throw new RangeError(`a sequence of ${data.length} values does not split into frames of ${frameSize}`);
  }
  const frames: Float32Array[] = [];
  for (let o = 0; o < data.length; o += frameSize) frames.push(data.subarray(o, o + frameSize));
  const range = mode === 'global' ? sequenceRange(frames) : undefined;
  return frames.map((frame) => normalizeMap(frame, mode, { ...opts, range }));
}
