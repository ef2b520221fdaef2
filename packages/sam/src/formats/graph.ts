/**
 * The spikelens model file (docs/model-format.md): a safetensors container whose `__metadata__["spikelens"]` holds the graph as
 * a JSON string. Parsing yields the one in-memory `Model`, fully validated, with every default applied.
 */
import { InputError } from '../errors.js';
import type { EncodingKind, InputSpec, Layer, Model, Op, Readout, Shape } from '../model.js';
import { isSpiking, sizeOf } from '../model.js';
import { denseMacs } from '../work.js';
import { LIMITS, boundedProduct } from '../limits.js';
import { clip, describe, Fields, isInteger, isObject, parseJson } from './json.js';
import { OPS, parseLayer, type TensorTable } from './layers.js';
import { readSafetensors, writeSafetensors, type SafetensorsInput } from './safetensors.js';

export const MODEL_FORMAT = 'spikelens.model/1';
const METADATA_KEY = 'spikelens';
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Records and `--record` use `input` for the encoder's output (docs/outputs.md), so no layer may take that name. */
const RESERVED_NAMES = ['input'];
const ENCODINGS: readonly EncodingKind[] = ['poisson', 'signed-poisson', 'direct'];
const READOUTS: readonly Readout[] = ['final', 'mean', 'count'];

export function parseModel(bytes: Uint8Array, file: string): Model {
  const { tensors, metadata } = readSafetensors(bytes, file);
  const text = metadata?.[METADATA_KEY];
  if (text === undefined) {
    const message = `safetensors __metadata__ has no "${METADATA_KEY}" entry, so this is not a spikelens model`;
    throw new InputError(file, message);
  }
  const graph = parseJson(text, file, `__metadata__ "${METADATA_KEY}"`);
  if (!isObject(graph)) {
    throw new InputError(file, `__metadata__ "${METADATA_KEY}" is ${describe(graph)}, expected a JSON object`);
  }
  return modelOf(new Fields(file, '', graph), tensors);
}

/** A model file from a graph (as docs/model-format.md writes it) and its tensors; the graph is stored, not validated. */
export function modelToSafetensors(graph: object, tensors: readonly SafetensorsInput[]): Uint8Array {
  return writeSafetensors(tensors, { [METADATA_KEY]: JSON.stringify(graph) });
}

function modelOf(top: Fields, tensors: TensorTable): Model {
  const format = top.raw('format');
  // Checked first: a later format may have fields this reader does not know.
  if (format !== MODEL_FORMAT) top.fail('format', `${describe(format)} is not "${MODEL_FORMAT}"`);
  top.only(['format', 'name', 'input', 'timesteps', 'readout', 'layers', 'meta'], 'the model graph');
  const name = top.string('name') ?? '';
  const inputFields = top.object('input') ?? top.fail('input', 'is required');
  const input = inputOf(inputFields);
  const timesteps = top.raw('timesteps') == null ? null : top.integer('timesteps', 1);
  if (timesteps !== null && timesteps > LIMITS.timesteps) top.fail('timesteps', `${timesteps} is more than the ${LIMITS.timesteps} steps a run may take`);
  const layers = layersOf(top, input.shape, tensors);
  const last = layers[layers.length - 1];
  const readout = readoutOf(top, last);
  const classes = sizeOf(last.outShape);
  if (input.labels && input.labels.length !== classes) {
    inputFields.fail('labels', `${input.labels.length} labels for the ${classes} outputs of last layer "${last.name}"`);
  }
  const meta = top.raw('meta');
  if (meta !== undefined && !isObject(meta)) top.fail('meta', `${describe(meta)} is not an object`);
  const model: Model = { file: top.file, name, input, timesteps, readout, layers };
  return meta === undefined ? model : { ...model, meta };
}

