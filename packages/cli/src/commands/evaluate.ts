import {
  AGGREGATES,
  InputError,
  METHOD_NAMES,
  METRIC_NAMES,
  SURROGATES,
  UsageError,
  checkEvaluate,
  parseJson,
  readNpy,
  summarizeEvaluation,
  writeNpy,
  type Aggregate,
  type EvaluateOptions,
  type EvaluationRow,
  type MetricName,
  type Model,
} from '@spikelens/sam';
import { NpyWriter, SecondCore, checkOutputDir, ensureDir, loadDataset, writeFilesAtomic, type DatasetName } from '@spikelens/sam/node';
import { closeSync, existsSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { COMMON, choice, int, list, parse, str } from '../args.js';
import { chartPng, curveChart } from '../charts.js';
import type { Io } from '../io.js';
import { isNir, loadModel } from '../load.js';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { Progress } from '../progress.js';
import { chunkOf, evaluateOnCores } from '../chunks.js';

export const EVALUATE_HELP = `Usage: spikelens evaluate MODEL --dataset D --methods M1,M2 --metrics K1,K2 [--layer L] --out DIR [options]
       spikelens evaluate --merge DIR1 DIR2 ... --out DIR

Measures explanations (docs/metrics.md): for every test image and method, the maps aggregated over time and
resized to the image, then each metric. Streams the images in chunks; a killed run started again with the same
options resumes from the results it had written.

  --dataset D           mnist, fashion-mnist, cluttered-mnist or two-digit (the test split)
  --methods M1,M2       ${METHOD_NAMES.join(', ')}
  --metrics K1,K2       ${METRIC_NAMES.join(', ')} (pointing and energy need boxes: cluttered-mnist, two-digit)
  --layer L             the layer sam and gradcam explain (and random, when given)
  --images N            the first N test images (default 100)
  --shard K/N           only the K-th of N equal slices of those images (a Slurm array or Kubernetes indexed Job
                        runs the slices; --merge puts them together); default 1/1
  --aggregate A         sum (default) or last: how steps become one map
  --step S              pixels a deletion or insertion step changes (default: the image's width)
  --substrate S         what insertion starts from: blur (default) or zero
  --tolerance P         the pointing game's tolerance in pixels (default 0)
  --draws N             max-sensitivity's noise draws (default 10)
  --surrogate S         ${SURROGATES.join(', ')} (default atan)
  --seed S              encoder and noise seed (default 0; a generated data set's seed too)
  --batch B             images per chunk (default 16; results do not depend on it)
  --threads N           1 or 2 (default 2): each chunk split over both cores (same results)
  --force               start again in a folder that holds another evaluation
  --merge DIR...        merge finished shards into --out
  --json                print the summary as JSON
  -q, --quiet           no progress bar
  -h, --help            this help

Writes DIR/rows.jsonl (per image and method, with the deletion and insertion curves), DIR/images.csv, DIR/summary.json
(means and 95 % intervals), DIR/images.npy (the pixel values measured, float32 [N,C,H,W]), DIR/maps.M.npy (the
aggregated, resized maps, float32 [N,H,W]), DIR/ranks.M.npy (the pixel order used, int32 [N,H*W]), DIR/run.json and
the charts DIR/deletion.png, insertion.png, randomisation.png.

${NIR_HELP}`;

/** What identifies an evaluation: the same settings resume it, any other is another evaluation. */
interface RunConfig {
  readonly schema: 'spikelens.evaluate/1';
  readonly model: string;
  readonly modelBytes: number;
  readonly dataset: DatasetName;
  readonly images: number;
  readonly shard: readonly [number, number];
  /** The slice [first, end) of image indices this run measures. */
  readonly first: number;
  readonly end: number;
  readonly options: EvaluateOptions;
  readonly batch: number;
}

const ROWS = 'rows.jsonl';

export async function evaluateCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    dataset: { type: 'string' },
    methods: { type: 'string' },
    metrics: { type: 'string' },
    layer: { type: 'string', short: 'l' },
    images: { type: 'string' },
    shard: { type: 'string' },
    aggregate: { type: 'string' },
    step: { type: 'string' },
    substrate: { type: 'string' },
    tolerance: { type: 'string' },
    draws: { type: 'string' },
    surrogate: { type: 'string' },
    seed: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    batch: { type: 'string' },
    threads: { type: 'string' },
    force: { type: 'boolean' },
    merge: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
  });
  if (values.help) {
    io.out(EVALUATE_HELP);
    return 0;
  }
  const outDir = str(values, 'out');
  if (!outDir) throw new UsageError('missing --out DIR');
  if (values.merge) return merge(io, positionals, outDir, !!values.json);

  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : 'one MODEL expected');
  const dataset = choice(values, 'dataset', ['mnist', 'fashion-mnist', 'cluttered-mnist', 'two-digit'] as const);
  if (!dataset) throw new UsageError('missing --dataset');
  const methods = list(values, 'methods');
  if (!methods) throw new UsageError('missing --methods M1,M2');
  for (const m of methods) if (!METHOD_NAMES.includes(m)) throw new UsageError(`--methods: unknown method "${m.slice(0, 40)}" (one of ${METHOD_NAMES.join(', ')})`);
  const metrics = list(values, 'metrics') as MetricName[] | undefined;
  if (!metrics) throw new UsageError('missing --metrics K1,K2');
  for (const k of metrics) if (!METRIC_NAMES.includes(k)) throw new UsageError(`--metrics: unknown metric "${k.slice(0, 40)}" (one of ${METRIC_NAMES.join(', ')})`);
  const images = int(values, 'images', 1, 10_000_000) ?? 100;
  const shardText = str(values, 'shard') ?? '1/1';
  const m = /^(\d+)\/(\d+)$/.exec(shardText);
  const shard: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || shard[1] < 1 || shard[0] < 1 || shard[0] > shard[1] || shard[1] > images)
    throw new UsageError(`--shard must be K/N with 1 <= K <= N <= the number of images, not "${shardText.slice(0, 40)}"`);
  const first = Math.floor(((shard[0] - 1) * images) / shard[1]);
  const end = Math.floor((shard[0] * images) / shard[1]);
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const options: EvaluateOptions = {
    methods, metrics, layer: str(values, 'layer'),
    aggregate: (choice(values, 'aggregate', AGGREGATES) ?? 'sum') as Aggregate,
    seed,
    timesteps: int(values, 'timesteps', 1, 100_000),
    surrogate: choice(values, 'surrogate', SURROGATES),
    step: int(values, 'step', 1, 1_000_000),
    substrate: choice(values, 'substrate', ['blur', 'zero'] as const),
    tolerance: int(values, 'tolerance', 0, 10_000),
    draws: int(values, 'draws', 1, 1000),
  };
  const batch = int(values, 'batch', 1, 10_000) ?? 16;
  const threads = int(values, 'threads', 1, 2) ?? 2;
  await checkOutputDir(outDir);

  const file = positionals[0];
  const model = await loadModel(file, nirOptions(values, isNir(file), options.timesteps), io.warn);
  const generated = dataset === 'cluttered-mnist' || dataset === 'two-digit';
  checkEvaluate(model, options, generated);
  const data = generated
    ? await loadDataset(dataset, 'test', { start: first, count: end - first, seed })
    : await loadDataset(dataset, 'test');
  const offset = generated ? first : 0;
  if (!generated && images > data.count) throw new UsageError(`--images ${images}: ${dataset}'s test set has ${data.count}`);
  const shape = [data.channels, data.height, data.width];
  if (model.input.shape.join(',') !== shape.join(','))
    throw new InputError(model.file, `takes inputs of [${model.input.shape.join(',')}], but ${dataset} images are [${shape.join(',')}]`);

  const config: RunConfig = {
    schema: 'spikelens.evaluate/1', model: model.name, modelBytes: statSync(file).size, dataset, images, shard, first, end,
    options: JSON.parse(JSON.stringify(options)), batch,
  };
  const done = await prepare(outDir, config, !!values.force);
  const [C, H, W] = model.input.shape;
  const count = end - first;
  const writers = {
    images: NpyWriter.create(join(outDir, 'images.npy'), 'f4', [count, C, H, W], true),
    maps: new Map(methods.map((x) => [x, NpyWriter.create(join(outDir, `maps.${x}.npy`), 'f4', [count, H, W], true)])),
    ranks: new Map(methods.map((x) => [x, NpyWriter.create(join(outDir, `ranks.${x}.npy`), 'i4', [count, H * W], true)])),
  };
  const second = threads === 2 ? SecondCore.start(model) : null;
  const bar = new Progress(io.stderr, 'evaluate', count, !values.quiet);
  const rowsFd = openSync(join(outDir, ROWS), 'a');
  let randomised: string[] = [];
  const start = performance.now();
  try {
    for (let a = first; a < end; a += batch) {
      const indices = Array.from({ length: Math.min(batch, end - a) }, (_, k) => a + k).filter((i) => !done.has(i));
      bar.update(a - first);
      if (indices.length === 0) continue;
      const x = chunkOf(data, indices, offset, C * H * W);
      const r = await evaluateOnCores(model, x, options, second);
      randomised = r.randomised;
      indices.forEach((i, k) => {
        writers.images.write((i - first) * C * H * W, x.pixels.subarray(k * C * H * W, (k + 1) * C * H * W));
        for (const method of methods) {
          writers.maps.get(method)!.write((i - first) * H * W, r.maps.get(method)!.subarray(k * H * W, (k + 1) * H * W));
          writers.ranks.get(method)!.write((i - first) * H * W, r.ranks.get(method)!.subarray(k * H * W, (k + 1) * H * W));
        }
      });
      // the rows last, one line each: a line present means its maps and ranks are on disk
      writeSync(rowsFd, r.rows.map((row) => JSON.stringify(row) + '\n').join(''));
    }
  } finally {
    closeSync(rowsFd);
    writers.images.close();
    for (const w of [...writers.maps.values(), ...writers.ranks.values()]) w.close();
    second?.close();
    bar.done();
  }
  const rows = readRows(join(outDir, ROWS));
  if (randomised.length === 0 && metrics.includes('randomisation')) randomised = randomisedLayers(model);
  const summary = await finish(outDir, config, rows, randomised, (performance.now() - start) / 1000);
  report(io, summary, !!values.json);
  return 0;
}

