export { UsageError, InputError, exitCodeOf } from './errors.js';
export { LIMITS, formatBytes, boundedProduct } from './limits.js';
export type { LimitName } from './limits.js';
export { isSpiking, sizeOf, spikeComparison } from './model.js';
export type {
  Shape,
  Tensor,
  NeuronParam,
  ResetRule,
  EncodingKind,
  Readout,
  Conv2dLayer,
  LinearLayer,
  PoolLayer,
  FlattenLayer,
  AffineLayer,
  SpikingLayer,
  LiLayer,
  ReluLayer,
  Layer,
  Op,
  InputSpec,
  Model,
} from './model.js';
export {
  MODEL_FORMAT,
  modelToSafetensors,
  parseModel,
  readNpy,
  readNpyHeader,
  writeNpy,
  npyHeader,
  sniffFormat,
  parseJson,
  MAX_HEADER_BYTES,
  readSafetensors,
  writeSafetensors,
} from './formats/index.js';
export type {
  NpyArray,
  NpyData,
  NpyDtype,
  NpyHeader,
  SafetensorsDtype,
  SafetensorsFile,
  SafetensorsInput,
  SafetensorsTensor,
} from './formats/index.js';
export { Network, NCS_MODE, DEFAULT_EVENT_THRESHOLD, layerEventThreshold, argmaxRows } from './network.js';
export type { NetworkInput, NetworkOptions, StepObserver, NcsMode } from './network.js';
export { Recorder, SamObserver, samFromSpikes } from './observers.js';
export type { RecordOptions, SamOptions, SpikeRecordShape } from './observers.js';
export { summarize, summaryScores, SUMMARY_SCORES } from './summary.js';
export { simulate, memoryInput, recordAll, resolveTimesteps, checkRequest } from './run.js';
export type { RunInput, RunStep, FrameSink, SimulateOptions, SimulateResult } from './run.js';
export type { Summary, SummaryOptions } from './summary.js';
export { preprocess } from './preprocess.js';
export { convFanout, denseMacs, denseMacsPerStep, layerParams } from './work.js';
export { benchmark, benchPixels, gatherCeiling } from './bench.js';
export { footprint, coreStatics, Tally, FOOTPRINT_PARTS } from './footprint.js';
export type { Footprint, FootprintOptions, FootprintBlock, CoreStatics, Part } from './footprint.js';
export type { BenchOptions, BenchReport, LayerProfile, Spread } from './bench.js';
export { dims, convGeometry, poolGeometry, expandParam } from './geometry.js';
export type { ConvGeometry } from './geometry.js';
export { imageToPixels, imageInput, imageShape, rgbaToRgb, baseImage, pixelsToRgba } from './image.js';
export type { Channels } from './image.js';
export * from './render/index.js';
export { DiffNetwork, SURROGATES } from './diff/network.js';
export { explain, explainerOf, EXPLAINERS, METHOD_NAMES } from './explain/index.js';
export { aggregateMaps, resizeMaps, AGGREGATES } from './explain/aggregate.js';
export type { Aggregate } from './explain/aggregate.js';
export type { Explainer, ExplainOptions, Explanation, Target, GradcamAlpha } from './explain/types.js';
export { attack, checkAttack, crossEntropy, roundHalfEven, ATTACK_METHODS } from './attack/index.js';
export type { AttackMethod, AttackOptions, AttackResult } from './attack/index.js';
export * from './metrics/index.js';
export type { Surrogate, DiffNetworkOptions, Param as DiffParam } from './diff/network.js';
export { readNir, writeNir, nirToModel, discretisation, NIR_TYPES, PRESETS, PRESET_NAMES } from './formats/nir/index.js';
export type { NirImport, NirImportOptions, NirExportOptions, Discretisation, Integration, PresetName } from './formats/nir/index.js';
export {
  compilePlanFile, readPlanHeader, planArenaBytes, hashOutputs, LoadedPlan, PLAN_FILE_ERRORS, PLAN_MAGIC, PLAN_VERSION,
} from './planfile.js';
export type { PlanFileOptions, PlanHeader, PlanOutput, PlanInput, PlanRunResult } from './planfile.js';
