import { UsageError, evaluate } from '@spikelens/sam';
import { loadDataset } from '@spikelens/sam/node';
import { COMMON, choice, int, parse } from '../args.js';
import type { Io } from '../io.js';
import { loadModel } from '../load.js';
import { Progress } from '../progress.js';

export const EVAL_HELP = `Usage: spikelens eval MODEL --dataset D [options]

Measures a model on a data set's test images, run exactly as 'spikelens run' runs it (the model's encoding and
time steps; each image keyed by its index, so it gets the spikes it would get alone).

  --dataset D     mnist or fashion-mnist
  --limit N       the first N test images only (default all)
  --batch B       images per batch (default 100; results do not depend on it)
  --seed S        encoder seed (default 0)
  --json          print the result as JSON
  -q, --quiet     no progress bar
  -h, --help      this help

Prints test accuracy, per-class accuracy, firing rate per spiking layer and mean synaptic operations per image.`;

export async function evalCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    dataset: { type: 'string' },
    limit: { type: 'string' },
    batch: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) {
    io.out(EVAL_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : 'one MODEL expected');
  const dataset = choice(values, 'dataset', ['mnist', 'fashion-mnist'] as const);
  if (!dataset) throw new UsageError('missing --dataset');
  const model = await loadModel(positionals[0]);
  const test = await loadDataset(dataset, 'test');
  const limit = int(values, 'limit', 1, 10_000_000) ?? 0;
  const bar = new Progress(io.stderr, 'eval', limit || test.count, !values.quiet);
  const ev = await evaluate(model, test, {
    limit,
    batch: int(values, 'batch', 1, 10_000) ?? 100,
    seed: int(values, 'seed', 0, 2 ** 32 - 1) ?? 0,
    onBatch: (d) => bar.update(d),
  });
  bar.done();
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
