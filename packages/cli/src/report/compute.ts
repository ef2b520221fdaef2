/**
 * The measurements of `spikelens report` (docs/report.md): each section a function of the bundled models and a
 * number of test images, cached as JSON so that an interrupted report resumes where it stopped.
 */
import {
  explain,
  imageMaps,
  mapShift,
  meanCI,
  parseModel,
  summarizeEvaluation,
  type EvaluationRow,
  type EvaluationSummary,
  type MeanCI,
  type MetricName,
  type Model,
} from '@spikelens/sam';
import { Attacker, SecondCore, loadDataset, readBytes } from '@spikelens/sam/node';
import { join } from 'node:path';
import { chunkOf, evaluateOnCores } from '../chunks.js';

/** A bundled model the report measures, and what it is measured on and with. */
export interface ReportModel {
  readonly name: string;
  readonly dataset: 'mnist' | 'fashion-mnist' | 'cluttered-mnist';
  /** The conv layer explained (the second spiking layer, or the ANN's second ReLU). */
  readonly layer: string;
  readonly snn: boolean;
}

export const MODELS: readonly ReportModel[] = [
  { name: 'mnist-lif-bptt', dataset: 'mnist', layer: 'lif2', snn: true },
  { name: 'mnist-if-bptt', dataset: 'mnist', layer: 'if2', snn: true },
  { name: 'mnist-if-convert', dataset: 'mnist', layer: 'if2', snn: true },
  { name: 'fashion-lif-bptt', dataset: 'fashion-mnist', layer: 'lif2', snn: true },
  { name: 'mnist-ann', dataset: 'mnist', layer: 'relu2', snn: false },
];
export const CLUTTERED: ReportModel = { name: 'cluttered-lif-bptt', dataset: 'cluttered-mnist', layer: 'lif2', snn: true };

export const SNN_METHODS = ['sam', 'gradcam', 'saliency', 'input', 'random'];
export const ANN_METHODS = ['gradcam', 'saliency', 'input', 'random'];
export const EPS = [0, 0.05, 0.1, 0.2, 0.3];

export interface ReportSettings {
  readonly images: number;
  readonly attackImages: number;
  readonly seed: number;
  readonly pgdSteps: number;
  readonly batch: number;
}

export async function loadBundled(models: string, name: string): Promise<Model> {
  const file = join(models, `${name}.safetensors`);
  return parseModel(await readBytes(file), file);
}

export interface FaithfulnessResult {
  readonly model: string;
  readonly dataset: string;
  readonly layer: string;
  readonly summary: EvaluationSummary;
}

/** Deletion, insertion and randomisation of every method on the first `images` test images of the model's set. */
export async function faithfulness(models: string, m: ReportModel, s: ReportSettings, tick: (n: number) => void): Promise<FaithfulnessResult> {
  const model = await loadBundled(models, m.name);
  const methods = m.snn ? SNN_METHODS : ANN_METHODS;
  const metrics: MetricName[] = ['deletion', 'insertion', 'randomisation'];
  const rows = await rowsOf(model, m.dataset, methods, metrics, m.layer, s, s.images, tick);
  const randomised = model.layers.filter((l) => l.op === 'conv2d' || l.op === 'linear').map((l) => l.name).reverse();
  return { model: m.name, dataset: m.dataset, layer: m.layer, summary: summarizeEvaluation(rows, methods, metrics, randomised) };
}

async function rowsOf(
  model: Model, dataset: string, methods: string[], metrics: MetricName[], layer: string, s: ReportSettings, count: number,
  tick: (n: number) => void,
): Promise<EvaluationRow[]> {
  const generated = dataset === 'cluttered-mnist' || dataset === 'two-digit';
  const data = generated
    ? await loadDataset(dataset as 'cluttered-mnist' | 'two-digit', 'test', { start: 0, count, seed: s.seed })
    : await loadDataset(dataset as 'mnist' | 'fashion-mnist', 'test');
  const [C, H, W] = model.input.shape;
  const second = SecondCore.start(model);
  const rows: EvaluationRow[] = [];
  try {
    for (let a = 0; a < count; a += s.batch) {
      const indices = Array.from({ length: Math.min(s.batch, count - a) }, (_, k) => a + k);
      const r = await evaluateOnCores(model, chunkOf(data, indices, 0, C * H * W), { methods, metrics, layer, seed: s.seed }, second);
      rows.push(...r.rows);
      tick(indices.length);
    }
  } finally {
    second.close();
  }
  return rows;
}

export interface LocalisationResult {
  readonly model: string;
  /** Cluttered MNIST: pointing and energy in the digit's box, per method. */
  readonly cluttered: EvaluationSummary;
  /** Two digits: the share of each map on the predicted digit's box and on the other's, per method. */
  readonly twoDigit: EvaluationSummary;
}

