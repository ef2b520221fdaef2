import {
  COLORMAPS,
  LIMITS,
  NORMALIZE_MODES,
  UsageError,
  checkRequest,
  eachSamOverlay,
  resolveTimesteps,
  simulate,
  summarize,
  type Summary,
  formatBytes,
  rgbaToRgb,
  samGrid,
  writeNpy,
  type ColormapName,
  type NormalizeMode,
} from '@spikelens/sam';
import { checkOutputDir, encodePng, withOutputDir } from '@spikelens/sam/node';
import { basename, extname, join } from 'node:path';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { COMMON, choice, int, list, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel, openInput } from '../load.js';
import { Progress } from '../progress.js';

export const EXPLAIN_HELP = `Usage: spikelens explain MODEL IMAGE... --layer L[,L2] --out DIR [options]

Runs the model on each PNG image (grayscale or RGB, any size: resized to the model's input) and renders the Spike
Activation Map of each layer at every time step, resized back onto the original image.

  --layer L1,L2         conv-shaped spiking layers to explain (required)
  --out DIR             output folder (created if missing)
  --gamma G             SAM decay (default 0.5)
  --ncs MODE            inclusive (default), strict or official
  --timesteps T         number of steps (default: the model's)
  --seed S              encoder seed (default 0); each image is its own sample 0
  --colormap NAME       ${COLORMAPS.join(', ')} (default jet)
  --alpha A             overlay opacity of the map, 0..1 (default 0.5)
  --normalize MODE      ${NORMALIZE_MODES.join(', ')} (default frame)
  --limit L             the map value shown as 1 with --normalize fixed
  --threads N           1 (default) or 2: one image on two cores, each conv split by rows (same results)
  --json                print the summary as JSON on stdout
  -q, --quiet           no progress bar
  -h, --help            this help

For each image NAME and layer L it writes DIR/NAME/L/t<step>.png (one overlay per step), DIR/NAME/L.grid.png (all
steps, the step under each tile, the prediction above) and DIR/NAME/L.sam.npy (raw maps, float32 [T,1,H,W]); and
DIR/summary.json. MODEL is a .safetensors or a .nir file.

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

export async function explainCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    layer: { type: 'string', short: 'l' },
    out: { type: 'string', short: 'o' },
    gamma: { type: 'string' },
    ncs: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    colormap: { type: 'string' },
    alpha: { type: 'string' },
    normalize: { type: 'string' },
    limit: { type: 'string' },
  });
  if (values.help) {
    io.out(EXPLAIN_HELP);
    return 0;
  }
  if (positionals.length < 2) throw new UsageError(positionals.length === 0 ? 'missing MODEL and IMAGE' : 'missing IMAGE');
  const layers = list(values, 'layer');
  if (!layers) throw new UsageError('missing --layer L');
  const outDir = str(values, 'out');
  if (!outDir) throw new UsageError('missing --out DIR');
  const gamma = num(values, 'gamma', (n) => n >= 0, 'a number >= 0') ?? 0.5;
  const ncs = choice(values, 'ncs', ['inclusive', 'strict', 'official'] as const) ?? 'inclusive';
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const threads = int(values, 'threads', 1, 2) ?? 1;
  const cmap = (choice(values, 'colormap', COLORMAPS) ?? 'jet') as ColormapName;
  const alpha = num(values, 'alpha', (n) => n >= 0 && n <= 1, 'a number from 0 to 1') ?? 0.5;
  const mode = (choice(values, 'normalize', NORMALIZE_MODES) ?? 'frame') as NormalizeMode;
  const limit = num(values, 'limit', (n) => n > 0, 'a number > 0');
  if (mode === 'fixed' && limit === undefined) throw new UsageError('--normalize fixed needs --limit L');

  const [modelFile, ...images] = positionals;
  await checkOutputDir(outDir);
  const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.warn);
  const labels = model.input.labels;
  const stems = uniqueStems(images);
  const T = resolveTimesteps(model, { kind: 'pixels', file: images[0] }, timesteps);
  checkRequest({ model, record: [], sam: layers, samFlag: '--layer' }, T);
  // explain keeps every step's map of each layer to render it (global normalisation needs them all).
  let mapBytes = 0;
  for (const name of layers) {
    const [, H, W] = model.layers.find((l) => l.name === name)!.outShape;
    mapBytes += 4 * T * H * W;
  }
  if (mapBytes > LIMITS.chunkBytes)
    throw new UsageError(`${T} steps of maps take ${formatBytes(mapBytes)}, more than the ${formatBytes(LIMITS.chunkBytes)} explain renders from: use fewer --timesteps, or 'spikelens run --sam'`);

  const summary = await withOutputDir(outDir, async (out) => {
    const perImage: Array<Summary & { image: string; files: string[] }> = [];
    for (let i = 0; i < images.length; i++) {
      const file = images[i];
      const source = await openInput(file, model);
      const img = source.image!;
      if (img.width * img.height * T > LIMITS.renderPixels)
        throw new UsageError(`${file}: ${T} overlays of ${img.width}x${img.height} are more than the ${LIMITS.renderPixels} pixels explain renders per layer: use a smaller image or fewer --timesteps`);
      const bar = new Progress(io.stderr, `${stems[i]} (${i + 1}/${images.length})`, T, !values.quiet);
      const result = await simulate({
        model, source, seed, timesteps, sam: layers, samFlag: '--layer', gamma, ncs, threads,
        onStep: ({ t }) => bar.update(t + 1),
      });
      bar.done();
      const pred = result.predictions[0];
      const predText = labels ? labels[pred] : String(pred);
      const base = { width: img.width, height: img.height, pixels: rgbaToRgb(img.rgba, img.width, img.height) };
      const style = { normalize: mode, limit, colormap: cmap, alpha };

      const files: string[] = [];
      const put = async (rel: string, data: Uint8Array): Promise<void> => {
        await out.write(rel, data);
        files.push(join(outDir, rel));
      };
      for (const sam of result.sams) {
        const [, H, W] = sam.frameShape;
        const raw = sam.maps.data();
        const digits = String(T - 1).length;
        eachSamOverlay(raw, H, W, base, style, (rgba, t) => {
          const rel = join(stems[i], sam.layer, `t${String(t).padStart(digits, '0')}.png`);
          out.writeSync(rel, encodePng(img.width, img.height, rgba));
          files.push(join(outDir, rel));
        });
        const grid = samGrid(raw, H, W, base, style, `${stems[i]}  ${sam.layer}  predicted: ${predText}`);
        await put(join(stems[i], `${sam.layer}.grid.png`), encodePng(grid.width, grid.height, grid.rgba));
        await put(join(stems[i], `${sam.layer}.sam.npy`), writeNpy(raw, [T, 1, H, W]));
      }
      perImage.push({ ...summarize(result, { input: file, sam: { layers, gamma, ncs } }), image: file, files });
      if (!values.json) io.out(`${file}: predicted ${predText}; ${files.length} files in ${join(outDir, stems[i])}`);
    }
    const summary = { schema: 'spikelens.explain/1', model: model.name, layers, colormap: cmap, alpha, normalize: mode, images: perImage };
    await out.write('summary.json', JSON.stringify(summary, null, 2) + '\n');
    return summary;
  });
  if (values.json) io.out(JSON.stringify(summary));
  return 0;
}
