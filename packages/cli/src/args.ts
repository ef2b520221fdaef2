import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '@spikelens/sam';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: unknown flags and missing values are usage errors (exit 2), never a stack trace. */
export function parse(argv: readonly string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  // A negative number after a flag that takes a value is that value (`--gamma -1`), not an unknown short flag.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2) : null;
    const next = argv[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else args.push(a);
  }
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(msg);
  }
}

export function str(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function num(values: Record<string, unknown>, key: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${key} must be ${what}, not "${v}"`);
  return n;
}

export function int(values: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  return num(values, key, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer from ${min} to ${max}`);
}

export function choice<T extends string>(values: Record<string, unknown>, key: string, allowed: readonly T[]): T | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, not "${v}"`);
  return v as T;
}

export function list(values: Record<string, unknown>, key: string): string[] | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${key} needs at least one name`);
  return items;
}

export const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
};
