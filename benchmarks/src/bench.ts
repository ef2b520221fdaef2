/**
 * One workload end to end: build (off the clock), check the peers agree bit for bit, time them alternately, profile
 * the stages, and return everything the table and the JSON file need.
 */
import { Network, denseMacsPerStep, type NetworkInput } from '@spikelens/sam';
import { alternate, counted, pairedRatios, stats, type Contender, type Run, type Stats } from './measure.js';
import { profileStages, type StageProfile } from './profile.js';
import { TwinNetwork } from './twin-network.js';
import { verifyBitExact, type Verified } from './verify.js';
import type { Calibration, Workload } from './workloads.js';

export interface SystemRow {
  readonly system: string;
  readonly description: string;
  /** Per image, over the counted runs. */
  readonly imagesPerSecond: Stats;
  readonly gSopPerSecond: number;
  readonly denseGMacPerSecond: number;
  /** Per counted round: twin seconds / this system's seconds. */
  readonly vsTwin: Stats;
  readonly arenaBytes: number | null;
  readonly stepsTimed: number;
}

export interface WorkloadResult {
  readonly id: string;
  readonly name: string;
  readonly batch: number;
  readonly timesteps: number;
  readonly warmups: number;
  readonly countedRuns: number;
  readonly calibration: readonly Calibration[];
  readonly buildSeconds: number;
  readonly verified: Verified;
  readonly sopsPerImage: number;
  readonly denseMacsPerImage: number;
  readonly rows: readonly SystemRow[];
  readonly runs: readonly Run[];
  readonly profile: readonly StageProfile[];
  readonly profileRuns: number;
  readonly maxRssKiB: number;
  readonly seconds: number;
}

const DESCRIPTIONS: Record<string, string> = {
  spikelens: 'WebAssembly core, event path per layer per step below 60 % input density (20 % for fewer than 64 inputs per output; the default)',
  'spikelens-dense': 'WebAssembly core, eventThreshold 0 (dense SIMD conv only)',
  'spikelens-event': 'WebAssembly core, eventThreshold 4 (event path wherever allowed)',
  twin: 'plain TypeScript twins of the kernels, same path rule as the default core',
};

export interface BenchOptions {
  readonly warmups: number;
  readonly runs: number;
  readonly profileRuns: number;
  readonly log: (line: string) => void;
}

export async function benchWorkload(w: Workload, o: BenchOptions): Promise<WorkloadResult> {
  const started = performance.now();
  const T = w.timesteps;
  const input: NetworkInput = { kind: 'pixels', data: w.pixels };
  o.log(`${w.id}: checking spikelens, spikelens-dense and twin agree bit for bit over ${T} steps ...`);
  const verified = await verifyBitExact(w.model, input, { batch: w.batch, seed: w.seed, steps: T });
  o.log(`${w.id}: bit-exact over ${verified.valuesCompared} values; SOPs per image ${verified.sopsPerImage.core} (core = ours)`);

  const nets = {
    spikelens: await Network.create(w.model, { batch: w.batch, seed: w.seed }),
    'spikelens-dense': await Network.create(w.model, { batch: w.batch, seed: w.seed, eventThreshold: 0 }),
    'spikelens-event': await Network.create(w.model, { batch: w.batch, seed: w.seed, eventThreshold: 4 }),
  };
  const contenders: Contender[] = [
    ...Object.entries(nets).map(([name, sys]) => ({ name, sys, steps: T })),
    { name: 'twin', sys: new TwinNetwork(w.model, { batch: w.batch, seed: w.seed }), steps: T },
  ];
  o.log(`${w.id}: timing ${contenders.map((c) => c.name).join(', ')} alternately: ${o.warmups} warm-up + ${o.runs} counted rounds`);
  const runs = alternate(contenders, input, T, o.warmups, o.runs, (r) =>
    o.log(`  round ${r.round}${r.warmup ? ' (warm-up)' : ''} ${r.system}: ${(r.seconds * 1e3).toFixed(1)} ms/image`),
  );

  const sopsPerImage = verified.sopsPerImage.core;
  const denseMacsPerImage = denseMacsPerStep(w.model) * T;
  const rows = contenders.map((c): SystemRow => {
    const ips = counted(runs, c.name).map((s) => w.batch / s);
    const s = stats(ips);
    const arena = c.name in nets ? nets[c.name as keyof typeof nets].arena.size : null;
    return {
      system: c.name,
      description: DESCRIPTIONS[c.name],
      imagesPerSecond: s,
      gSopPerSecond: (sopsPerImage * s.median) / 1e9,
      denseGMacPerSecond: (denseMacsPerImage * s.median) / 1e9,
      vsTwin: stats(pairedRatios(runs, 'twin', c.name)),
      arenaBytes: arena,
      stepsTimed: c.steps,
    };
  });

  o.log(`${w.id}: per-stage profile, 1 warm-up + ${o.profileRuns} counted rounds ...`);
  const profile = await profileStages(w, 1, o.profileRuns);
  return {
    id: w.id,
    name: w.name,
    batch: w.batch,
    timesteps: T,
    warmups: o.warmups,
    countedRuns: o.runs,
    calibration: w.calibration,
    buildSeconds: w.buildSeconds,
    verified,
    sopsPerImage,
    denseMacsPerImage,
    rows,
    runs,
    profile,
    profileRuns: o.profileRuns,
    maxRssKiB: process.resourceUsage().maxRSS,
    seconds: (performance.now() - started) / 1000,
  };
}
