import { InputError, parseModel, readNir, readNpy, type Model, type NetworkInput, type NirImportOptions } from '@spikelens/sam';
import { decodePng, readBytes } from '@spikelens/sam/node';
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

export async function loadInput(file: string, model: Model): Promise<LoadedInput> {
  const ext = extname(file).toLowerCase();
  if (ext === '.png') return loadImage(file, model);
  if (ext !== '.npy') throw new InputError(file, 'unsupported input: expected a .npy array or a .png image');
  const arr = readNpy(await readBytes(file), file);
  const S = model.input.shape;
  const want = `float32 [B,${S.join(',')}] (pixel values), or uint8/int8/float32 [T,B,${S.join(',')}] (spikes or event counts per step)`;
  const shapeStr = `[${arr.shape.join(',')}]`;
  const fits = (offset: number): boolean =>
    arr.shape.length === S.length + offset && S.every((d, i) => arr.shape[i + offset] === d) && arr.shape.slice(0, offset).every((d) => d >= 1);
  if (arr.dtype === 'u1' || arr.dtype === 'i1' || arr.dtype === 'b1') {
    if (!fits(2)) throw new InputError(file, `${arr.dtype === 'i1' ? 'int8' : 'uint8'} array of shape ${shapeStr} does not fit the model: expected ${want}`);
    const [T, B] = arr.shape;
    const data = arr.data as Uint8Array | Int8Array;
    if (arr.dtype === 'i1') {
      const bad = (data as Int8Array).findIndex((v) => v < -1 || v > 1);
      if (bad >= 0) throw new InputError(file, `int8 spikes must be -1, 0 or 1; element ${bad} is ${data[bad]}`);
    }
    return { input: { kind: 'train', data, timesteps: T }, batch: B };
  }
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data as Float64Array);
  if (fits(2)) {
    // A float array with a time axis: input frames entering the first layer as given (event counts, currents).
    for (let i = 0; i < data.length; i++)
      if (!Number.isFinite(data[i])) throw new InputError(file, `element ${i} is ${data[i]}: input frames must be finite`);
    return { input: { kind: 'train', data, timesteps: arr.shape[0] }, batch: arr.shape[1] };
  }
  if (!fits(1)) throw new InputError(file, `float array of shape ${shapeStr} does not fit the model: expected ${want}`);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw new InputError(file, `element ${i} is ${data[i]}: pixel values must be finite`);
  return { input: { kind: 'pixels', data }, batch: arr.shape[0] };
}
