export { UsageError, InputError, exitCodeOf } from './errors.js';
export { isSpiking, sizeOf } from './model.js';
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
  writeNpy,
  MAX_HEADER_BYTES,
  readSafetensors,
  writeSafetensors,
} from './formats/index.js';
export type {
  NpyArray,
  NpyData,
  NpyDtype,
  SafetensorsDtype,
  SafetensorsFile,
  SafetensorsInput,
  SafetensorsTensor,
} from './formats/index.js';
export { Network, NCS_MODE } from './network.js';
export type { NetworkInput, NetworkOptions, StepObserver, NcsMode } from './network.js';
export { Recorder, SamObserver } from './observers.js';
export type { RecordOptions, SamOptions } from './observers.js';
export { preprocess } from './preprocess.js';
export { convFanout, denseMacs, denseMacsPerStep } from './work.js';
export { imageToPixels, rgbaToRgb, baseImage, pixelsToRgba } from './image.js';
export type { Channels } from './image.js';
export * from './render/index.js';
