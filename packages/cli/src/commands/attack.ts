import {
  ATTACK_METHODS,
  LIMITS,
  METHOD_NAMES,
  SURROGATES,
  UsageError,
  aggregateMaps,
  checkAttack,
  composeGrid,
  eachMapOverlay,
  explain,
  explainerOf,
  pixelsToRgba,
  resolveTimesteps,
  rgbaToRgb,
  writeNpy,
  type AttackMethod,
  type AttackOptions,
  type Explanation,
  type Model,
  type RgbaImage,
} from '@spikelens/sam';
import { Attacker, checkOutputDir, encodePng, loadDataset, withOutputDir } from '@spikelens/sam/node';
import { join } from 'node:path';
import { COMMON, choice, int, list, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel, openPng } from '../load.js';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { Progress } from '../progress.js';
import { labelFromName } from './explain.js';
import { aggregatedOverlay } from '../pictures.js';

export const ATTACK_HELP = `Usage: spikelens attack MODEL IMAGE... --method fgsm|pgd --eps E --out DIR [options]
       spikelens attack MODEL --dataset mnist|fashion-mnist|cluttered-mnist --method fgsm|pgd --eps E1,E2,.. [--limit N]

Crafts adversarial images through the network's surrogate gradients (docs/explain.md): FGSM, or PGD from a seeded
random start. eps is on the [0, 1] scale: pixels move by at most 255*eps. The result is rounded to whole 8-bit
pixels before it is evaluated or saved. The attack and the evaluation use the same encoder seed.

  --method M            fgsm or pgd (required)
  --eps E               the largest change of a pixel, 0..1; with --dataset a list (default 0,0.05,0.1,0.2,0.3)
  --steps N             pgd: steps (default 10)
  --step-size A         pgd: step on the [0, 1] scale (default eps/4)
  --no-random-start     pgd: start from the image itself
  --label K             the label of every image (the loss's target); without it NAME-LABEL-INDEX.png file names
                        give theirs, and otherwise the clean prediction is used
  --surrogate S         the spike's surrogate derivative: ${SURROGATES.join(', ')} (default atan)
  --seed S              encoder seed (default 0), used by the attack and the evaluation
  --timesteps T         number of steps (default: the model's)
  --explain M1,M2       images: also explain clean and adversarial images (${METHOD_NAMES.join(', ')}), side by side
  --layer L             the layer those methods explain
  --out DIR             images: output folder (created if missing)
  --dataset D           accuracy under attack on a test set (mnist, fashion-mnist or cluttered-mnist), streamed in chunks
  --limit N             the first N test images (default all)
  --batch B             images per chunk (default 100; results do not depend on it)
  --threads N           1 or 2 (default 2): the chunk split over both cores (same results)
  --json                print the result as JSON
  -q, --quiet           no progress bar
  -h, --help            this help

For each image NAME it writes DIR/NAME/adversarial.png and .npy (pixel values, float32 [1,C,H,W]), with --explain
DIR/NAME/explain.grid.png and the raw maps DIR/NAME/L.M.clean.npy and L.M.adversarial.npy; and DIR/summary.json
with the clean and adversarial prediction and probability and the L-infinity distance applied, for each image.

${NIR_HELP}`;