export async function localisation(models: string, s: ReportSettings, tick: (n: number) => void): Promise<LocalisationResult> {
  const model = await loadBundled(models, CLUTTERED.name);
  const metrics: MetricName[] = ['pointing', 'energy'];
  const cluttered = summarizeEvaluation(await rowsOf(model, 'cluttered-mnist', SNN_METHODS, metrics, CLUTTERED.layer, s, s.images, tick), SNN_METHODS, metrics, []);
  const twoDigit = summarizeEvaluation(await rowsOf(model, 'two-digit', SNN_METHODS, ['energy'], CLUTTERED.layer, s, s.images, tick), SNN_METHODS, ['energy'], []);
  return { model: CLUTTERED.name, cluttered, twoDigit };
}

export interface AttackCurve {
  readonly model: string;
  readonly method: 'fgsm' | 'pgd';
  /** Accuracy at each eps of EPS. */
  readonly accuracy: number[];
}

export interface ShiftCurve {
  /** e.g. "SAM (mnist-lif-bptt)". */
  readonly name: string;
  /** At each eps: mean shift and mean rank correlation of the maps of clean and PGD images, with 95 % intervals. */
  readonly shift: MeanCI[];
  readonly rank: MeanCI[];
}

export interface AdversarialResult {
  readonly curves: AttackCurve[];
  readonly shifts: ShiftCurve[];
}

/**
 * Accuracy under FGSM and PGD for every model, and the shift of SAM (SNN), Grad-CAM (SNN) and Grad-CAM (ANN) maps
 * between clean and PGD images, on the first `attackImages` test images; every loss against the label.
 */
export async function adversarial(models: string, s: ReportSettings, tick: (n: number) => void): Promise<AdversarialResult> {
  const curves: AttackCurve[] = [];
  const shifts: ShiftCurve[] = [];
  const n = s.attackImages;
  for (const m of MODELS) {
    const model = await loadBundled(models, m.name);
    const data = await loadDataset(m.dataset as 'mnist' | 'fashion-mnist', 'test');
    const [C, H, W] = model.input.shape;
    const size = C * H * W;
    const pixels = Float32Array.from(data.pixels.subarray(0, n * size));
    const labels = Array.from(data.labels.subarray(0, n));
    const attacker = await Attacker.create(model, 2);
    const explained = m.name === 'mnist-lif-bptt' ? ['sam', 'gradcam'] : m.name === 'mnist-ann' ? ['gradcam'] : [];
    const clean = new Map<string, Float32Array>();
    for (const method of explained)
      clean.set(method, imageMaps(await explain(method, model, { kind: 'pixels', data: pixels }, n, { layer: m.layer, target: 'label', labels, seed: s.seed }), H, W));
    const per = new Map(explained.map((x) => [x, { shift: [] as MeanCI[], rank: [] as MeanCI[] }]));
    try {
      for (const method of ['fgsm', 'pgd'] as const) {
        const accuracy: number[] = [];
        for (const eps of EPS) {
          let correct = 0;
          let adv: Float32Array | null = null;
          for (let a = 0; a < n; a += s.batch) {
            const b = Math.min(s.batch, n - a);
            const r = await attacker.attack(pixels.subarray(a * size, (a + b) * size), b, {
              method, eps, steps: s.pgdSteps, seed: s.seed, labels: labels.slice(a, a + b), keyOffset: a,
            });
            r.attacked.predictions.forEach((p, k) => (correct += p === labels[a + k] ? 1 : 0));
            if (method === 'pgd') (adv ??= new Float32Array(n * size)).set(r.adversarial, a * size);
            tick(b);
          }
          accuracy.push(correct / n);
          if (method !== 'pgd' || !adv) continue;
          for (const x of explained) {
            const e = await explain(x, model, { kind: 'pixels', data: adv }, n, { layer: m.layer, target: 'label', labels, seed: s.seed });
            const maps = imageMaps(e, H, W);
            const base = clean.get(x)!;
            const parts = Array.from({ length: n }, (_, b) => mapShift(base.subarray(b * H * W, (b + 1) * H * W), maps.subarray(b * H * W, (b + 1) * H * W)));
            per.get(x)!.shift.push(meanCI(parts.map((p) => p.shift)));
            per.get(x)!.rank.push(meanCI(parts.map((p) => p.rank)));
          }
        }
        curves.push({ model: m.name, method, accuracy });
      }
    } finally {
      attacker.close();
    }
    for (const [x, v] of per) shifts.push({ name: `${x === 'sam' ? 'SAM' : 'Grad-CAM'} (${m.snn ? 'SNN' : 'ANN'}, ${m.name})`, ...v });
  }
  return { curves, shifts };
}

/** How much work each section is, for the progress bar. */
export function workOf(s: ReportSettings): Record<string, number> {
  return {
    faithfulness: MODELS.length * s.images,
    localisation: 2 * s.images,
    adversarial: MODELS.length * 2 * EPS.length * s.attackImages,
  };
}

