import { LIMITS, UsageError, compilePlanFile, formatBytes, readPlanHeader } from '@spikelens/sam';
import { writeFilesAtomic } from '@spikelens/sam/node';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { COMMON, choice, int, list, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel } from '../load.js';

export const COMPILE_HELP = `Usage: spikelens compile MODEL -o PLAN.slplan [options]

Compiles a model into a plan file (docs/plan-file.md): the network for one batch and run length, with what it
records, laid out as the WebAssembly core runs it. The core loads and runs it alone, with no JavaScript: the WASI
command (packages/core-wasm/build/spikelens.wasi.wasm PLAN INPUT.npy OUTDIR) writes what 'spikelens run' writes.

  MODEL                 a .safetensors model with a spikelens graph, or a .nir graph (options below)
  -o, --out FILE        the plan file to write
  --batch B             samples a run takes (default 1)
  --timesteps T         steps (default: the model's); a spike train given to the plan may be shorter
  --record L1,L2|all    record the spikes of these layers ("input" = the encoder's spikes)
  --sam L1,L2           compute Spike Activation Maps of these conv-shaped spiking layers
  --gamma G             SAM decay (default 0.5)
  --ncs MODE            inclusive (default), strict or official
  --seed S              the encoder seed a runner uses by default (default 0)
  --json                print what was written as JSON
  -h, --help            this help

Exit codes: 0 success, 2 usage, 3 a file is missing, malformed or does not fit, 1 internal error.

${NIR_HELP}`;

export async function compileCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    out: { type: 'string', short: 'o' },
    batch: { type: 'string' },
    timesteps: { type: 'string', short: 't' },
    record: { type: 'string' },
    sam: { type: 'string' },
    gamma: { type: 'string' },
    ncs: { type: 'string' },
    seed: { type: 'string' },
  });
  if (values.help) {
    io.out(COMPILE_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : `one MODEL expected, got ${positionals.length} arguments`);
  const out = str(values, 'out');
  if (!out) throw new UsageError('missing -o PLAN.slplan');
  const batch = int(values, 'batch', 1, 65536) ?? 1;
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const gamma = num(values, 'gamma', (n) => n >= 0, 'a number >= 0') ?? 0.5;
  const ncs = choice(values, 'ncs', ['inclusive', 'strict', 'official'] as const) ?? 'inclusive';
  const record = list(values, 'record') ?? [];
  const sam = list(values, 'sam') ?? [];
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  if (record.includes('all') && record.length > 1) throw new UsageError('--record all stands alone');
  const modelFile = positionals[0];
  const model = await loadModel(modelFile, nirOptions(values, isNir(modelFile), timesteps), io.warn);
  const bytes = await compilePlanFile(model, { batch, timesteps, record, sam, gamma, ncs, seed });
  await writeFilesAtomic([{ path: out, data: bytes }]);
  const h = readPlanHeader(bytes, out);
  if (values.json) io.out(JSON.stringify({ file: out, bytes: bytes.length, arenaBytes: h.arenaBytes, batch: h.batch, timesteps: h.timesteps, outputs: h.outputs.map((o) => o.file.slice(0, -4)) }));
  else
    io.out(`wrote ${out}: ${formatBytes(bytes.length)}, an arena of ${formatBytes(h.arenaBytes)}; batch ${h.batch}, ${h.timesteps} steps; ` +
      `records ${h.outputs.length ? h.outputs.map((o) => o.file.slice(0, -4)).join(', ') : 'the scores only'}`);
  return 0;
}