function inputOf(f: Fields): InputSpec {
  f.only(['shape', 'preprocess', 'encoding', 'labels'], 'input');
  const shape = f.raw('shape');
  if (!Array.isArray(shape) || (shape.length !== 1 && shape.length !== 3) || !shape.every((d) => isInteger(d, 1))) {
    f.fail('shape', `${describe(shape)} is not [C, H, W] or [N] of positive integers`);
  }
  if (!(boundedProduct(shape as number[], LIMITS.layerNeurons) <= LIMITS.layerNeurons))
    f.fail('shape', `${describe(shape)} has more than ${LIMITS.layerNeurons} elements`);
  const channels = (shape as number[])[0];

  const pre = f.object('preprocess');
  pre?.only(['scale', 'mean', 'std'], 'preprocess');
  const scale = pre?.float32('scale', 1) ?? 1;
  const mean = pre?.float32s('mean', [0]) ?? [0];
  const std = pre?.float32s('std', [1]) ?? [1];
  for (const [field, values] of [['mean', mean], ['std', std]] as const) {
    if (values.length !== 1 && values.length !== channels) {
      pre?.fail(field, `has ${values.length} values, expected 1 or ${channels} (one per channel)`);
    }
  }
  const zero = std.indexOf(0);
  if (zero >= 0) pre?.fail('std', `value ${zero} is 0, expected nonzero values`);

  const enc = f.object('encoding');
  enc?.only(['kind', 'gain'], 'encoding');
  const kind = enc?.choice('kind', ENCODINGS, 'poisson') ?? 'poisson';
  const gain = enc?.float32('gain', 1) ?? 1;
  if (gain <= 0) enc?.fail('gain', `${gain} is not positive`);

  const labels = f.raw('labels') ?? null;
  if (labels !== null && (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))) {
    f.fail('labels', `${describe(labels)} is not a list of strings`);
  }
  const long = (labels as string[] | null)?.findIndex((l) => l.length > LIMITS.nameChars) ?? -1;
  if (long >= 0) f.fail('labels', `label ${long} is longer than ${LIMITS.nameChars} characters`);
  return {
    shape: shape as number[],
    preprocess: { scale, mean, std },
    encoding: { kind, gain },
    labels: labels as string[] | null,
  };
}

function layersOf(top: Fields, inputShape: Shape, tensors: TensorTable): Layer[] {
  const list = top.raw('layers');
  if (!Array.isArray(list) || list.length === 0) {
    top.fail('layers', `${describe(list)} is not a non-empty list of layers`);
  }
  if (list.length > LIMITS.layers) top.fail('layers', `${list.length} layers are more than the ${LIMITS.layers} a model may have`);
  const layers: Layer[] = [];
  const seen = new Map<string, number>();
  let shape = inputShape;
  for (const [i, entry] of (list as unknown[]).entries()) {
    if (!isObject(entry)) top.fail(`layers[${i}]`, `${describe(entry)} is not an object`);
    const indexed = new Fields(top.file, `layers[${i}]`, entry as Record<string, unknown>);
    const name = indexed.requiredString('name');
    if (name.length > LIMITS.nameChars) indexed.fail('name', `is longer than ${LIMITS.nameChars} characters`);
    if (!NAME.test(name)) indexed.fail('name', `${describe(name)} does not match ${NAME.source}`);
    if (RESERVED_NAMES.includes(name)) indexed.fail('name', `"${name}" is reserved for the encoder's output`);
    const previous = seen.get(name);
    if (previous !== undefined) indexed.fail('name', `"${name}" is already the name of layers[${previous}]`);
    seen.set(name, i);
    const f = new Fields(top.file, `layer "${name}"`, entry as Record<string, unknown>);
    const op = f.raw('op');
    if (!OPS.includes(op as Op)) f.fail('op', `unknown op ${describe(op)} (expected one of ${OPS.join(', ')})`);
    const layer = parseLayer(f, name, op as Op, shape, tensors);
    checkSize(f, layer);
    layers.push(layer);
    shape = layer.outShape;
  }
  return layers;
}

/** A layer's size against the limits: a few bytes of padding or shape must not ask for gigabytes or hours. */
function checkSize(f: Fields, layer: Layer): void {
  const neurons = boundedProduct(layer.outShape, LIMITS.layerNeurons);
  if (!(neurons <= LIMITS.layerNeurons))
    f.failAt(`its output ${describe(layer.outShape)} has more than ${LIMITS.layerNeurons} elements per sample`);
  const macs = denseMacs(layer);
  if (macs > LIMITS.layerMacs)
    f.failAt(`it needs ${macs.toExponential(2)} multiply-accumulates a step, more than the ${LIMITS.layerMacs} allowed`);
}

function readoutOf(top: Fields, last: Layer): Readout {
  const spiking = isSpiking(last);
  const fallback = spiking ? 'count' : last.op === 'li' ? 'final' : undefined;
  if (!top.has('readout') && fallback === undefined) {
    const expected = 'expected a last lif, if, cubalif or li layer';
    top.fail('readout', `has no default after the ${last.op} layer "${last.name}" (${expected})`);
  }
  const readout = top.choice('readout', READOUTS, fallback ?? 'final');
  if (readout === 'count' && !spiking) {
    top.fail('readout', `"count" needs a last lif, if or cubalif layer, but "${last.name}" is ${last.op}`);
  }
  if (readout !== 'count' && last.op !== 'li') {
    top.fail('readout', `"${readout}" needs a last li layer, but "${last.name}" is ${last.op}`);
  }
  return readout;
}
