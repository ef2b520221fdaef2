/**
 * Every limit spikelens enforces on what it reads, in one place (docs/limits.md is the table users read). Each is
 * checked where the data enters, before anything is allocated from it, and a violation is an error that names the
 * file and the field. The values leave room for any real model of this project's kind; they exist so that a small
 * malformed file can never ask for gigabytes of memory or hours of work.
 */
export const LIMITS = {
  /** Bytes of a file read whole (models, images, NIR graphs); `.npy` inputs stream and may be larger. */
  fileBytes: 2 ** 31 - 1,
  /** Bytes of a safetensors JSON header (the reference implementation's own limit). */
  headerBytes: 100_000_000,
  /** Nesting depth of any JSON read (safetensors header, model graph, model card). */
  jsonDepth: 64,
  /** Bytes of a `.npy` header (NumPy's own default `max_header_size`). */
  npyHeaderBytes: 10_000,
  /** Dimensions of an array or tensor. */
  rank: 32,
  /** Bytes one tensor or dataset may take once materialised in memory (as stored, or as float64 for NIR numbers). */
  tensorBytes: 2 ** 28,
  /** Bytes all datasets read from one NIR file may take together. */
  nirBytes: 2 ** 30,
  /** Objects (groups, datasets) walked in one HDF5 file, and how deep its groups may nest. */
  hdf5Objects: 100_000,
  hdf5Depth: 32,
  /** Strings in one HDF5 string dataset (a NIR graph's `edges` holds two node names per edge). */
  hdf5Strings: 200_000,
  /** Layers in one model. */
  layers: 1024,
  /** Neurons (output elements) of one layer for one sample. */
  layerNeurons: 2 ** 24,
  /** Dense multiply-accumulates of one layer at one step for one sample (a 64->64 3x3 conv at 224x224 is 1.85 G). */
  layerMacs: 2 ** 32,
  /** Characters of a layer name. */
  nameChars: 128,
  /** Time steps of a run, from a model's `timesteps`, `--timesteps` or a spike train's length. */
  timesteps: 100_000,
  /** Bytes of WebAssembly memory a network's arena may take (the core's memory is 32-bit). */
  arenaBytes: 3 * 2 ** 30,
  /** Bytes of arena a batch of a streamed run aims at: large inputs run in chunks of samples that fit. */
  chunkBytes: 2 ** 28,
  /** Pixels of a decoded image (width x height), and its longer side. */
  imagePixels: 2 ** 24,
  imageSide: 16_384,
  /** Steps `explain` draws a picture of (one PNG each); a longer run's maps come from `spikelens run --sam`. */
  explainSteps: 1024,
  /** The longer side of an overlay `explain` draws: a larger image is scaled down for its overlays. */
  overlaySide: 1024,
  /** Overlay pixels `explain` draws for one image and layer (overlay pixels x time steps). */
  renderPixels: 2 ** 27,
  /** Steps a gradient method or an attack differentiates through: it keeps every step's activity in memory. */
  gradientSteps: 1024,
  /**
   * Bytes of arena one gradient network (an explanation or an attack: it keeps every step's activity) may take;
   * a larger batch is computed in slices of samples that fit, and a single sample that does not fit is refused.
   */
  gradientBytes: 2 ** 29,
  /** Dense multiply-accumulates and neuron updates of one sample's whole run (time steps x per step). */
  runWork: 2 ** 36,
  /** Bytes one command writes, unless the command's `--max-output` says otherwise. */
  outputBytes: 2 ** 32,
  /** Characters of an error message: one short line, whatever the input. */
  messageChars: 300,
} as const;

export type LimitName = keyof typeof LIMITS;

/** Elements of any array whose size in bytes is still an exact integer (2^53 / 8). */
export const MAX_ELEMENTS = 2 ** 50;

/** A byte count for messages: `268435456` as `256 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

/**
 * The product of `dims` when it is at most `max`, else Infinity; never loses precision on the way (a shape of
 * [1e9, 1e9, 1e9] is Infinity, not a rounded float). Negative or non-integer dims give NaN.
 */
export function boundedProduct(dims: readonly number[], max: number): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) return NaN;
    if (d === 0) return 0;
  }
  for (const d of dims) {
    n *= d;
    if (n > max) return Infinity;
  }
  return n;
}
