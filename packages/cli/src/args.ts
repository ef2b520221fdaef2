import { UsageError } from '@spikelens/sam';

/** One option: a value (`string`) or a switch (`boolean`), with an optional one-letter alias. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}
export type Options = Record<string, OptionSpec>;

/** An argument as it appears in a message: a long one cut short. */
function shown(arg: string): string {
  return arg.length <= 40 ? arg : `${arg.slice(0, 37)}...`;
}

/**
 * Strict option parsing in our own words (exit 2 for every problem, naming the option):
 * - a value option takes `--opt value`, `--opt=value` or `-o value`; its value may start with '-' (`--gamma -1`),
 *   but a missing value is an error, never the next option taken as the value;
 * - a switch is `--opt` (true), `--no-opt` (false), `--opt=true|false`, or `--opt true|false` (as older docs wrote
 *   `--reset-delay true`);
 * - `--` ends the options: everything after it is positional.
 */
export function parse(argv: readonly string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const values: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) if (spec.short) byShort.set(spec.short, name);
  const isOption = (a: string | undefined): boolean =>
    a !== undefined && ((a.startsWith('--') && a.length > 2) || (/^-[A-Za-z]$/.test(a) && byShort.has(a[1])));

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-[\d.]/.test(arg)) {
      const long = arg.length === 2 ? byShort.get(arg[1]) : undefined;
      if (long === undefined) throw new UsageError(`unknown option ${shown(arg)}`);
      name = long;
    } else {
      positionals.push(arg);
      continue;
    }
    let spec = Object.hasOwn(options, name) ? options[name] : undefined;
    let negated = false;
    if (!spec && name.startsWith('no-') && options[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      spec = options[name];
      negated = true;
    }
    if (!spec) throw new UsageError(`unknown option --${shown(name)}`);
    if (values[name] !== undefined) throw new UsageError(`--${name} is given twice`);
    if (spec.type === 'boolean') {
      if (negated && inline !== undefined) throw new UsageError(`--no-${name} takes no value`);
      let value = !negated;
      const word = inline ?? (argv[i + 1] === 'true' || argv[i + 1] === 'false' ? argv[++i] : undefined);
      if (word !== undefined) {
        if (word !== 'true' && word !== 'false') throw new UsageError(`--${name} is a switch: give --${name}, --no-${name} or --${name}=true|false, not "${shown(word)}"`);
        value = word === 'true';
      }
      values[name] = value;
    } else {
      if (negated) throw new UsageError(`unknown option --no-${name}`);
      let value = inline;
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || isOption(next)) throw new UsageError(`--${name} needs a value`);
        value = next;
        i++;
      }
      values[name] = value;
    }
  }
  return { values, positionals };
}

export function str(values: Record<string, unknown>, key: string): string | undefined {
  const v = values[key];
  return typeof v === 'string' ? v : undefined;
}

export function num(values: Record<string, unknown>, key: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${key} must be ${what}, not "${shown(v)}"`);
  return n;
}

export function int(values: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  return num(values, key, (n) => Number.isInteger(n) && n >= min && n <= max, `an integer from ${min} to ${max}`);
}

export function choice<T extends string>(values: Record<string, unknown>, key: string, allowed: readonly T[]): T | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, not "${shown(v)}"`);
  return v as T;
}

export function list(values: Record<string, unknown>, key: string): string[] | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${key} needs at least one name`);
  const twice = items.find((x, i) => items.indexOf(x) !== i);
  if (twice !== undefined) throw new UsageError(`--${key} names "${shown(twice)}" twice`);
  return items;
}

/** A byte count: `1000000`, `512M`, `8G` (powers of 1024: K, M, G, T; an optional trailing B or iB). */
export function size(values: Record<string, unknown>, key: string): number | undefined {
  const v = str(values, key);
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(v);
  const n = m ? Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2].toUpperCase() || ' ') : NaN;
  if (!Number.isFinite(n) || n < 1) throw new UsageError(`--${key} must be a size such as 500M or 8G, not "${shown(v)}"`);
  return Math.floor(n);
}

export const COMMON: Options = {
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
};