/** The weighted layers randomisation re-initialises, output first (as evaluateChunk names them). */
function randomisedLayers(model: Model): string[] {
  return model.layers.filter((l) => l.op === 'conv2d' || l.op === 'linear').map((l) => l.name).reverse();
}

/**
 * Gets DIR ready: a fresh folder gets run.json; a folder holding this evaluation unfinished resumes it (the image
 * indices already done are returned); one holding another evaluation, or this one finished, is refused without
 * --force.
 */
async function prepare(dir: string, config: RunConfig, force: boolean): Promise<Set<number>> {
  await ensureDir(dir);
  const runFile = join(dir, 'run.json');
  const same = existsSync(runFile) && sameConfig(readJson(runFile), config);
  if (existsSync(runFile) && !force) {
    const old = readJson(runFile) as { finished?: boolean };
    if (!same) throw new UsageError(`${dir} holds another evaluation (run.json differs): give --force to replace it, or another --out`);
    if (old.finished) throw new UsageError(`${dir} holds this evaluation finished: give --force to run it again`);
  }
  if (!same || force) {
    for (const f of [ROWS, 'summary.json', 'images.csv']) if (existsSync(join(dir, f))) truncateSync(join(dir, f));
    await writeFilesAtomic([{ path: runFile, data: JSON.stringify(config, null, 2) + '\n' }]);
    return new Set();
  }
  return new Set(readRows(join(dir, ROWS)).map((r) => r.index).filter((i, _, all) => all.filter((j) => j === i).length === config.options.methods.length));
}

