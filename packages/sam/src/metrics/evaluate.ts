import { UsageError } from '../errors.js';
import { explain, explainerOf } from '../explain/index.js';
import type { Aggregate } from '../explain/aggregate.js';
import type { Surrogate } from '../diff/network.js';
import type { Model } from '../model.js';
import { energyInBox, pointingHit, type Box } from './boxes.js';
import { perturbationCurves } from './curves.js';
import { imageMaps } from './maps.js';
import { parameterRandomisation } from './randomisation.js';
import { rankPixels } from './rank.js';
import { maxSensitivity } from './sensitivity.js';
import { meanCI, type MeanCI } from './stats.js';

export type MetricName = 'deletion' | 'insertion' | 'pointing' | 'energy' | 'sensitivity' | 'randomisation';
export const METRIC_NAMES: readonly MetricName[] = ['deletion', 'insertion', 'pointing', 'energy', 'sensitivity', 'randomisation'];
/** Metrics that need a box per image (cluttered-mnist, two-digit). */
export const BOX_METRICS: readonly MetricName[] = ['pointing', 'energy'];

export interface EvaluateOptions {
  readonly methods: readonly string[];
  readonly metrics: readonly MetricName[];
  /** The layer explained by layer methods (sam, gradcam; random when given). */
  readonly layer?: string;
  readonly aggregate?: Aggregate;
  readonly seed?: number;
  readonly timesteps?: number;
  readonly surrogate?: Surrogate;
  /** Pixels a deletion/insertion step changes (default: the width), the insertion substrate (default blur). */
  readonly step?: number;
  readonly substrate?: 'zero' | 'blur';
  /** Pointing game tolerance in pixels (default 0). */
  readonly tolerance?: number;
  /** Max-sensitivity draws (default 10). */
  readonly draws?: number;
}

/** The images of one chunk: pixel values, their indices in the data set (their keys), labels and boxes. */
export interface EvaluateImages {
  readonly pixels: Float32Array;
  readonly indices: readonly number[];
  readonly labels: readonly number[];
  /** Per image, its boxes with their classes (cluttered-mnist: the digit; two-digit: both digits). */
  readonly boxes?: ReadonlyArray<ReadonlyArray<{ readonly box: Box; readonly label: number }>>;
}

/** One image's results for one method (docs/metrics.md); a metric not asked for is absent, an undefined value null. */
export interface EvaluationRow {
  readonly index: number;
  readonly method: string;
  readonly label: number;
  readonly prediction: number;
  readonly target: number;
  deletion?: number;
  insertion?: number;
  pointing?: number | null;
  energy?: number | null;
  /** two-digit: the share of the map on the other digit's box. */
  energyOther?: number | null;
  sensitivity?: number | null;
  randomisation?: Array<number | null>;
  /** p_c after k deletion or insertion steps, k = 0..n. */
  deletionCurve?: number[];
  insertionCurve?: number[];
}

export interface ChunkResult {
  readonly rows: EvaluationRow[];
  /** Per method: the image-level maps `[B, H, W]`, the pixel ranks `[B, H*W]`, and the curves when asked for. */
  readonly maps: Map<string, Float32Array>;
  readonly ranks: Map<string, Int32Array>;
  /** The layers randomisation re-initialised, output first. */
  readonly randomised: string[];
}

/** Refuses what cannot be measured, before any work (a UsageError naming the option). */
export function checkEvaluate(model: Model, o: EvaluateOptions, hasBoxes: boolean): void {
  if (o.methods.length === 0) throw new UsageError('--methods needs at least one method');
  if (o.metrics.length === 0) throw new UsageError('--metrics needs at least one metric');
  for (const m of o.metrics) if (!METRIC_NAMES.includes(m)) throw new UsageError(`unknown metric "${String(m).slice(0, 40)}" (one of ${METRIC_NAMES.join(', ')})`);
  const box = o.metrics.find((m) => BOX_METRICS.includes(m));
  if (box && !hasBoxes) throw new UsageError(`${box} needs boxes: use --dataset cluttered-mnist or two-digit`);
  const probe = { kind: 'pixels' as const, data: new Float32Array(0) };
  for (const method of o.methods) {
    const e = explainerOf(method);
    e.check(model, probe, { layer: layerFor(method, o.layer) });
  }
  if (model.input.shape.length !== 3) throw new UsageError(`the metrics need an image model; this one takes [${model.input.shape.join(',')}]`);
}

/** The layer a method explains under these options. */
function layerFor(method: string, layer: string | undefined): string | undefined {
  return explainerOf(method).needsLayer || method === 'random' ? layer : undefined;
}

/**
 * Every asked metric of every method for one chunk of images (docs/metrics.md). Each image keeps its own key (its
 * index in the data set), so a chunk's rows are those of the same images in any other chunking, and a set split in
 * shards gives the rows of one run.
 */
