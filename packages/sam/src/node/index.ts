export { decodePng, encodePng, MAX_PNG_SIDE, MAX_PNG_PIXELS } from './png.js';
export type { DecodedPng } from './png.js';
export { readBytes, ensureDir, writeFilesAtomic, MAX_FILE_BYTES } from './files.js';
