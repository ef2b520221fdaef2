import { LIMITS, UsageError, parseModel, readNir, writeNir } from '@spikelens/sam';
import { readBytes, writeFilesAtomic } from '@spikelens/sam/node';
import { extname } from 'node:path';
import { COMMON, int, num, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { NIR_FLAGS, NIR_HELP, nirOptions } from '../nir.js';

export const CONVERT_HELP = `Usage: spikelens convert IN.nir -o OUT.safetensors [NIR options]
       spikelens convert IN.safetensors -o OUT.nir [--dt DT] [--no-hints]

Converts between NIR (the Neuromorphic Intermediate Representation that snnTorch, Norse, SpikingJelly, Sinabs and
Rockpool export) and spikelens models.

  -o, --out FILE        the file to write (replaced if it exists; written only when complete)
  --no-hints            (to .nir) do not record the time step and reset rule in the neuron nodes' metadata
  -h, --help            this help

To .nir, neurons are written as snnTorch writes a Leaky: tau = dt/(1-beta), r = tau/dt, v_leak 0, with --dt
(default 1e-4, snnTorch's); tau is chosen so that 1 - dt/tau gives the model's beta back exactly. NIR has no max
pooling, ReLU or per-step affine: models with them cannot be written.

${NIR_HELP}`;

export async function convertCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    ...NIR_FLAGS,
    out: { type: 'string', short: 'o' },
    timesteps: { type: 'string', short: 't' },
    'no-hints': { type: 'boolean' },
  });
  if (values.help) {
    io.out(CONVERT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IN' : `one IN file expected, got ${positionals.length} arguments`);
  const inFile = positionals[0];
  const outFile = str(values, 'out');
  if (!outFile) throw new UsageError('missing -o OUT');
  const from = extname(inFile).toLowerCase();
  const to = extname(outFile).toLowerCase();
  if (from === '.nir' && to === '.safetensors') {
    if (values['no-hints']) throw new UsageError('--no-hints applies when writing .nir');
    const timesteps = int(values, 'timesteps', 1, LIMITS.timesteps);
    const r = await readNir(await readBytes(inFile), inFile, nirOptions(values, true, timesteps));
    for (const w of r.warnings) io.warn(`warning: ${inFile}: ${w}`);
    await writeFilesAtomic([{ path: outFile, data: r.safetensors }]);
    io.out(`${inFile} -> ${outFile}: ${r.model.layers.length} layers (${r.model.layers.map((l) => l.op).join(', ')})`);
    return 0;
  }
  if (from === '.safetensors' && to === '.nir') {
    const dt = num(values, 'dt', (n) => n > 0, 'a number > 0');
    const rest = Object.keys(NIR_FLAGS).filter((k) => k !== 'dt' && values[k] !== undefined);
    if (rest.length || values.timesteps !== undefined) throw new UsageError(`--${rest[0] ?? 'timesteps'} applies when reading .nir`);
    const model = parseModel(await readBytes(inFile), inFile);
    const bytes = await writeNir(model, { dt, hints: !values['no-hints'] });
    await writeFilesAtomic([{ path: outFile, data: bytes }]);
    io.out(`${inFile} -> ${outFile}: ${model.layers.length} layers, ${bytes.length} bytes`);
    return 0;
  }
  throw new UsageError(`convert reads .nir and writes .safetensors, or the reverse; not ${from || 'no extension'} to ${to || 'no extension'}`);
}
