import {
  LIMITS,
  UsageError,
  checkRequest,
  formatBytes,
  recordAll,
  resolveTimesteps,
  simulate,
  sizeOf,
  summarize,
  writeNpy,
  type Model,
  type NpyData,
  type SimulateResult,
} from '@spikelens/sam';
import { NpyWriter, checkOutputDir, withOutputDir } from '@spikelens/sam/node';
import { join } from 'node:path';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { COMMON, choice, int, list, num, parse, size, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel, openInput, type InputSource } from '../load.js';
import { Progress } from '../progress.js';

export const RUN_HELP = `Usage: spikelens run MODEL --input FILE --out DIR [options]

Runs a model on an input and writes what it recorded as NumPy arrays (docs/cli.md).

  MODEL                 a .safetensors model with a spikelens graph, or a .nir graph (options below)
  --input FILE          .npy: float32 [B,...] pixel values (preprocessed and encoded by the model),
                        or uint8/int8 [T,B,...] input spikes (the encoder is bypassed); or a .png image
  --out DIR             output folder (created if missing; files in it are replaced)
  --seed S              encoder seed (default 0)
  --timesteps T         number of steps (default: the model's; not with a spike-train input)
  --record L1,L2|all    record spikes and membranes of these layers ("input" = the input spikes)
  --sam L1,L2           compute Spike Activation Maps of these conv-shaped spiking layers
  --gamma G             SAM decay (default 0.5)
  --ncs MODE            inclusive (default), strict or official
  --threads N           1 (default) or 2: one image on two cores, each conv split by rows (same results)
  --json                print the summary as JSON on stdout
  -q, --quiet           no progress bar
  --debug               print the stack of an internal error
  -h, --help            this help

Writes DIR/<layer>.spikes.npy, DIR/<layer>.v.npy, DIR/<layer>.sam.npy, DIR/output.npy and DIR/summary.json.
A uint8 spike train may hold event counts (values above 1, as N-MNIST frames): each is that many input spikes.
Exit codes: 0 success, 2 usage, 3 a file is missing, malformed or does not fit the model, 1 internal error.

${NIR_HELP}`;

