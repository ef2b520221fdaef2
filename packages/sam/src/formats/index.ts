export { MODEL_FORMAT, modelToSafetensors, parseModel } from './graph.js';
export { readNpy, writeNpy } from './npy.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
export { MAX_HEADER_BYTES, readSafetensors, writeSafetensors } from './safetensors.js';
export type { SafetensorsDtype, SafetensorsFile, SafetensorsInput, SafetensorsTensor } from './safetensors.js';
