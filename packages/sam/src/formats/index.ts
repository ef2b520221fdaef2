export { MODEL_FORMAT, modelToSafetensors, parseModel } from './graph.js';
export { readNpy, readNpyHeader, writeNpy, npyHeader } from './npy.js';
export type { NpyArray, NpyData, NpyDtype, NpyHeader } from './npy.js';
export { sniffFormat } from './sniff.js';
export { parseJson } from './json.js';
export { MAX_HEADER_BYTES, readSafetensors, writeSafetensors } from './safetensors.js';
export type { SafetensorsDtype, SafetensorsFile, SafetensorsInput, SafetensorsTensor } from './safetensors.js';
