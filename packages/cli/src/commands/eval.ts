import { InputError, LIMITS, UsageError, parseJson } from '@spikelens/sam';
import { evaluate } from '@spikelens/sam/train';
import { loadDataset, readBytes, writeFilesAtomic } from '@spikelens/sam/node';
import type { Evaluation } from '@spikelens/sam/train';
import { COMMON, choice, int, parse } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel } from '../load.js';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { Progress } from '../progress.js';
import { measuredFields } from '../card.js';

export const EVAL_HELP = `Usage: spikelens eval MODEL --dataset D [options]

Measures a model on a data set's test images, run exactly as 'spikelens run' runs it (the model's encoding and
time steps; each image keyed by its index, so it gets the spikes it would get alone).

  --dataset D     mnist, fashion-mnist, cluttered-mnist or two-digit (the generated 48x48 sets of
                  docs/datasets.md, seed 0; two-digit's label is the class of the digit in the top row)
  --limit N       the first N test images only (default all)
  --batch B       images per batch (default 100; results do not depend on it)
  --seed S        encoder seed (default 0)
  --timesteps T   steps per image (default: the model's; a .nir model's default is 25)
  --update-card   write the measured figures into the model card MODEL.json beside the model
  --json          print the result as JSON
  -q, --quiet     no progress bar
  -h, --help      this help

Prints test accuracy, per-class accuracy, firing rate per spiking layer and mean synaptic operations per image.
MODEL is a .safetensors or a .nir file.

${NIR_HELP}`;

export async function evalCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    timesteps: { type: 'string', short: 't' },
    dataset: { type: 'string' },
    limit: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
    'update-card': { type: 'boolean' },
  });
  if (values.help) {
    io.out(EVAL_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : 'one MODEL expected');
  const dataset = choice(values, 'dataset', ['mnist', 'fashion-mnist', 'cluttered-mnist', 'two-digit'] as const);
  if (!dataset) throw new UsageError('missing --dataset');
  const limit = int(values, 'limit', 1, 10_000_000) ?? 0;
  const batch = int(values, 'batch', 1, 10_000) ?? 100;
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const file = positionals[0];
  if (values['update-card'] && isNir(file)) throw new UsageError('--update-card applies to .safetensors models (their card is MODEL.json)');
  const model = await loadModel(file, nirOptions(values, isNir(file), timesteps), io.warn);
  const test = await loadDataset(dataset, 'test');
  const bar = new Progress(io.stderr, 'eval', limit || test.count, !values.quiet);
  const ev = await evaluate(model, test, { limit, batch, seed, timesteps, onBatch: (d) => bar.update(d) });
  bar.done();
  if (values['update-card']) await updateCard(positionals[0], ev);
  if (values.json) {
    io.out(JSON.stringify({ model: model.name, dataset, ...ev }));
    return 0;
  }
  io.out(`${model.name} on ${dataset}: test accuracy ${(100 * ev.accuracy).toFixed(2)} % (${ev.images} images)`);
  io.out(`per class: ${ev.perClass.map((c) => `${c.label} ${(100 * c.accuracy).toFixed(1)}%`).join(', ')}`);
  io.out(`firing rates: ${Object.entries(ev.firingRates).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}%`).join(', ')}`);
  io.out(`mean SOPs per image: ${Math.round(ev.sopsPerImage)}`);
  return 0;
}

/** Rewrites the measured fields of the card beside the model (MODEL.json), leaving the rest as it was. */
async function updateCard(modelFile: string, ev: Evaluation): Promise<void> {
  const cardFile = modelFile.replace(/\.safetensors$/, '') + '.json';
  const card = parseJson(new TextDecoder().decode(await readBytes(cardFile)), cardFile, 'the model card');
  if (typeof card !== 'object' || card === null || Array.isArray(card)) throw new InputError(cardFile, 'the model card is not a JSON object');
  Object.assign(card, measuredFields(ev));
  await writeFilesAtomic([{ path: cardFile, data: JSON.stringify(card, null, 2) + '\n' }]);
}
