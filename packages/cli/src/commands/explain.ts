import {
  AGGREGATES,
  COLORMAPS,
  LIMITS,
  METHOD_NAMES,
  NORMALIZE_MODES,
  SURROGATES,
  UsageError,
  aggregateMaps,
  eachMapOverlay,
  explain,
  fitPicture,
  fittedSize,
  explainerOf,
  formatBytes,
  mapGrid,
  resolveTimesteps,
  rgbaToRgb,
  writeNpy,
  type Aggregate,
  type ColormapName,
  type Explanation,
  type GradcamAlpha,
  type MapStyle,
  type Model,
  type NormalizeMode,
  type Target,
} from '@spikelens/sam';
import { checkOutputDir, encodePng, withOutputDir, type OutputDir } from '@spikelens/sam/node';
import { basename, extname, join } from 'node:path';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { COMMON, choice, int, list, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel, openPng, type DecodedImage } from '../load.js';

export const EXPLAIN_HELP = `Usage: spikelens explain MODEL IMAGE... [--method M] --layer L[,L2] --out DIR [options]

Runs the model on each PNG image (grayscale or RGB, any size: resized to the model's input) and renders the maps of
an explanation method at every time step, resized back onto the original image (docs/explain.md).

  --method M            ${METHOD_NAMES.join(', ')} (default sam)
  --layer L1,L2         layers to explain: conv-shaped spiking layers (sam, gradcam; relu too for gradcam);
                        optional for random; saliency and input explain the input and take none
  --target T            the class explained: pred (default), label, or a class index
  --label K             the label of every image (for --target label); without it a file named like the
                        samples, NAME-LABEL-INDEX.png (digit-7-0.png, ankle-boot-9000.png), gives its own
  --surrogate S         the spike's surrogate derivative for gradients: ${SURROGATES.join(', ')} (default atan)
  --alpha A             gradcam's channel weights: summed over all steps (default) or per-step
  --aggregate A         how steps become the one picture L.METHOD.png: sum (default) or last
  --out DIR             output folder (created if missing)
  --gamma G             SAM decay (default 0.5)
  --ncs MODE            inclusive (default), strict or official
  --timesteps T         number of steps (default: the model's)
  --seed S              encoder seed (default 0); each image is its own sample 0
  --colormap NAME       ${COLORMAPS.join(', ')} (default jet)
  --opacity A           overlay opacity of the map, 0..1 (default 0.5)
  --normalize MODE      ${NORMALIZE_MODES.join(', ')} (default frame)
  --limit L             the map value shown as 1 with --normalize fixed
  --threads N           1 (default) or 2: sam on two cores, each conv split by rows (same results)
  --json                print the summary as JSON on stdout
  -q, --quiet           no progress bar
  -h, --help            this help

For each image NAME, layer L and method M it writes DIR/NAME/L.M/t<step>.png (one overlay per step),
DIR/NAME/L.M.grid.png (all steps, the step under each tile, method, target and prediction above),
DIR/NAME/L.M.png (the maps aggregated over the steps) and DIR/NAME/L.M.npy (raw maps, float32 [T,1,H,W]; L is
"input" for saliency and input); and DIR/summary.json. MODEL is a .safetensors or a .nir file.

${NIR_HELP}`;

function uniqueStems(files: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return files.map((f) => {
    const stem = basename(f, extname(f)) || 'image';
    const n = (seen.get(stem) ?? 0) + 1;
    seen.set(stem, n);
    return n === 1 ? stem : `${stem}-${n}`;
  });
}

/** A class name as file names spell it: "T-shirt/top" is "t-shirt-top". */
const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * The label a sample's file name gives, NAME-LABEL-INDEX.png as the bundled samples are named (digit-7-0.png,
 * ankle-boot-9000.png): LABEL is a class name of the model (as a slug) or a class index; null when it gives none.
 */
export function labelFromName(file: string, model: Model, K: number): number | null {
  const stem = basename(file, extname(file)).toLowerCase();
  const names = model.input.labels?.map(slug);
  const m = /^(.*)-(\d+)$/.exec(stem);
  if (!m) return null;
  const parts = m[1].split('-');
  // the longest tail of NAME that is a class name, else a trailing number
  for (let i = 0; i < parts.length; i++) {
    const tail = parts.slice(i).join('-');
    const named = names?.indexOf(tail) ?? -1;
    if (named >= 0) return named;
  }
  const last = parts[parts.length - 1];
  if (/^\d+$/.test(last) && Number(last) < K) return Number(last);
  return null;
}

