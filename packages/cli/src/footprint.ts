import { FOOTPRINT_PARTS, LIMITS, UsageError, footprint, formatBytes, type Footprint, type Model, type Part } from '@spikelens/sam';
import { int, list, type Options } from './args.js';
import type { Io } from './io.js';

/** `spikelens info --footprint` and its options (docs/cli.md). */
export const FOOTPRINT_FLAGS: Options = {
  footprint: { type: 'boolean' },
  batch: { type: 'string' },
  record: { type: 'string' },
  sam: { type: 'string' },
  threads: { type: 'string' },
  'block-steps': { type: 'string' },
};

export const FOOTPRINT_HELP = `Footprint (docs/embedding.md):
  --footprint           the memory a run takes, before it runs: the arena's bytes by part (weights, neuron state,
                        SAM traces, windows, scratch, plan records, input and readout) and the core's own
                        static memory, as \`spikelens run\` with these options lays it out
  --batch B             samples run at once (default 1)
  --timesteps T         steps of the run (default the model's)
  --record L1,L2|all    layers recorded (kept by the host, outside the arena)
  --sam L1,L2           layers whose Spike Activation Maps are computed
  --threads N           1 (default) or 2
  --block-steps N       frames every window holds (default: the model's steps, at most 32; 1 is the least memory)`;

const LABELS: Record<Part, string> = {
  weights: 'weights (packed, value tables, parameters)',
  state: 'neuron state',
  sam: 'SAM traces and maps',
  windows: 'activations (windows)',
  scratch: 'scratch (lists, flags, counters)',
  program: 'plan records',
  io: 'input, encoder, readout',
};

/** Whether any footprint option is given; they apply with --footprint only. */
export function checkFootprintFlags(values: Record<string, unknown>): boolean {
  const given = ['batch', 'record', 'sam', 'threads', 'block-steps'].filter((k) => values[k] !== undefined);
  if (!values.footprint && given.length > 0) throw new UsageError(`--${given[0]} applies with --footprint only`);
  return values.footprint === true;
}

/** Prints the footprint of `model` for the options given (a table, or one JSON object with --json). */
export function printFootprint(model: Model, values: Record<string, unknown>, timesteps: number | undefined, io: Io): number {
  const recordArg = list(values, 'record');
  if (recordArg?.includes('all') && recordArg.length > 1) throw new UsageError('--record all stands alone');
  const fp = footprint(model, {
    batch: int(values, 'batch', 1, 1_000_000) ?? 1,
    timesteps,
    record: recordArg?.[0] === 'all' ? 'all' : recordArg,
    sam: list(values, 'sam'),
    threads: int(values, 'threads', 1, 2) ?? 1,
    blockSteps: int(values, 'block-steps', 1, LIMITS.timesteps),
    // as `spikelens run` does: it counts synaptic operations
    countSops: true,
  });
  if (values.json) {
    io.out(JSON.stringify({ name: model.name, file: model.file, ...fp }));
    return 0;
  }
  for (const line of footprintTable(model, fp)) io.out(line);
  return 0;
}

/** The table `info --footprint` prints. */
export function footprintTable(model: Model, fp: Footprint): string[] {
  const lines = [
    `footprint of ${model.name || model.file} at batch ${fp.batch}, ${fp.timesteps} steps (windows of ${fp.frames} frames), ` +
      `${fp.threads === 2 ? '2 threads' : '1 thread'}`,
  ];
  const rows: string[][] = [['part', 'bytes', '']];
  const row = (label: string, bytes: number): void => void rows.push([label, String(bytes), formatBytes(bytes)]);
  for (const p of FOOTPRINT_PARTS) row(LABELS[p], fp.parts[p]);
  row('alignment padding', fp.padding);
  if (fp.staging > 0) row('staging (weights before packing)', fp.staging);
  row('arena', fp.arena);
  const c = fp.core;
  row(`core static (${c.build}, below the arena)`, c.heapBase);
  row('memory', fp.memory);
  const width = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) lines.push(`${r[0].padEnd(width[0])}  ${r[1].padStart(width[1])}  ${r[2]}`.trimEnd());
  lines.push(
    `weights plus state: ${formatBytes(fp.parts.weights + fp.parts.state)}; memory: ${fp.pages} pages of 64 KiB` +
      `${fp.fits ? '' : ' (more than a network may take)'}`,
  );
  lines.push(
    c.listScratchStatic
      ? `the core keeps ${formatBytes(c.listScratch)} of static list scratch below its heap base` +
        (c.dataSegments ? `, and ${formatBytes(c.dataBytes)} of constants (${c.dataSegments} data segments)` : ' (no data segment)')
      : `the core keeps no static scratch: each thread's ${formatBytes(c.listScratch)} of list scratch is in the arena`,
  );
  const host = fp.outputs.record + fp.outputs.sam;
  if (host > 0) lines.push(`outputs of ${fp.timesteps} steps, kept by the host outside this memory: ${formatBytes(host)}`);
  return lines;
}