function sameConfig(a: unknown, b: RunConfig): boolean {
  const { finished: _f, seconds: _s, ...rest } = a as Record<string, unknown>;
  return JSON.stringify(rest) === JSON.stringify(b);
}

function readJson(file: string): unknown {
  return parseJson(readFileSync(file, 'utf8'), file, 'the file');
}

/** The rows written so far; a last line cut short by a killed run is dropped (and the file cut back to whole lines). */
function readRows(file: string): EvaluationRow[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const whole = text.lastIndexOf('\n') + 1;
  if (whole < text.length) truncateSync(file, Buffer.byteLength(text.slice(0, whole)));
  return text.slice(0, whole).split('\n').filter((l) => l.length > 0).map((l) => parseJson(l, file, 'a row') as EvaluationRow);
}

/** The summary, CSV and charts of finished rows; run.json marked finished. */
async function finish(dir: string, config: RunConfig, rows: EvaluationRow[], randomised: string[], seconds: number) {
  const { methods, metrics } = config.options;
  const summary = {
    schema: 'spikelens.evaluation/1', model: config.model, dataset: config.dataset,
    options: config.options, ...summarizeEvaluation(rows, methods, metrics, randomised),
  };
  const files: { path: string; data: Uint8Array | string }[] = [
    { path: join(dir, 'summary.json'), data: JSON.stringify(summary, null, 2) + '\n' },
    { path: join(dir, 'images.csv'), data: csv(rows, metrics) },
    ...(await charts(dir, summary)),
    { path: join(dir, 'run.json'), data: JSON.stringify({ ...config, finished: true, seconds }, null, 2) + '\n' },
  ];
  await writeFilesAtomic(files);
  return summary;
}

