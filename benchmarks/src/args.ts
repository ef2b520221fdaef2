/** Command line of `pnpm bench [-- flags]`: usage errors exit 2 with one line and a pointer to --help. */
export interface Args {
  readonly only: readonly string[] | null;
  readonly quick: boolean;
  readonly help: boolean;
  /** Fit every workload's weight scales again instead of taking the fitted ones (suite-workloads.ts FITTED). */
  readonly calibrate: boolean;
  /** Counted rounds per workload, overriding the default and --quick (smoke runs). */
  readonly runs: number | null;
  /** T1: training images per 2-thread run (default 3200), for smoke runs. */
  readonly t1Images: number | null;
}

export class UsageError extends Error {}

/** Workloads BENCHMARKS.md defines that this package does not run yet. */
const NOT_YET: string[] = [];

export const USAGE = `usage: pnpm bench [-- --only B1,B3] [--quick] [--runs N] [--t1-images N] [--calibrate] [--help]
  --only IDS       run only these workloads (known: %KNOWN%); B1-PROFILE (B1 against the twin with the
                   per-stage profile) is not in the default run
  --quick          BENCHMARKS.md's quick run: PEAK, B1-B4 with B3 at N 4096 only, and E1; 2 counted rounds after 1
                   warm-up (5 in the full run), the JavaScript peers 1, E1 10 (20 in the full run); no T1 (give
                   --only T1 --quick for it: 2 rounds, no warm-up)
  --runs N         exactly N counted rounds per workload (overrides --quick; E1 takes at least 5; for smoke runs)
  --t1-images N    T1: training images per 2-thread run (default 3200; the 1-thread rows use min(N, 640));
                   at least 64, a multiple of 32; for smoke runs, e.g. --t1-images 320
  --calibrate      fit every workload's weight scales by bisection instead of taking the fitted ones (which are
                   checked against the target firing rates on every run) and print them
  --help           this text
Writes benchmarks/results/latest.json with every run.`;

function positiveInt(flag: string, value: string | undefined, min: number): number {
  if (!value || value.startsWith('--')) throw new UsageError(`${flag} needs a number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer of at least ${min}, not ${JSON.stringify(value)}`);
  return n;
}

export function parseArgs(argv: readonly string[], known: readonly string[]): Args {
  let only: string[] | null = null;
  let quick = false;
  let help = false;
  let calibrate = false;
  let runs: number | null = null;
  let t1Images: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // pnpm may pass its own `--` separator through.
    if (arg === '--') continue;
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--calibrate') calibrate = true;
    else if (arg === '--runs' || arg.startsWith('--runs=')) {
      runs = positiveInt('--runs', arg === '--runs' ? argv[++i] : arg.slice('--runs='.length), 1);
    } else if (arg === '--t1-images' || arg.startsWith('--t1-images=')) {
      t1Images = positiveInt('--t1-images', arg === '--t1-images' ? argv[++i] : arg.slice('--t1-images='.length), 64);
      if (t1Images % 32 !== 0) throw new UsageError(`--t1-images must be a multiple of the batch 32, not ${t1Images}`);
    } else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value || value.startsWith('--')) throw new UsageError('--only needs a workload id, e.g. --only B1');
      // Ids match whatever their case (b1x16 is B1x16), and come back as the known spelling.
      const ids = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => known.find((k) => k.toUpperCase() === s.toUpperCase()) ?? s.toUpperCase());
      const unknown = ids.filter((id) => !known.includes(id));
      const later = unknown.filter((id) => NOT_YET.includes(id));
      if (later.length) throw new UsageError(`--only: ${later.join(', ')} is not implemented yet (known: ${known.join(', ')})`);
      if (unknown.length) throw new UsageError(`--only: unknown workload ${unknown.join(', ')} (known: ${known.join(', ')})`);
      only = [...(only ?? []), ...ids];
    } else throw new UsageError(`unknown flag ${JSON.stringify(arg)}`);
  }
  return { only, quick, help, calibrate, runs, t1Images };
}
