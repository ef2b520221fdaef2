import { writeNpy } from '@spikelens/sam';
import { writeFilesAtomic } from '@spikelens/sam/node';
import { join } from 'node:path';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { COMMON, choice, int, list, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadInput, loadModel } from '../load.js';
import { recordAll, simulate } from '../simulate.js';
import { buildSummary } from '../summary.js';
import { UsageError } from '@spikelens/sam';

export const RUN_HELP = `Usage: spikelens run MODEL --input FILE --out DIR [options]

Runs a model on an input and writes what it recorded as NumPy arrays (SPEC §8).

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
  const timesteps = int(values, 'timesteps', 1, 100_000);
  const gamma = num(values, 'gamma', (n) => n >= 0, 'a number >= 0') ?? 0.5;
  const ncs = choice(values, 'ncs', ['inclusive', 'strict', 'official'] as const) ?? 'inclusive';
  const recordArg = list(values, 'record') ?? [];
  const samLayers = list(values, 'sam') ?? [];

  const modelFile = positionals[0];
  const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.err);
  const { input, batch } = await loadInput(inputFile, model);
  const record = recordArg.length === 1 && recordArg[0] === 'all' ? recordAll(model, input) : recordArg;
  const result = await simulate({
    model, input, batch, inputFile, seed, timesteps, record, sam: samLayers, gamma, ncs, threads,
    progress: { stream: io.stderr, enabled: !values.quiet, label: 'run' },
  });

  const files: { path: string; data: Uint8Array | string }[] = [];
  for (const r of result.recorders) {
    const T = result.timesteps;
    if (r.spikes) files.push({ path: join(outDir, `${r.layer}.spikes.npy`), data: writeNpy(r.spikes.data(), [T, ...r.frameShape]) });
    if (r.membrane) files.push({ path: join(outDir, `${r.layer}.v.npy`), data: writeNpy(r.membrane.data(), [T, ...r.frameShape]) });
  }
  for (const s of result.sams)
    files.push({ path: join(outDir, `${s.layer}.sam.npy`), data: writeNpy(s.maps.data(), [result.timesteps, ...s.frameShape]) });
  files.push({ path: join(outDir, 'output.npy'), data: writeNpy(result.scores, [batch, result.net.classes]) });
  const summary = buildSummary(result, { gamma, ncs, input: inputFile });
  files.push({ path: join(outDir, 'summary.json'), data: JSON.stringify(summary, null, 2) + '\n' });
  await writeFilesAtomic(files);

  if (values.json) io.out(JSON.stringify(summary));
  else {
    const labels = model.input.labels;
    for (let b = 0; b < batch; b++) {
      const p = result.predictions[b];
      io.out(`sample ${b}: predicted ${labels ? labels[p] : p}`);
    }
    io.out(`${result.timesteps} steps in ${result.seconds.toFixed(3)} s; wrote ${files.length} files to ${outDir}`);
  }
  return 0;
}
