/** Command line of `pnpm bench [-- flags]`: usage errors exit 2 with one line and a pointer to --help. */
export interface Args {
  readonly only: readonly string[] | null;
  readonly quick: boolean;
  readonly help: boolean;
}

export class UsageError extends Error {}

/** Workloads BENCHMARKS.md defines that this package does not run yet. */
const NOT_YET = ['B2', 'B3', 'B4'];

export const USAGE = `usage: pnpm bench [-- --only B1[,..]] [--quick] [--help]
  --only IDS  run only these workloads (known: %KNOWN%)
  --quick     3 counted runs instead of 7 (each after 1 warm-up round)
  --help      this text
Writes benchmarks/results/latest.json with every run.`;

export function parseArgs(argv: readonly string[], known: readonly string[]): Args {
  let only: string[] | null = null;
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // pnpm may pass its own `--` separator through.
    if (arg === '--') continue;
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value || value.startsWith('--')) throw new UsageError('--only needs a workload id, e.g. --only B1');
      const ids = value.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
      const unknown = ids.filter((id) => !known.includes(id));
      const later = unknown.filter((id) => NOT_YET.includes(id));
      if (later.length) throw new UsageError(`--only: ${later.join(', ')} is not implemented yet (known: ${known.join(', ')})`);
      if (unknown.length) throw new UsageError(`--only: unknown workload ${unknown.join(', ')} (known: ${known.join(', ')})`);
      only = [...(only ?? []), ...ids];
    } else throw new UsageError(`unknown flag ${JSON.stringify(arg)}`);
  }
  return { only, quick, help };
}
