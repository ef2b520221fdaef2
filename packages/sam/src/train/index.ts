/**
 * `@spikelens/sam/train`: training spiking networks (architectures, data sets, the generated sets of docs/datasets.md,
 * losses, optimisers, schedules, the sharded training step, ANN-to-SNN conversion, evaluation). The main entry keeps
 * the model, run and explanation API.
 */
export { ARCH_NAMES, describeArch, buildArch } from './arch.js';
export type { ArchOptions } from './arch.js';
export { evaluate } from './evaluate.js';
export type { Evaluation } from './evaluate.js';
export { convertToSnn } from './convert.js';
export type { ConvertOptions } from './convert.js';
export { flatLength, readWeights, writeWeights, readGrads, gatherPixels, shardStep } from './shard.js';
export type { ShardResult } from './shard.js';
export { parseIdxImages, parseIdxLabels, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './data/idx.js';
export type { IdxImages } from './data/idx.js';
export { makeDataset, subset, shuffle, batches, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_PIXELS } from './data/dataset.js';
export type { Dataset } from './data/dataset.js';
export { parseFashionClass, splitFashion, FASHION_CLASSES, FASHION_TEST_PER_CLASS } from './data/fashion.js';
export {
  ImageGenerator, generateDataset, boxesOf, describeGenerator, streamSeed, GENERATED_NAMES, SEED_OFFSETS, CANVAS_SIDE,
  CANVAS_PIXELS, DIGIT_SIDE, MAX_OFFSET, CLUTTER_PIECES, PIECE_SIDE,
} from './data/cluttered.js';
export type {
  GeneratedName, GeneratedSplit, Box, PlacedDigit, ClutterPiece, GeneratedImage, BoxedDataset, GenerateOptions,
} from './data/cluttered.js';
export { softmaxCrossEntropy, accuracy, countCorrect, detExp, detLog } from './loss.js';
export { Sgd, Adam } from './optim.js';
export type { Param as OptimizerParam, Optimizer, OptimizerState, SgdOptions, AdamOptions } from './optim.js';
export { lrAt } from './schedule.js';
export type { Schedule } from './schedule.js';
