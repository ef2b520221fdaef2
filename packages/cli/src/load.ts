import { InputError, LIMITS, parseModel, readNir, sizeOf, type Model, type NetworkInput, type NirImportOptions, type RunInput } from '@spikelens/sam';
import { NpyReader, decodePng, readBytes } from '@spikelens/sam/node';
import { imageInput, imageShape } from '@spikelens/sam';
import { extname } from 'node:path';

export function isNir(file: string): boolean {
  return extname(file).toLowerCase() === '.nir';
}

/**
 * A model file: a spikelens .safetensors, or a .nir graph read with `nir` (its warnings, one line each, go to
 * `warn`).
 */
export async function loadModel(file: string, nir: NirImportOptions = {}, warn: (line: string) => void = () => {}): Promise<Model> {
  if (isNir(file)) {
    const r = await readNir(await readBytes(file), file, nir);
    for (const w of r.warnings) warn(`warning: ${file}: ${w}`);
    return r.model;
  }
  return parseModel(await readBytes(file), file);
}

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

export interface LoadedInput {
  readonly input: NetworkInput;
  readonly batch: number;
  /** Set when the input was an image (batch 1). */
  readonly image?: DecodedImage;
}

export async function loadImage(file: string, model: Model): Promise<LoadedInput> {
  imageShape(model, file);
  const image = decodePng(await readBytes(file), file);
  const pixels = imageInput(model, image.rgba, image.width, image.height, file);
  return { input: { kind: 'pixels', data: pixels }, batch: 1, image };
}

/**
 * A run's input, read a chunk of samples at a time: a PNG (one sample), or a `.npy` of pixel values `[B, ...]` or
 * of input frames `[T, B, ...]` (spikes, event counts or currents), which stays on disk and streams.
 */
export interface InputSource extends RunInput {
  /** The decoded image, when the input is one. */
  readonly image?: DecodedImage;
  close(): void;
}

/** An image, decoded as PNG whatever its name, as a one-sample input (`explain` and `attack` take images). */
export async function openPng(file: string, model: Model): Promise<InputSource> {
  const { input, image } = await loadImage(file, model);
  return {
    file, kind: 'pixels', batch: 1, image, sampleBytes: input.data.byteLength, floatFrames: false,
    read: () => input,
    close: () => {},
  };
}

export async function openInput(file: string, model: Model): Promise<InputSource> {
  const ext = extname(file).toLowerCase();
  if (ext === '.png') return openPng(file, model);
  if (ext !== '.npy') throw new InputError(file, 'unsupported input: expected a .npy array or a .png image');
  const reader = await NpyReader.open(file);
  try {
    return npySource(reader, model);
  } catch (err) {
    reader.close();
    throw err;
  }
}

function npySource(reader: NpyReader, model: Model): InputSource {
  const { file, dtype, shape } = reader;
  const S = model.input.shape;
  const sample = sizeOf(S);
  const want = `float32 [B,${S.join(',')}] (pixel values), or uint8/int8/float32 [T,B,${S.join(',')}] (spikes or event counts per step)`;
  const shapeStr = shape.length <= 8 ? `[${shape.join(',')}]` : `of rank ${shape.length}`;
  const fits = (offset: number): boolean =>
    shape.length === S.length + offset && S.every((d, i) => shape[i + offset] === d) && shape.slice(0, offset).every((d) => d >= 1);
  const bytes = dtype === 'u1' || dtype === 'i1' || dtype === 'b1';
  const train = fits(2);
  if (bytes && !train) throw new InputError(file, `${dtype === 'i1' ? 'int8' : 'uint8'} array of shape ${shapeStr} does not fit the model: expected ${want}`);
  if (!train && !fits(1)) throw new InputError(file, `float array of shape ${shapeStr} does not fit the model: expected ${want}`);

  if (train) {
    const [T, B] = shape;
    if (T > LIMITS.timesteps) throw new InputError(file, `its ${T} steps are more than the ${LIMITS.timesteps} a run may take`);
    return {
      file, kind: 'train', batch: B, timesteps: T, sampleBytes: T * sample * (bytes ? 1 : 4), floatFrames: !bytes,
      read(b0, count) {
        const n = count * sample;
        const data = dtype === 'i1' ? new Int8Array(T * n) : bytes ? new Uint8Array(T * n) : new Float32Array(T * n);
        for (let t = 0; t < T; t++) data.set(reader.read((t * B + b0) * sample, n), t * n);
        if (dtype === 'i1') {
          const bad = data.findIndex((v) => v < -1 || v > 1);
          if (bad >= 0) throw new InputError(file, `int8 spikes must be -1, 0 or 1; ${where(bad, n, b0, sample)} is ${data[bad]}`);
        }
        if (!bytes) {
          const bad = data.findIndex((v) => !Number.isFinite(v));
          if (bad >= 0) throw new InputError(file, `${where(bad, n, b0, sample)} is ${data[bad]}: input frames must be finite`);
        }
        return { kind: 'train', data, timesteps: T };
      },
      close: () => reader.close(),
    };
  }
  const B = shape[0];
  return {
    file, kind: 'pixels', batch: B, sampleBytes: sample * 4, floatFrames: false,
    read(b0, count) {
      const raw = reader.read(b0 * sample, count * sample);
      const data = raw instanceof Float32Array ? raw : Float32Array.from(raw as Float64Array);
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new InputError(file, `sample ${b0 + Math.floor(bad / sample)} element ${bad % sample} is ${data[bad]}: pixel values must be finite`);
      return { kind: 'pixels', data };
    },
    close: () => reader.close(),
  };
}

/** Where element `i` of a chunk of a train `[T, count, sample]` (from sample b0) is, for a message. */
function where(i: number, n: number, b0: number, sample: number): string {
  const t = Math.floor(i / n);
  const r = i % n;
  return `step ${t} sample ${b0 + Math.floor(r / sample)} element ${r % sample}`;
}
