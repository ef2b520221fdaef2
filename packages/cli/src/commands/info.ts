import { LIMITS, UsageError, denseMacs, layerParams, type Model } from '@spikelens/sam';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';
import { COMMON, int, parse } from '../args.js';
import type { Io } from '../io.js';
import { isNir, loadModel } from '../load.js';
import { planInfo } from '../planinfo.js';
import { FOOTPRINT_FLAGS, FOOTPRINT_HELP, checkFootprintFlags, printFootprint } from '../footprint.js';

export const INFO_HELP = `Usage: spikelens info MODEL [--json] [--footprint [--batch B] [--timesteps T] [--record ...] [--sam ...]] [NIR options]

Lists a model's layers with their output shapes, parameter counts and dense multiply-accumulates per time step
(as if every input were active, docs/semantics.md §10), and the model's input, encoding, time steps and readout. MODEL is a
.safetensors or a .nir file.

  --json       print the same as JSON
  -h, --help   this help

${FOOTPRINT_HELP}

${NIR_HELP}`;

export interface LayerInfo {
  readonly name: string;
  readonly op: string;
  readonly outShape: number[];
  readonly params: number;
  readonly macs: number;
}

export function describe(model: Model): { layers: LayerInfo[]; params: number; macs: number } {
  const layers = model.layers.map((l) => ({ name: l.name, op: l.op, outShape: [...l.outShape], params: layerParams(l), macs: denseMacs(l) }));
  return { layers, params: layers.reduce((a, l) => a + l.params, 0), macs: layers.reduce((a, l) => a + l.macs, 0) };
}

export async function infoCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...COMMON, ...NIR_FLAGS, ...FOOTPRINT_FLAGS, timesteps: { type: 'string', short: 't' } });
  if (values.help) {
    io.out(INFO_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing MODEL' : 'one MODEL expected');
  const file = positionals[0];
  if (file.toLowerCase().endsWith('.slplan')) return planInfo(file, values.json === true, io);
  const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
  const footprint = checkFootprintFlags(values);
  if (timesteps !== undefined && !isNir(file) && !footprint) throw new UsageError('--timesteps applies to .nir models only (a .safetensors model has its own)');
  const model = await loadModel(file, nirOptions(values, isNir(file), timesteps), io.warn);
  if (footprint) return printFootprint(model, values, timesteps, io);
  const d = describe(model);
  const { input } = model;
  if (values.json) {
    io.out(JSON.stringify({
      name: model.name, file: model.file, input: { shape: input.shape, encoding: input.encoding, labels: input.labels },
      timesteps: model.timesteps, readout: model.readout, layers: d.layers, params: d.params, macsPerStep: d.macs,
    }));
    return 0;
  }
  io.out(`model ${model.name || '(unnamed)'}  (${model.file})`);
  io.out(`input [${input.shape.join(',')}], ${input.encoding.kind}${input.encoding.kind !== 'direct' ? ` gain ${input.encoding.gain}` : ''}, ` +
    `timesteps ${model.timesteps ?? 'from the input'}, readout ${model.readout}`);
  const rows = [['layer', 'op', 'output', 'params', 'MACs/step'], ...d.layers.map((l) => [l.name, l.op, `[${l.outShape.join(',')}]`, String(l.params), String(l.macs)])];
  rows.push(['total', '', '', String(d.params), String(d.macs)]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) io.out(r.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '));
  return 0;
}