async function charts(dir: string, summary: ReturnType<typeof summarizeEvaluation>): Promise<{ path: string; data: Uint8Array }[]> {
  const out: { path: string; data: Uint8Array }[] = [];
  for (const kind of ['deletion', 'insertion'] as const) {
    const curves = Object.fromEntries(Object.entries(summary.curves ?? {}).flatMap(([m, c]) => (c[kind] ? [[m, c[kind]!]] : [])));
    if (Object.keys(curves).length === 0) continue;
    const x = kind === 'deletion' ? 'pixels removed (highest ranked first)' : 'pixels inserted (highest ranked first)';
    out.push({ path: join(dir, `${kind}.png`), data: await chartPng(curveChart(`${kind[0].toUpperCase()}${kind.slice(1)}`, x, curves)) });
  }
  if (summary.randomisation) {
    const values = Object.entries(summary.randomisation.methods).flatMap(([method, steps]) =>
      steps.map((s, k) => ({ layers: k + 1, layer: summary.randomisation!.layers[k], rho: s.mean, method })),
    );
    out.push({
      path: join(dir, 'randomisation.png'),
      data: await chartPng({
        title: 'Parameter randomisation (cascading from the output)', width: 420, height: 260, data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'layers', type: 'ordinal', title: 'weighted layers re-initialised, output first' },
          y: { field: 'rho', type: 'quantitative', title: 'Spearman rank correlation with the original map', scale: { domain: [-1, 1] } },
          color: { field: 'method', type: 'nominal', title: 'method' },
        },
      }),
    });
  }
  return out;
}

function csv(rows: EvaluationRow[], metrics: readonly MetricName[]): string {
  const cols = ['index', 'method', 'label', 'prediction', 'target', ...metrics.filter((m) => m !== 'randomisation')];
  if (metrics.includes('energy') && rows.some((r) => r.energyOther !== undefined)) cols.push('energyOther');
  const steps = rows.find((r) => r.randomisation)?.randomisation?.length ?? 0;
  for (let s = 0; s < steps; s++) cols.push(`randomisation${s + 1}`);
  const sorted = [...rows].sort((a, b) => a.index - b.index || a.method.localeCompare(b.method));
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
  const lines = sorted.map((r) =>
    cols.map((c) => (c.startsWith('randomisation') ? cell(r.randomisation?.[Number(c.slice(13)) - 1]) : cell((r as unknown as Record<string, unknown>)[c]))).join(','),
  );
  return [cols.join(','), ...lines].join('\n') + '\n';
}