export async function explainCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    method: { type: 'string', short: 'm' },
    layer: { type: 'string', short: 'l' },
    target: { type: 'string' },
    label: { type: 'string' },
    surrogate: { type: 'string' },
    alpha: { type: 'string' },
    aggregate: { type: 'string' },
    out: { type: 'string', short: 'o' },
    gamma: { type: 'string' },
    ncs: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    colormap: { type: 'string' },
    opacity: { type: 'string' },
    normalize: { type: 'string' },
    limit: { type: 'string' },
  });
  if (values.help) {
    io.out(EXPLAIN_HELP);
    return 0;
  }
  if (positionals.length < 2) throw new UsageError(positionals.length === 0 ? 'missing MODEL and IMAGE' : 'missing IMAGE');
  const method = choice(values, 'method', METHOD_NAMES) ?? 'sam';
  const explainer = explainerOf(method);
  const layerArg = list(values, 'layer');
  if (explainer.needsLayer && !layerArg) throw new UsageError(`missing --layer L: ${method} explains a layer`);
  if (!explainer.needsLayer && method !== 'random' && layerArg) throw new UsageError(`${method} explains the input: it takes no --layer`);
  const outDir = str(values, 'out');
  if (!outDir) throw new UsageError('missing --out DIR');
  const gamma = num(values, 'gamma', (n) => n >= 0, 'a number >= 0') ?? 0.5;
  const ncs = choice(values, 'ncs', ['inclusive', 'strict', 'official'] as const) ?? 'inclusive';
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const threads = int(values, 'threads', 1, 2) ?? 1;
  const cmap = (choice(values, 'colormap', COLORMAPS) ?? 'jet') as ColormapName;
  const opacity = num(values, 'opacity', (n) => n >= 0 && n <= 1, 'a number from 0 to 1') ?? 0.5;
  const mode = (choice(values, 'normalize', NORMALIZE_MODES) ?? 'frame') as NormalizeMode;
  const limit = num(values, 'limit', (n) => n > 0, 'a number > 0');
  if (mode === 'fixed' && limit === undefined) throw new UsageError('--normalize fixed needs --limit L');
  const surrogate = choice(values, 'surrogate', SURROGATES);
  const alpha = choice(values, 'alpha', ['summed', 'per-step'] as const) as GradcamAlpha | undefined;
  const aggregate = (choice(values, 'aggregate', AGGREGATES) ?? 'sum') as Aggregate;
  const targetArg = str(values, 'target') ?? 'pred';
  if (targetArg !== 'pred' && targetArg !== 'label' && !/^\d+$/.test(targetArg))
    throw new UsageError(`--target must be pred, label or a class index, not "${targetArg.slice(0, 40)}"`);
  const target: Target = targetArg === 'pred' || targetArg === 'label' ? targetArg : Number(targetArg);
  const labelArg = int(values, 'label', 0, 1_000_000);

  const [modelFile, ...images] = positionals;
  await checkOutputDir(outDir);
  const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.warn);
  const K = model.layers[model.layers.length - 1].outShape.reduce((a, b) => a * b, 1);
  if (typeof target === 'number' && target >= K) throw new UsageError(`--target ${target} is not a class from 0 to ${K - 1}`);
  if (labelArg !== undefined && labelArg >= K) throw new UsageError(`--label ${labelArg} is not a class from 0 to ${K - 1}`);
  const labels = images.map((f) => labelArg ?? labelFromName(f, model, K));
  const missing = images.findIndex((_, i) => labels[i] === null);
  if (target === 'label' && missing >= 0)
    throw new UsageError(`--target label needs a label for ${images[missing].slice(-60)}: give --label K, or name it NAME-LABEL-INDEX.png`);
  const layers = layerArg ?? [explainer.needsLayer ? '' : 'input'];
  const stems = uniqueStems(images);
  const T = resolveTimesteps(model, { kind: 'pixels', file: images[0] }, timesteps);
  if (T > LIMITS.explainSteps)
    throw new UsageError(`explain draws a picture per step: ${T} steps are more than ${LIMITS.explainSteps}; use fewer --timesteps, or 'spikelens run --sam'`);
  const opts = { target, seed, timesteps, surrogate, alpha, gamma, ncs, threads };
  const probe = { kind: 'pixels' as const, data: new Float32Array(0) };
  for (const layer of layers) explainer.check(model, probe, { ...opts, layer: layer === 'input' ? undefined : layer });
  // explain keeps every step's map of each layer to render it (global normalisation needs them all).
  let mapBytes = 0;
  for (const layer of layers) {
    const l = model.layers.find((x) => x.name === layer);
    const [H, W] = l ? l.outShape.slice(1) : model.input.shape.slice(1);
    mapBytes += 4 * T * H * W;
  }
  if (mapBytes > LIMITS.chunkBytes)
    throw new UsageError(`${T} steps of maps take ${formatBytes(mapBytes)}, more than the ${formatBytes(LIMITS.chunkBytes)} explain renders from: use fewer --timesteps, or 'spikelens run --sam'`);

  const style: MapStyle = { normalize: mode, limit, colormap: cmap, alpha: opacity };
  const summary = await withOutputDir(outDir, async (out) => {
    const perImage: Array<Record<string, unknown>> = [];
    for (let i = 0; i < images.length; i++) {
      const file = images[i];
      const source = await openPng(file, model);
      const img = source.image!;
      const drawn = fittedSize(img.width, img.height, LIMITS.overlaySide);
      if (drawn.width * drawn.height * T > LIMITS.renderPixels)
        throw new UsageError(`${file}: ${T} overlays of ${drawn.width}x${drawn.height} are more than the ${LIMITS.renderPixels} pixels explain draws per layer: use a smaller image or fewer --timesteps`);
      const input = source.read(0, 1);
      const files: string[] = [];
      const per: Array<Record<string, unknown>> = [];
      let first: Explanation | null = null;
      for (const layer of layers) {
        const e = await explain(method, model, input, 1, {
          ...opts,
          layer: layer === 'input' ? undefined : layer,
          labels: labels[i] === null ? undefined : [labels[i]!],
        });
        first ??= e;
        files.push(...render(out, outDir, stems[i], e, img, style, aggregate, model));
        per.push({ layer: e.layer, target: e.targets[0] });
      }
      const e = first!;
      const pred = e.predictions[0];
      const name = (c: number): string => model.input.labels?.[c] ?? String(c);
      perImage.push({
        image: file,
        prediction: pred,
        label: labels[i],
        predictedLabel: name(pred),
        scores: Array.from(e.scores),
        maps: per,
        files,
      });
      if (!values.json) io.out(`${file}: predicted ${name(pred)}; ${method} of ${layers.join(', ')}: ${files.length} files in ${join(outDir, stems[i])}`);
    }
    const summary = {
      schema: 'spikelens.explain/2', model: model.name, method, layers, target: targetArg, aggregate, timesteps: T, seed,
      colormap: cmap, opacity, normalize: mode,
      ...(method === 'gradcam' ? { alpha: alpha ?? 'summed', surrogate: surrogate ?? 'atan' } : {}),
      ...(method === 'saliency' ? { surrogate: surrogate ?? 'atan' } : {}),
      ...(method === 'sam' ? { gamma, ncs } : {}),
      images: perImage,
    };
    await out.write('summary.json', JSON.stringify(summary, null, 2) + '\n');
    return summary;
  });
  if (values.json) io.out(JSON.stringify(summary));
  return 0;
}

