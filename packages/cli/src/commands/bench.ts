import { LIMITS, UsageError, benchmark, formatBytes, sizeOf, type BenchReport, type NetworkInput } from '@spikelens/sam';
import { COMMON, int, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel, openInput } from '../load.js';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';

export const BENCH_HELP = `Usage: spikelens bench MODEL [options]

Measures how fast this machine runs a model, as the benchmark suite measures (docs/bench.md): warm-up runs, then
counted runs of a whole batch (setting the input and every step), median and range; firing rates and synaptic
operations from a counting run; and a profile of the time each layer takes, with the G synaptic operations/s each
conv and linear layer reaches beside this machine's gather ceiling (the event kernel's inner loop alone).

  MODEL           a .safetensors model or a .nir graph (options below)
  --batch B       samples a run (default 1)
  --timesteps T   steps a run (default: the model's; a .nir model's default is 25)
  --threads N     1 (default) or 2: a helper thread takes tiles of every layer (same results)
  --input X       a .npy of pixel values [B,...] or spike frames [T,B,...], or a .png; its first B samples are
                  used, repeated if it holds fewer (default: seeded uniform pixels 0..255)
  --runs N        counted runs (default 5)
  --warmup N      warm-up runs, not counted (default 2)
  --seed S        encoder seed (default 0)
  --json          print the report as JSON (format spikelens.bench/1)
  -h, --help      this help

Exit codes: 0 success, 2 usage, 3 a file is missing, malformed or does not fit the model, 1 internal error.

${NIR_HELP}`;

export async function benchCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    batch: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    threads: { type: 'string' },
    input: { type: 'string', short: 'i' },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) {
    io.out(BENCH_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : `one MODEL expected, got ${positionals.length} arguments`);
  const batch = int(values, 'batch', 1, 100_000) ?? 1;
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const threads = int(values, 'threads', 1, 2) ?? 1;
  if (threads === 2 && typeof SharedArrayBuffer === 'undefined')
    throw new UsageError('--threads 2 needs shared WebAssembly memory, which this runtime does not offer');
  const runs = int(values, 'runs', 1, 1000) ?? 5;
  const warmups = int(values, 'warmup', 0, 1000) ?? 2;
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const file = positionals[0];
  const model = await loadModel(file, nirOptions(values, isNir(file), timesteps), io.warn);
  const inputFile = str(values, 'input');
  let input: NetworkInput | undefined;
  if (inputFile) {
    const source = await openInput(inputFile, model);
    try {
      if (source.kind === 'train' && timesteps !== undefined) throw new UsageError('--timesteps: the input is a spike train, whose length is the run');
      input = repeatTo(source.read(0, Math.min(batch, source.batch)), Math.min(batch, source.batch), batch, sizeOf(model.input.shape));
    } finally {
      source.close();
    }
  }
  const report = await benchmark(model, {
    batch, timesteps, threads: threads as 1 | 2, input, runs, warmups, seed,
  });
  if (values.json) {
    io.out(JSON.stringify(report));
    return 0;
  }
  io.out(formatReport(report));
  return 0;
}

/** The first `have` samples of an input, repeated to fill `batch` (pixels [B, ...] or a train [T, B, ...]). */
function repeatTo(input: NetworkInput, have: number, batch: number, sample: number): NetworkInput {
  if (have === batch) return input;
  if (input.kind === 'pixels') {
    const data = new Float32Array(batch * sample);
    for (let b = 0; b < batch; b++) data.set(input.data.subarray((b % have) * sample, (b % have + 1) * sample), b * sample);
    return { kind: 'pixels', data };
  }
  const T = input.timesteps;
  const Ctor = input.data.constructor as new (n: number) => Uint8Array | Int8Array | Float32Array;
  const data = new Ctor(T * batch * sample);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < batch; b++) {
      const src = (t * have + (b % have)) * sample;
      data.set(input.data.subarray(src, src + sample), (t * batch + b) * sample);
    }
  return { kind: 'train', data, timesteps: T };
}

const fixed = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));

export function formatReport(r: BenchReport): string {
  const ms = (s: number): string => fixed(s * 1000, 2);
  const lines = [
    `${r.model}: batch ${r.batch}, ${r.timesteps} steps, ${r.threads} thread${r.threads === 2 ? 's' : ''}, blocks of ${r.blockSteps} steps, arena ${formatBytes(r.arenaBytes)}`,
    `run of the batch: median ${ms(r.seconds.median)} ms (range ${ms(r.seconds.min)}-${ms(r.seconds.max)}, ${r.seconds.n} runs)`,
    `${fixed(r.imagesPerSecond, 1)} images/s, ${fixed(r.stepsPerSecond, 0)} steps/s, ${fixed(r.gsops, 2)} G SOP/s (${Math.round(r.sopsPerImage)} SOPs an image), ${fixed(r.denseGmacs, 2)} dense-equivalent G MAC/s`,
    `firing rates: ${Object.entries(r.firingRates).map(([k, v]) => `${k} ${fixed(100 * v, 1)}%`).join(', ') || 'no spiking layer'}`,
    `gather ceiling of this machine: ${fixed(r.ceilingGsops, 1)} G SOP/s a thread`,
    '',
    'layer                op            ms a run   share   G SOP/s   of ceiling',
  ];
  for (const l of r.layers) {
    const rate = l.gsops !== undefined ? fixed(l.gsops, 2).padStart(9) : ''.padStart(9);
    const of = l.gsops !== undefined && r.ceilingGsops > 0 ? `${fixed((100 * l.gsops) / (r.ceilingGsops * r.threads), 0)}%`.padStart(12) : '';
    lines.push(`${l.name.slice(0, 20).padEnd(20)} ${l.op.padEnd(12)} ${fixed(l.ms, 3).padStart(10)} ${`${fixed(100 * l.share, 1)}%`.padStart(7)} ${rate}${of}`);
  }
  return lines.join('\n');
}
