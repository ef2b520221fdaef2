/**
 * Builds `Model`s from a graph JSON (docs/model-format.md) plus float32 tensors, always through the real file path
 * (modelToSafetensors, then parseModel), so a benchmark never runs a model that the library would refuse to load.
 * Also cuts a model into stages (each ending at a spiking layer) that are fed recorded spike trains: the workload
 * calibration and the per-layer profile both use them.
 */
import { isSpiking, modelToSafetensors, parseModel, type Network } from '@spikelens/sam';
import type { Model, SafetensorsInput, Shape } from '@spikelens/sam';

export interface GraphLayer {
  readonly name: string;
  readonly op: string;
  readonly [field: string]: unknown;
}

export interface Graph {
  readonly format: 'spikelens.model/1';
  readonly name: string;
  readonly input: {
    readonly shape: readonly number[];
    readonly preprocess?: { readonly scale: number; readonly mean: readonly number[]; readonly std: readonly number[] };
    readonly encoding?: { readonly kind: 'poisson' | 'signed-poisson' | 'direct'; readonly gain: number };
    readonly labels?: readonly string[];
  };
  readonly timesteps?: number;
  readonly readout?: 'final' | 'mean' | 'count';
  readonly layers: readonly GraphLayer[];
}

export interface F32Tensor extends SafetensorsInput {
  readonly dtype: 'F32';
  readonly data: Float32Array;
}

export function buildModel(graph: Graph, tensors: readonly F32Tensor[], file: string): Model {
  return parseModel(modelToSafetensors(graph, tensors), file);
}

/** Layers [from, to) of a model, fed by a spike train of shape `inShape` instead of the encoder. */
export interface Stage {
  readonly from: number;
  readonly to: number;
  /** Name of the layer whose output feeds the stage ('input' for the encoder). */
  readonly source: string;
  readonly inShape: Shape;
  /** The stage's last layer (a spiking layer, or the model's last). */
  readonly last: string;
}

/** Cuts after every spiking layer: each stage is "whatever runs between two spike trains". */
export function stagesOf(model: Model): Stage[] {
  const stages: Stage[] = [];
  let from = 0;
  let source = 'input';
  let inShape: Shape = model.input.shape;
  model.layers.forEach((layer, i) => {
    if (!isSpiking(layer) && i !== model.layers.length - 1) return;
    stages.push({ from, to: i + 1, source, inShape, last: layer.name });
    from = i + 1;
    source = layer.name;
    inShape = layer.outShape;
  });
  return stages;
}

/** The graph of one stage: no encoder (the input is a recorded train), readout by the stage's last layer. */
export function stageGraph(graph: Graph, stage: Stage): Graph {
  const layers = graph.layers.slice(stage.from, stage.to);
  const lastOp = layers[layers.length - 1].op;
  return {
    format: graph.format,
    name: `${graph.name}[${stage.from}:${stage.to}]`,
    input: { shape: [...stage.inShape] },
    readout: lastOp === 'li' ? 'final' : 'count',
    layers,
  };
}

/**
 * Runs `net` for T steps after its input is set and records the outputs of `names` ('input' allowed) at every step,
 * as uint8 trains [T, B, ...] (spikes are 0/1; docs/semantics.md §1), or int8 for signed input spikes. Used only off the clock.
 */
export function recordTrains(net: Network, names: readonly string[], T: number): Map<string, Uint8Array | Int8Array> {
  const trains = new Map<string, Uint8Array | Int8Array>();
  const sizes = names.map((n) => net.output(n).length);
  const signed = (n: string) => n === 'input' && net.inputIsSigned;
  names.forEach((n, i) => trains.set(n, signed(n) ? new Int8Array(T * sizes[i]) : new Uint8Array(T * sizes[i])));
  for (let t = 0; t < T; t++) {
    net.step();
    names.forEach((n, i) => {
      const out = net.output(n);
      const dst = trains.get(n)!;
      const lo = signed(n) ? -1 : 0;
      for (let j = 0; j < out.length; j++) {
        const v = out[j];
        if (v !== 0 && v !== 1 && v !== lo) throw new Error(`recordTrains: ${n} holds ${v} at step ${t}, not a spike`);
        dst[t * sizes[i] + j] = v;
      }
    });
  }
  return trains;
}