/** The pictures and raw maps of one explanation of one image (docs/outputs.md); returns the files written. */
export function render(
  out: OutputDir, outDir: string, stem: string, e: Explanation, img: DecodedImage, style: MapStyle, aggregate: Aggregate, model: Model,
): string[] {
  const files: string[] = [];
  const put = (rel: string, data: Uint8Array): void => {
    out.writeSync(rel, data);
    files.push(join(outDir, rel));
  };
  const { T, H, W, maps, method, layer } = e;
  // overlays at the image's size, or scaled down to LIMITS.overlaySide on the longer side
  const base = fitPicture({ width: img.width, height: img.height, pixels: rgbaToRgb(img.rgba, img.width, img.height) }, LIMITS.overlaySide);
  const name = (c: number): string => model.input.labels?.[c] ?? String(c);
  const key = `${layer}.${method}`;
  const digits = String(T - 1).length;
  eachMapOverlay(maps, H, W, base, style, (rgba, t) =>
    put(join(stem, key, `t${String(t).padStart(digits, '0')}.png`), encodePng(base.width, base.height, rgba)),
  );
  const title = `${stem}  ${layer}  ${method}  target ${name(e.targets[0])}  predicted ${name(e.predictions[0])}`;
  const grid = mapGrid(maps, H, W, base, style, title);
  put(join(stem, `${key}.grid.png`), encodePng(grid.width, grid.height, grid.rgba));
  const one = aggregateMaps(maps, T, 1, H, W, aggregate);
  // one aggregated map, normalised over itself (a per-frame norm of one frame)
  eachMapOverlay(one, H, W, base, { ...style, normalize: style.normalize === 'fixed' ? 'fixed' : 'frame' }, (rgba) =>
    put(join(stem, `${key}.png`), encodePng(base.width, base.height, rgba)),
  );
  put(join(stem, `${key}.npy`), writeNpy(maps, [T, 1, H, W]));
  return files;
}
