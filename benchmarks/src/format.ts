/** The human-readable report of one workload: what README.md pastes. */
import type { WorkloadResult } from './bench.js';
import type { TrainResult } from './train-bench.js';
import { PROFILE_SYSTEMS } from './profile.js';
import { mib, pct, range, sig, table } from './report.js';

export function formatResult(r: WorkloadResult): string {
  const out: string[] = [];
  out.push('');
  out.push(
    `${r.id} ${r.name}: batch ${r.batch}, T ${r.timesteps}; ${r.countedRuns} counted runs per system after ` +
      `${r.warmups} warm-up round, alternated; one image = all T steps (setInput + run), medians [min-max]`,
  );
  out.push(
    `work per image: ${sig(r.sopsPerImage / 1e6)} M SOP (core's countSops, equal to this package's docs/semantics.md §10 count), ` +
      `${sig(r.denseMacsPerImage / 1e9)} G dense MAC`,
  );
  out.push('');
  const twin = r.rows.find((row) => row.system === 'twin')!;
  out.push(
    table(
      ['system', 'images/s', 'G SOP/s', 'dense GMAC/s', 'x twin (paired)', 'x twin (medians)', 'arena bytes'],
      r.rows.map((row) => [
        row.system + (row.stepsTimed < r.timesteps ? ` (timed on ${row.stepsTimed} steps, scaled)` : ''),
        range(row.imagesPerSecond.median, row.imagesPerSecond.min, row.imagesPerSecond.max),
        sig(row.gSopPerSecond),
        sig(row.denseGMacPerSecond),
        range(row.vsTwin.median, row.vsTwin.min, row.vsTwin.max),
        sig(row.imagesPerSecond.median / twin.imagesPerSecond.median),
        row.arenaBytes === null ? '-' : String(row.arenaBytes),
      ]),
    ),
  );
  out.push('');
  for (const row of r.rows) out.push(`  ${row.system}: ${row.description}`);
  out.push('');
  const rates = Object.entries(r.verified.firingRates).map(([name, rate]) => `${name} ${pct(rate)}`);
  out.push(`firing rates (spikes per neuron per step, all systems, checked bit-exact): input ${pct(r.verified.inputRate)}, ${rates.join(', ')}`);
  const ev = Object.entries(r.verified.eventSteps.core).map(([name, n]) => `${name} ${n}/${r.timesteps}`);
  out.push(`event-path steps of the default core (the twin takes the same): ${ev.join(', ')}`);
  const cal = r.calibration.map((c) => `${c.layer} x${sig(c.scale)} -> ${c.spiking} ${pct(c.rate)} (target ${pct(c.target)})`);
  out.push(`weight scales (uniform [-1,1) x scale, rounded to 1/1024): ${cal.join('; ')}; fc x1/32`);
  out.push(`peak RSS (whole process, all systems): ${mib(r.maxRssKiB * 1024)}; workload build ${r.buildSeconds.toFixed(1)} s (untimed)`);
  out.push('');
  out.push(`per-stage profile: each stage rebuilt alone and fed the spike train it gets in the full run; ms per image, median of ${r.profileRuns}`);
  const systems = PROFILE_SYSTEMS;
  const rows = r.profile.map((p) => [
    p.stage,
    pct(p.inputDensity),
    `${p.eventSteps}/${r.timesteps}`,
    sig(p.sopsPerImage / 1e6),
    sig(p.denseMacsPerImage / 1e6),
    ...systems.map((s) => sig(p.ms[s].median)),
    sig(p.sopsPerImage / (p.ms.spikelens.median * 1e6)),
    sig(p.ms.twin.median / p.ms.spikelens.median),
  ]);
  const sum = (s: string): number => r.profile.reduce((a, p) => a + p.ms[s].median, 0);
  rows.push(['sum of stages', '', '', sig(r.profile.reduce((a, p) => a + p.sopsPerImage, 0) / 1e6),
    sig(r.profile.reduce((a, p) => a + p.denseMacsPerImage, 0) / 1e6), ...systems.map((s) => sig(sum(s))), '',
    sig(sum('twin') / sum('spikelens'))]);
  const full = r.rows.map((row) => [row.system, 1e3 / row.imagesPerSecond.median] as const);
  rows.push(['full network', '', '', '', '', ...systems.map((s) => sig(full.find(([n]) => n === s)?.[1] ?? NaN)), '', '']);
  out.push(
    table(['stage', 'in density', 'event', 'M SOP', 'M MAC', 'spikelens', 'dense', 'event-only', 'twin', 'G SOP/s', 'twin/core'], rows),
  );
  out.push(`whole ${r.id}: ${r.seconds.toFixed(1)} s`);
  return out.join('\n');
}

/** The report of T1: training images/s per system and the ratio to the PyTorch peer with the same threads. */
export function formatTrainResult(r: TrainResult): string {
  const out: string[] = [];
  out.push('');
  out.push(
    `${r.id} ${r.name}: cnn-s (mnist-lif-bptt's architecture), T ${r.timesteps}, direct encoding, atan surrogate, Adam lr ${r.config.lr}; ` +
      `one image = forward + backward + optimizer step (its share); ${r.countedRuns} counted runs per system after ` +
      `${r.warmups} warm-up round${r.warmups === 1 ? '' : 's'}, alternated; medians [min-max]`,
  );
  out.push(
    `per run: ${r.images} MNIST training images for the ${r.batch}-batch rows, ${r.coreImages} for the 1-thread rows; ` +
      `the first ${r.skip} batches/steps of each run and all start-up are off the clock`,
  );
  out.push('');
  const rows = r.rows.map((row) => [
    row.system,
    String(row.threads),
    String(row.batch),
    range(row.imagesPerSecond.median, row.imagesPerSecond.min, row.imagesPerSecond.max),
    row.vsTorch ? range(row.vsTorch.median, row.vsTorch.min, row.vsTorch.max) : '-',
    row.vsTorchMedians === null ? '-' : sig(row.vsTorchMedians),
  ]);
  out.push(table(['system', 'threads', 'batch', 'train images/s', 'spikelens/PyTorch (paired)', 'spikelens/PyTorch (medians)'], rows));
  out.push('');
  for (const row of r.rows) out.push(`  ${row.system}: ${row.description}`);
  if (!r.torch.available) out.push(`  pytorch: ${r.torch.message}`);
  else out.push(`  PyTorch ${r.torch.version} (${r.torch.python}); the ratio compares each spikelens row with the PyTorch row of the same threads and batch`);
  out.push('');
  for (const [system, rates] of Object.entries(r.firingRates)) {
    out.push(`firing rates, last run, ${system}: ${Object.entries(rates).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`);
  }
  out.push(`peak RSS (this process; the training workers are threads in it): ${mib(r.maxRssKiB * 1024)}; MNIST load ${r.datasetSeconds.toFixed(1)} s (untimed)`);
  out.push(`whole ${r.id}: ${r.seconds.toFixed(1)} s`);
  return out.join('\n');
}