export async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    input: { type: 'string', short: 'i' },
    out: { type: 'string', short: 'o' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    record: { type: 'string' },
    sam: { type: 'string' },
    gamma: { type: 'string' },
    ncs: { type: 'string' },
    batch: { type: 'string' },
    'max-output': { type: 'string' },
  });
  if (values.help) {
    io.out(RUN_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : `one MODEL expected, got ${positionals.length} arguments`);
  const inputFile = str(values, 'input');
  if (!inputFile) throw new UsageError('missing --input FILE');
  const outDir = str(values, 'out');
  if (!outDir) throw new UsageError('missing --out DIR');
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const threads = int(values, 'threads', 1, 2) ?? 1;
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const gamma = num(values, 'gamma', (n) => n >= 0, 'a number >= 0') ?? 0.5;
  const ncs = choice(values, 'ncs', ['inclusive', 'strict', 'official'] as const) ?? 'inclusive';
  const recordArg = list(values, 'record') ?? [];
  const samLayers = list(values, 'sam') ?? [];
  const chunk = int(values, 'batch', 1, 1_000_000);
  const maxOutput = size(values, 'max-output') ?? LIMITS.outputBytes;
  if (recordArg.includes('all') && recordArg.length > 1) throw new UsageError('--record all stands alone');
  await checkOutputDir(outDir);

  const modelFile = positionals[0];
  const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.warn);
  const source = await openInput(inputFile, model);
  try {
    const record = recordArg[0] === 'all' ? recordAll(model, source) : recordArg;
    const T = resolveTimesteps(model, source, timesteps);
    // the names first (a one-step request), then what the outputs would take, then the whole run's work
    checkRequest({ model, record, sam: samLayers }, 1);
    const bytes = outputBytes(model, source, T, record, samLayers);
    if (bytes > maxOutput)
      throw new UsageError(
        `the outputs would take ${formatBytes(bytes)}, more than --max-output ${formatBytes(maxOutput)}: record fewer layers or steps, or raise --max-output`,
      );
    checkRequest({ model, record, sam: samLayers }, T);

    const { result, files } = await withOutputDir(outDir, async (out) => {
      const frameOf = (layer: string): readonly number[] =>
        layer === 'input' ? model.input.shape : model.layers.find((l) => l.name === layer)!.outShape;
      const shapes = new Map<string, readonly number[]>();
      for (const layer of record) {
        shapes.set(`${layer}.spikes.npy`, frameOf(layer));
        shapes.set(`${layer}.v.npy`, frameOf(layer));
      }
      for (const layer of samLayers) shapes.set(`${layer}.sam.npy`, frameOf(layer).slice(1));
      const writers = new Map<string, NpyWriter>();
      /** Step t's frame of the samples from b0 into its file, created at the first frame (whose dtype it takes). */
      const at = (name: string, t: number, b0: number, frame: NpyData): void => {
        const shape = shapes.get(name)!;
        let w = writers.get(name);
        if (!w) {
          w = NpyWriter.create(out.stagedFile(name), frame, [T, source.batch, ...shape]);
          writers.set(name, w);
        }
        w.write((t * source.batch + b0) * sizeOf(shape), frame);
      };
      let result: SimulateResult;
      const bar = new Progress(io.stderr, 'run', source.batch * T, !values.quiet);
      try {
        result = await simulate({
          model, source, seed, timesteps, record, sam: samLayers, gamma, ncs, threads, chunk,
          sink: {
            spikes: (layer, t, b0, frame) => at(`${layer}.spikes.npy`, t, b0, frame),
            membrane: (layer, t, b0, frame) => at(`${layer}.v.npy`, t, b0, frame),
            sam: (layer, t, b0, map) => at(`${layer}.sam.npy`, t, b0, map),
          },
          onStep: ({ net, t, b0 }) => bar.update(b0 * T + (t + 1) * net.batch),
        });
      } finally {
        for (const w of writers.values()) w.close();
        bar.done();
      }
      await out.write('output.npy', writeNpy(result.scores, [source.batch, result.classes]));
      const summary = summarize(result, { input: inputFile, sam: { layers: samLayers, gamma, ncs } });
      await out.write('summary.json', JSON.stringify(summary, null, 2) + '\n');
      return { result: { ...result, summary }, files: writers.size + 2 };
    });

    if (values.json) io.out(JSON.stringify(result.summary));
    else {
      const labels = model.input.labels;
      const shown = Math.min(source.batch, 20);
      for (let b = 0; b < shown; b++) {
        const p = result.predictions[b];
        io.out(`sample ${b}: predicted ${labels ? labels[p] : p}`);
      }
      if (source.batch > shown) io.out(`... ${source.batch - shown} more samples: see ${join(outDir, 'summary.json')}`);
      io.out(`${result.timesteps} steps in ${result.seconds.toFixed(3)} s; wrote ${files} files to ${outDir}`);
    }
    return 0;
  } finally {
    source.close();
  }
}

/** Bytes the run's outputs will take: every recorded array, the maps, the scores. */
function outputBytes(model: Model, source: InputSource, T: number, record: readonly string[], sam: readonly string[]): number {
  const B = source.batch;
  let bytes = B * sizeOf(model.layers[model.layers.length - 1].outShape) * 4;
  for (const name of record) {
    if (name === 'input') {
      bytes += T * B * sizeOf(model.input.shape) * (source.floatFrames ? 4 : 1);
      continue;
    }
    const l = model.layers.find((x) => x.name === name)!;
    const n = T * B * sizeOf(l.outShape);
    bytes += n * 4 + (l.op === 'li' ? 0 : n);
  }
  for (const name of sam) {
    const [, H, W] = model.layers.find((x) => x.name === name)!.outShape;
    bytes += T * B * H * W * 4;
  }
  return bytes;
}