export async function attackCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    method: { type: 'string', short: 'm' },
    eps: { type: 'string' },
    steps: { type: 'string' },
    'step-size': { type: 'string' },
    'random-start': { type: 'boolean' },
    label: { type: 'string' },
    surrogate: { type: 'string' },
    seed: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    explain: { type: 'string' },
    layer: { type: 'string', short: 'l' },
    out: { type: 'string', short: 'o' },
    dataset: { type: 'string' },
    limit: { type: 'string' },
    batch: { type: 'string' },
    threads: { type: 'string' },
  });
  if (values.help) {
    io.out(ATTACK_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing MODEL');
  const method = choice(values, 'method', ATTACK_METHODS) as AttackMethod | undefined;
  if (!method) throw new UsageError('missing --method fgsm|pgd');
  const dataset = choice(values, 'dataset', ['mnist', 'fashion-mnist', 'cluttered-mnist'] as const);
  const epsText = str(values, 'eps') ?? (dataset ? '0,0.05,0.1,0.2,0.3' : undefined);
  if (epsText === undefined) throw new UsageError('missing --eps E');
  const epsList = epsText.split(',').map((e) => {
    const v = Number(e);
    if (e.trim() === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new UsageError(`--eps must be numbers from 0 to 1, not "${e.slice(0, 40)}"`);
    return v;
  });
  if (!dataset && epsList.length !== 1) throw new UsageError('--eps takes one value for images (a list with --dataset)');
  const steps = int(values, 'steps', 1, 10_000);
  const stepSize = num(values, 'step-size', (n) => n > 0 && n <= 1, 'a number in (0, 1]');
  if (method === 'fgsm' && (steps !== undefined || stepSize !== undefined || values['random-start'] !== undefined))
    throw new UsageError('--steps, --step-size and --random-start apply to pgd');
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const surrogate = choice(values, 'surrogate', SURROGATES);
  const threads = int(values, 'threads', 1, 2) ?? 2;
  const options = (eps: number, labels?: number[], keyOffset = 0): AttackOptions => ({
    method, eps, steps, stepSize, randomStart: values['random-start'] as boolean | undefined, seed, timesteps, surrogate, labels, keyOffset,
  });
  for (const eps of epsList) checkAttack(options(eps));

  const [modelFile, ...images] = positionals;
  if (dataset) {
    if (images.length) throw new UsageError('give IMAGE files or --dataset, not both');
    for (const flag of ['explain', 'layer', 'out', 'label'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} applies to images, not --dataset`);
    const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.warn);
    return robustness(io, model, dataset, epsList, options, {
      limit: int(values, 'limit', 1, 10_000_000), batch: int(values, 'batch', 1, 10_000) ?? 100, threads, json: !!values.json, quiet: !!values.quiet,
    });
  }
  for (const flag of ['limit', 'batch'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} applies to --dataset`);
  if (images.length === 0) throw new UsageError('missing IMAGE (or --dataset D)');
  const outDir = str(values, 'out');
  if (!outDir) throw new UsageError('missing --out DIR');
  const methods = list(values, 'explain') ?? [];
  for (const m of methods) explainerOf(m);
  const layer = str(values, 'layer');
  if (methods.some((m) => explainerOf(m).needsLayer) && !layer) throw new UsageError('--explain needs --layer L');
  await checkOutputDir(outDir);
  const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.warn);
  const K = model.layers[model.layers.length - 1].outShape.reduce((a, b) => a * b, 1);
  const labelArg = int(values, 'label', 0, K - 1);
  const T = resolveTimesteps(model, { kind: 'pixels', file: images[0] }, timesteps);
  const probe = { kind: 'pixels' as const, data: new Float32Array(0) };
  const explainOpts = { seed, timesteps, surrogate };
  for (const m of methods) explainerOf(m).check(model, probe, { ...explainOpts, layer: explainerOf(m).needsLayer || m === 'random' ? layer : undefined });

  const attacker = await Attacker.create(model, 1);
  try {
    const summary = await withOutputDir(outDir, async (out) => {
      const rows: Array<Record<string, unknown>> = [];
      for (const [i, file] of images.entries()) {
        const source = await openPng(file, model);
        const clean = source.read(0, 1);
        if (clean.kind !== 'pixels') throw new UsageError(`${file}: attacks need pixel input`);
        const label = labelArg ?? labelFromName(file, model, K);
        const r = await attacker.attack(clean.data, 1, options(epsList[0], label === null ? undefined : [label]));
        const stem = stemOf(file, i, images);
        const [C, H, W] = model.input.shape;
        out.writeSync(join(stem, 'adversarial.npy'), writeNpy(r.adversarial, [1, C, H, W]));
        out.writeSync(join(stem, 'adversarial.png'), encodePng(W, H, pixelsToRgba(r.adversarial, C as 1 | 3, H, W)));
        const name = (c: number): string => model.input.labels?.[c] ?? String(c);
        if (methods.length) {
          const tiles: RgbaImage[] = [];
          const captions: string[] = [];
          const row = async (pixels: Float32Array, which: 'clean' | 'adversarial'): Promise<void> => {
            tiles.push({ width: W, height: H, rgba: pixelsToRgba(pixels, C as 1 | 3, H, W) });
            captions.push(which === 'clean' ? 'clean' : 'attacked');
            for (const m of methods) {
              const e = await explain(m, model, { kind: 'pixels', data: pixels }, 1, {
                ...explainOpts, layer: explainerOf(m).needsLayer || m === 'random' ? layer : undefined, target: r.labels[0],
              });
              out.writeSync(join(stem, `${e.layer}.${m}.${which}.npy`), writeNpy(e.maps, [e.T, 1, e.H, e.W]));
              tiles.push(aggregatedOverlay(e, pixels, C, H, W));
              captions.push(m);
            }
          };
          await row(clean.data, 'clean');
          await row(r.adversarial, 'adversarial');
          const title = `${method} eps ${epsList[0]}: ${name(r.clean.predictions[0])} -> ${name(r.attacked.predictions[0])}`;
          const grid = composeGrid(tiles, { columns: 1 + methods.length, labels: captions, title, legend: 'jet' });
          out.writeSync(join(stem, 'explain.grid.png'), encodePng(grid.width, grid.height, grid.rgba));
        }
        const row = {
          image: file, label,
          clean: { prediction: r.clean.predictions[0], probability: r.clean.probabilities[0] },
          adversarial: { prediction: r.attacked.predictions[0], probability: r.attacked.probabilities[0] },
          linf: r.linf[0] / 255, linfPixels: r.linf[0],
        };
        rows.push(row);
        if (!values.json)
          io.out(`${file}: ${name(r.clean.predictions[0])} (p ${r.clean.probabilities[0].toFixed(3)}) -> ${name(r.attacked.predictions[0])} (p ${r.attacked.probabilities[0].toFixed(3)}), L-inf ${r.linf[0]} pixels`);
      }
      const summary = {
        schema: 'spikelens.attack/1', model: model.name, method, eps: epsList[0], steps: method === 'pgd' ? steps ?? 10 : 1,
        stepSize: method === 'pgd' ? stepSize ?? epsList[0] / 4 : epsList[0], randomStart: method === 'pgd' ? values['random-start'] ?? true : false,
        seed, timesteps: T, surrogate: surrogate ?? 'atan', images: rows,
      };
      await out.write('summary.json', JSON.stringify(summary, null, 2) + '\n');
      return summary;
    });
    if (values.json) io.out(JSON.stringify(summary));
    return 0;
  } finally {
    attacker.close();
  }
}

/** A file's stem, made unique among the images given. */
function stemOf(file: string, i: number, files: readonly string[]): string {
  const stem = (f: string): string => f.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '') || 'image';
  const same = files.slice(0, i).filter((f) => stem(f) === stem(file)).length;
  return same ? `${stem(file)}-${same + 1}` : stem(file);
}

/** Accuracy under attack for every eps, over a test set in chunks on both cores. */
async function robustness(
  io: Io, model: Model, dataset: 'mnist' | 'fashion-mnist' | 'cluttered-mnist', epsList: number[],
  options: (eps: number, labels?: number[], keyOffset?: number) => AttackOptions,
  o: { limit?: number; batch: number; threads: number; json: boolean; quiet: boolean },
): Promise<number> {
  const test = await loadDataset(dataset, 'test');
  const n = test.height * test.width * test.channels;
  const shape = [test.channels, test.height, test.width];
  if (model.input.shape.join(',') !== shape.join(','))
    throw new UsageError(`${model.file}: takes inputs of [${model.input.shape.join(',')}], but ${dataset} images are [${shape.join(',')}]`);
  const total = Math.min(o.limit ?? test.count, test.count);
  const attacker = await Attacker.create(model, o.threads);
  const bar = new Progress(io.stderr, 'attack', total * epsList.length, !o.quiet);
  const correct = new Array(epsList.length).fill(0);
  const start = performance.now();
  try {
    for (let b0 = 0; b0 < total; b0 += o.batch) {
      const count = Math.min(o.batch, total - b0);
      const pixels = Float32Array.from(test.pixels.subarray(b0 * n, (b0 + count) * n));
      const labels = Array.from(test.labels.subarray(b0, b0 + count));
      for (const [k, eps] of epsList.entries()) {
        const r = await attacker.attack(pixels, count, options(eps, labels, b0));
        for (let b = 0; b < count; b++) if (r.attacked.predictions[b] === labels[b]) correct[k]++;
        bar.update(b0 * epsList.length + (k + 1) * count);
      }
    }
  } finally {
    attacker.close();
    bar.done();
  }
  const seconds = (performance.now() - start) / 1000;
  const first = options(0);
  const result = {
    schema: 'spikelens.robustness/1', model: model.name, dataset, images: total, method: first.method,
    steps: first.method === 'pgd' ? first.steps ?? 10 : 1, seed: first.seed ?? 0,
    accuracy: epsList.map((eps, k) => ({ eps, accuracy: correct[k] / total })), seconds,
  };
  if (o.json) io.out(JSON.stringify(result));
  else {
    io.out(`${model.name} on ${dataset} (${total} images), ${first.method}${first.method === 'pgd' ? `-${result.steps}` : ''}:`);
    for (const a of result.accuracy) io.out(`  eps ${a.eps}: accuracy ${(100 * a.accuracy).toFixed(2)} %`);
  }
  return 0;
}