export async function evaluateChunk(model: Model, x: EvaluateImages, o: EvaluateOptions): Promise<ChunkResult> {
  const [, H, W] = model.input.shape;
  const HW = H * W;
  const B = x.indices.length;
  const keys = x.indices;
  const rows: EvaluationRow[] = [];
  const maps = new Map<string, Float32Array>();
  const ranks = new Map<string, Int32Array>();
  let randomised: string[] = [];
  const common = { seed: o.seed, timesteps: o.timesteps, surrogate: o.surrogate, keys };
  for (const method of o.methods) {
    const layer = layerFor(method, o.layer);
    const e = await explain(method, model, { kind: 'pixels', data: x.pixels }, B, { ...common, layer, target: 'pred' });
    const m = imageMaps(e, H, W, o.aggregate);
    const r = new Int32Array(B * HW);
    for (let b = 0; b < B; b++) r.set(rankPixels(m.subarray(b * HW, (b + 1) * HW)), b * HW);
    maps.set(method, m);
    ranks.set(method, r);
    const part = Array.from({ length: B }, (_, b): EvaluationRow => ({
      index: x.indices[b], method, label: x.labels[b], prediction: e.predictions[b], target: e.targets[b],
    }));
    for (const kind of ['deletion', 'insertion'] as const) {
      if (!o.metrics.includes(kind)) continue;
      const cv = await perturbationCurves(kind, model, x.pixels, B, m, {
        step: o.step, substrate: kind === 'insertion' ? o.substrate : undefined, classes: e.predictions, ...common,
      });
      part.forEach((row, b) => {
        row[kind] = cv.auc[b];
        row[kind === 'deletion' ? 'deletionCurve' : 'insertionCurve'] = cv.curves[b];
      });
    }
    if (x.boxes && (o.metrics.includes('pointing') || o.metrics.includes('energy'))) {
      for (let b = 0; b < B; b++) {
        const boxes = x.boxes[b];
        const map = m.subarray(b * HW, (b + 1) * HW);
        // cluttered: the digit's box; two-digit: the predicted digit's box, against the other's
        const main = boxes.length === 1 ? boxes[0] : boxes.find((bx) => bx.label === e.predictions[b]);
        const other = boxes.length === 2 ? boxes.find((bx) => bx !== main) : undefined;
        const usable = (bx: { box: Box } | undefined): bx is { box: Box; label: number } => !!bx && bx.box[0] >= 0;
        if (o.metrics.includes('pointing')) part[b].pointing = usable(main) ? pointingHit(map, W, main.box, o.tolerance) : null;
        if (o.metrics.includes('energy')) {
          part[b].energy = usable(main) ? energyInBox(map, W, main.box) : null;
          if (boxes.length === 2) part[b].energyOther = usable(main) && usable(other) ? energyInBox(map, W, other.box) : null;
        }
      }
    }
    if (o.metrics.includes('sensitivity')) {
      const s = await maxSensitivity(method, model, x.pixels, B, m, { ...common, layer, draws: o.draws, aggregate: o.aggregate, classes: e.targets });
      part.forEach((row, b) => (row.sensitivity = s[b]));
    }
    if (o.metrics.includes('randomisation')) {
      const rr = await parameterRandomisation(method, model, x.pixels, B, m, e.targets, { ...common, layer, aggregate: o.aggregate });
      randomised = rr.layers;
      part.forEach((row, b) => (row.randomisation = rr.correlations.map((step) => step[b])));
    }
    rows.push(...part);
  }
  return { rows, maps, ranks, randomised };
}

export interface EvaluationSummary {
  readonly images: number;
  /** Per method, per metric: the mean over images with its 95 % interval (metrics with one number per image). */
  readonly methods: Record<string, Record<string, MeanCI>>;
  /** Per method, after each randomised layer (output first): the mean rank correlation. */
  readonly randomisation?: { readonly layers: string[]; readonly methods: Record<string, MeanCI[]> };
  /** Per method, the mean deletion and insertion curves (p_c after k steps). */
  readonly curves?: Record<string, { deletion?: number[]; insertion?: number[] }>;
}

/**
 * The summary of per-image rows, in any order: they are sorted by image and method first, so shards merged give the
 * bits of one run.
 */
export function summarizeEvaluation(
  rows: readonly EvaluationRow[],
  methods: readonly string[],
  metrics: readonly MetricName[],
  randomised: readonly string[],
): EvaluationSummary {
  const sorted = [...rows].sort((a, b) => a.index - b.index || methods.indexOf(a.method) - methods.indexOf(b.method));
  const images = new Set(sorted.map((r) => r.index)).size;
  const scalar = ['deletion', 'insertion', 'pointing', 'energy', 'energyOther', 'sensitivity'] as const;
  const out: Record<string, Record<string, MeanCI>> = {};
  for (const method of methods) {
    const mine = sorted.filter((r) => r.method === method);
    const entry: Record<string, MeanCI> = {};
    for (const k of scalar) if (mine.some((r) => r[k] !== undefined)) entry[k] = meanCI(mine.map((r) => r[k] ?? null));
    entry.accuracy = meanCI(mine.map((r) => (r.prediction === r.label ? 1 : 0)));
    out[method] = entry;
  }
  const summary: { -readonly [K in keyof EvaluationSummary]: EvaluationSummary[K] } = { images, methods: out };
  if (metrics.includes('randomisation'))
    summary.randomisation = {
      layers: [...randomised],
      methods: Object.fromEntries(
        methods.map((method) => {
          const mine = sorted.filter((r) => r.method === method);
          return [method, randomised.map((_, s) => meanCI(mine.map((r) => r.randomisation?.[s] ?? null)))];
        }),
      ),
    };
  const mean = (cs: number[][]): number[] => cs[0].map((_, k) => cs.reduce((a, c) => a + c[k], 0) / cs.length);
  if (metrics.includes('deletion') || metrics.includes('insertion'))
    summary.curves = Object.fromEntries(
      methods.map((method) => {
        const mine = sorted.filter((r) => r.method === method);
        const del = mine.flatMap((r) => (r.deletionCurve ? [r.deletionCurve] : []));
        const ins = mine.flatMap((r) => (r.insertionCurve ? [r.insertionCurve] : []));
        return [method, { ...(del.length ? { deletion: mean(del) } : {}), ...(ins.length ? { insertion: mean(ins) } : {}) }];
      }),
    );
  return summary;
}
