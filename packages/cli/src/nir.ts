import { PRESET_NAMES, UsageError, type NirImportOptions } from '@spikelens/sam';
import type { Options } from './args.js';
import { choice, list, num, str } from './args.js';

/** Flags that say what a .nir file cannot: how to discretise it and what its input is. */
export const NIR_FLAGS: Options = {
  preset: { type: 'string' },
  dt: { type: 'string' },
  integration: { type: 'string' },
  reset: { type: 'string' },
  'reset-delay': { type: 'boolean' },
  readout: { type: 'string' },
  encoding: { type: 'string' },
  gain: { type: 'string' },
  scale: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  labels: { type: 'string' },
};

/** Time steps of a NIR model run on an image when --timesteps is not given (snnTorch's tutorials use 25). */
export const NIR_DEFAULT_TIMESTEPS = 25;
/** Pixel scale of a NIR model's image input by default: 8-bit pixels to [0, 1], as torchvision's ToTensor. */
export const NIR_DEFAULT_SCALE = 1 / 255;

export const NIR_HELP = `NIR models (.nir; NIR stores no time step, reset rule, encoding or labels):
  --preset P            how to discretise: ${PRESET_NAMES.join(', ')} (default snntorch; docs/nir.md)
  --dt DT               time step the file's time constants are read with (default: the preset's)
  --integration RULE    euler (beta = 1 - dt/tau) or exp (beta = exp(-dt/tau)) (default: the preset's)
  --reset R             subtract, zero or none (default: the preset's)
  --reset-delay         apply a spike's reset at the next step, as snnTorch; --no-reset-delay: in the same step
                        (default: the preset's)
  --readout R           count, final or mean (default: count after a spiking last node, final after LI)
  --timesteps T         steps for an image input (default ${NIR_DEFAULT_TIMESTEPS}; a spike train runs its own length)
  --encoding E          direct, poisson or signed-poisson (default direct)
  --gain G              Poisson gain (default 1)
  --scale S             pixel scale (default 1/255)
  --mean M1[,M2..]      per-channel mean (default 0)
  --std S1[,S2..]       per-channel std (default 1)
  --labels A,B,..       class names (default none)
A file written by 'spikelens convert' records its dt and reset rule; without --preset or these flags they are used.`;

function numbers(values: Record<string, unknown>, key: string): number[] | undefined {
  const items = list(values, key);
  if (!items) return undefined;
  return items.map((s) => {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new UsageError(`--${key} must be numbers separated by commas, not "${s.slice(0, 40)}"`);
    return n;
  });
}

/** The NIR import options the flags give; a usage error when any is given for a model that is not .nir. */
export function nirOptions(values: Record<string, unknown>, isNir: boolean, timesteps: number | undefined): NirImportOptions {
  const given = Object.keys(NIR_FLAGS).filter((k) => values[k] !== undefined);
  if (!isNir) {
    if (given.length) throw new UsageError(`--${given[0]} applies to .nir models only`);
    return {};
  }
  const delay = values['reset-delay'] as boolean | undefined;
  const std = numbers(values, 'std');
  if (std?.some((s) => s === 0)) throw new UsageError('--std must not contain 0');
  return {
    preset: choice(values, 'preset', PRESET_NAMES),
    dt: num(values, 'dt', (n) => n > 0, 'a number > 0'),
    integration: choice(values, 'integration', ['euler', 'exp'] as const),
    reset: choice(values, 'reset', ['subtract', 'zero', 'none'] as const),
    resetDelay: delay,
    readout: choice(values, 'readout', ['count', 'final', 'mean'] as const),
    timesteps: timesteps ?? NIR_DEFAULT_TIMESTEPS,
    encoding: choice(values, 'encoding', ['direct', 'poisson', 'signed-poisson'] as const),
    gain: num(values, 'gain', (n) => n > 0, 'a number > 0'),
    scale: num(values, 'scale', (n) => n > 0, 'a number > 0') ?? NIR_DEFAULT_SCALE,
    mean: numbers(values, 'mean'),
    std,
    labels: list(values, 'labels') ?? null,
  };
}