function report(io: Io, summary: { images: number; methods: Record<string, Record<string, { mean: number; ci95: number }>> }, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(summary));
    return;
  }
  io.out(`${summary.images} images`);
  for (const [method, metrics] of Object.entries(summary.methods))
    io.out(`  ${method}: ${Object.entries(metrics).map(([k, v]) => `${k} ${v.mean.toFixed(3)} ± ${v.ci95.toFixed(3)}`).join(', ')}`);
}

/** `--merge DIR...`: finished shards of one evaluation into one, with exactly one run's summary. */
async function merge(io: Io, dirs: string[], outDir: string, json: boolean): Promise<number> {
  if (dirs.length === 0) throw new UsageError('--merge needs the shard folders');
  const configs = dirs.map((d) => {
    const f = join(d, 'run.json');
    if (!existsSync(f)) throw new InputError(f, 'no such file: not an evaluate folder');
    return readJson(f) as RunConfig & { finished?: boolean };
  });
  const base = configs[0];
  for (const [i, c] of configs.entries()) {
    if (!c.finished) throw new InputError(join(dirs[i], 'run.json'), 'this shard is not finished: run it to the end first');
    const { shard: _a, first: _b, end: _c, finished: _d, seconds: _e, ...rest } = c as unknown as Record<string, unknown>;
    const { shard: _a2, first: _b2, end: _c2, finished: _d2, seconds: _e2, ...want } = base as unknown as Record<string, unknown>;
    if (JSON.stringify(rest) !== JSON.stringify(want)) throw new InputError(join(dirs[i], 'run.json'), 'is another evaluation than the first shard');
  }
  const order = configs.map((c, i) => ({ c, d: dirs[i] })).sort((a, b) => a.c.first - b.c.first);
  let at = 0;
  for (const { c, d } of order) {
    if (c.first !== at) throw new UsageError(`the shards do not cover images ${at} to ${c.first - 1} (next: ${d})`);
    at = c.end;
  }
  if (at !== base.images) throw new UsageError(`the shards end at image ${at} of ${base.images}`);
  await ensureDir(outDir);
  const rows = order.flatMap(({ d }) => readRows(join(d, ROWS)));
  const { methods } = base.options;
  const files: { path: string; data: Uint8Array | string }[] = [];
  const concat = (name: string, dtype: 'f4' | 'i4'): void => {
    const arrays = order.map(({ d }) => readNpy(new Uint8Array(readFileSync(join(d, name))), join(d, name)));
    const shape = [arrays.reduce((n, a) => n + a.shape[0], 0), ...arrays[0].shape.slice(1)];
    const data = dtype === 'f4' ? new Float32Array(shape.reduce((a, b) => a * b, 1)) : new Int32Array(shape.reduce((a, b) => a * b, 1));
    let o = 0;
    for (const a of arrays) {
      data.set(a.data as Float32Array & Int32Array, o);
      o += a.data.length;
    }
    files.push({ path: join(outDir, name), data: writeNpy(data, shape) });
  };
  concat('images.npy', 'f4');
  for (const m of methods) {
    concat(`maps.${m}.npy`, 'f4');
    concat(`ranks.${m}.npy`, 'i4');
  }
  files.push({ path: join(outDir, ROWS), data: rows.map((r) => JSON.stringify(r) + '\n').join('') });
  await writeFilesAtomic(files);
  const merged: RunConfig = { ...base, shard: [1, 1], first: 0, end: base.images };
  const randomised = (readJson(join(order[0].d, 'summary.json')) as { randomisation?: { layers: string[] } }).randomisation?.layers ?? [];
  const summary = await finish(outDir, merged, rows, randomised, configs.reduce((s, c) => s + ((c as { seconds?: number }).seconds ?? 0), 0));
  report(io, summary, json);
  return 0;
}
