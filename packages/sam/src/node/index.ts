export { decodePng, encodePng, MAX_PNG_SIDE, MAX_PNG_PIXELS } from './png.js';
export type { DecodedPng } from './png.js';
export { readBytes, regularFile, ensureDir, checkOutputDir, writeFilesAtomic, OutputDir, withOutputDir, MAX_FILE_BYTES } from './files.js';
export { NpyReader, NpyWriter } from './npy-file.js';
export { loadDataset, loadFashionMnist, DATASET_NAMES, MNIST_CLASSES } from './datasets.js';
export type { DatasetName, DatasetSplit } from './datasets.js';
export { trainModel, initialModel } from './train.js';
export type { TrainConfig, TrainHooks, Progress as TrainProgress } from './train.js';
export { Attacker } from './attack-parallel.js';
