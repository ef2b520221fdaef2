/** The suite's table per workload and its PNG chart (images/s per workload, one bar per system, log scale). */
import { copyFileSync, writeFileSync } from 'node:fs';
import { createImage, drawText, fillRect, textWidth, type Rgb } from '@spikelens/sam';
import { encodePng } from '@spikelens/sam/node';
import { mib, pct, range, sig, table } from './report.js';
import type { SuiteResult } from './suite.js';

const TARGETS: Record<string, string> = {
  B1: 'target: spikelens >= 2.0x PyTorch at batch 1',
  B1x16: 'target: spikelens >= 1.5x PyTorch at batch 16',
  B2: 'targets: spikelens+SAM >= 2.0x PyTorch inference alone, >= 20x PyTorch + the paper\'s SAM; SAM <= 5 % of inference',
  B3: 'target: spikelens >= 2.0x PyTorch',
  'B3-8192': 'target: spikelens >= 2.0x PyTorch',
  B4: 'target: one MNIST step with SAM under 1 ms in Node',
};

export function formatSuite(r: SuiteResult): string {
  const out: string[] = [''];
  out.push(`${r.id} ${r.name}: batch ${r.batch}, T ${r.timesteps}; medians [min-max] of the counted runs, alternated run by run`);
  if (r.sopsPerImage) out.push(`work per image: ${sig(r.sopsPerImage / 1e6)} M SOP, ${sig(r.denseMacsPerImage / 1e9)} G dense MAC`);
  out.push(r.verified ? `checked: PyTorch ${r.verified.torch} computes the same spikes, bit for bit (${r.verified.valuesCompared} values)` : 'no PyTorch check');
  out.push('');
  const unit = r.id === 'B4' ? 'steps/s' : 'images/s';
  out.push(
    table(
      ['system', unit, 'x PyTorch (paired)', 'G SOP/s', 'dense GMAC/s', 'arena'],
      r.rows.map((row) => [
        row.system,
        range(row.imagesPerSecond.median, row.imagesPerSecond.min, row.imagesPerSecond.max),
        row.vsTorch ? range(row.vsTorch.median, row.vsTorch.min, row.vsTorch.max) : '-',
        r.sopsPerImage ? sig((r.sopsPerImage * row.imagesPerSecond.median) / 1e9) : '-',
        r.id === 'B4' ? '-' : sig((r.denseMacsPerImage * row.imagesPerSecond.median) / 1e9),
        row.arenaBytes === null ? '-' : mib(row.arenaBytes),
      ]),
    ),
  );
  out.push('');
  for (const row of r.rows) out.push(`  ${row.system}: ${row.description}`);
  const rates = Object.entries(r.firingRates).map(([n, v]) => `${n} ${pct(v)}`).join(', ');
  out.push(`firing rates: input ${pct(r.inputRate)}, ${rates}`);
  for (const n of r.notes) out.push(n);
  if (r.profile.length) {
    const total = r.profile.reduce((a, p) => a + p.ms.spikelens.median, 0);
    out.push('', `where spikelens' time goes (one thread, each stage alone on its recorded input, ms per image, medians of ${r.profile[0].ms.spikelens.n}):`);
    out.push(
      table(
        ['stage', 'ms', 'share', 'input nonzero', 'event steps', 'G SOP/s', 'dense GMAC/s'],
        r.profile.map((p) => [
          p.stage,
          sig(p.ms.spikelens.median),
          pct(p.ms.spikelens.median / total),
          pct(p.inputDensity),
          `${p.eventSteps}/${r.timesteps}`,
          sig(p.sopsPerImage / p.ms.spikelens.median / 1e6),
          sig(p.denseMacsPerImage / p.ms.spikelens.median / 1e6),
        ]),
      ),
    );
  }
  out.push(TARGETS[r.id] ?? '');
  out.push(`peak RSS so far ${mib(r.maxRssKiB * 1024)}; build ${r.buildSeconds.toFixed(1)} s (untimed${r.scales === 'fitted' ? ', fitted weight scales, rates checked' : r.scales === 'calibrated' ? ', weight scales calibrated in this run' : ''}); workload ${r.seconds.toFixed(1)} s`);
  return out.join('\n');
}

const COLORS: Record<string, Rgb> = {
  spikelens: [255, 176, 0],
  'spikelens x2': [255, 214, 102],
  'spikelens+SAM': [255, 120, 40],
  'spikelens+SAM x2': [255, 160, 90],
  'spikelens (Node)': [255, 176, 0],
  'torch-layerwise': [80, 140, 230],
  'torch-stepwise': [120, 180, 255],
  'torch+paperSAM': [60, 90, 170],
  'tfjs-wasm': [120, 200, 120],
  onnxruntime: [190, 120, 220],
  'spikelens (browser worker)': [255, 232, 160],
  twin: [150, 150, 150],
};

/** One group of bars per workload, heights log10(images/s), labels under and values above. */
export function writeChart(results: readonly SuiteResult[], file: string, copyTo: string | null): void {
  const groups = results.map((r) => ({ id: r.id, rows: r.rows.map((row) => ({ name: row.system, v: row.imagesPerSecond.median })) }));
  const barW = 22;
  const gap = 40;
  const H = 420;
  const top = 60;
  const bottom = 70;
  const left = 70;
  const width = left + groups.reduce((a, g) => a + g.rows.length * barW + gap, 0) + 220;
  const img = createImage(width, H, [18, 20, 26]);
  const all = groups.flatMap((g) => g.rows.map((r) => r.v)).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...all)));
  const hi = Math.ceil(Math.log10(Math.max(...all)));
  const y = (v: number) => Math.round(top + (H - top - bottom) * (1 - (Math.log10(v) - lo) / Math.max(1, hi - lo)));
  drawText(img, 'images/s (log scale), median; steps/s for B4', left, 16, 2, [236, 238, 242]);
  for (let p = lo; p <= hi; p++) {
    fillRect(img, left - 4, y(10 ** p), width - left - 200, 1, [58, 63, 74]);
    drawText(img, p >= 0 ? String(10 ** p) : `1e${p}`, 8, y(10 ** p) - 4, 1, [160, 166, 178]);
  }
  let x = left;
  for (const g of groups) {
    for (const r of g.rows) {
      const yy = y(Math.max(r.v, 10 ** lo));
      fillRect(img, x, yy, barW - 4, H - bottom - yy, COLORS[r.name] ?? [200, 200, 200]);
      const label = r.v >= 100 ? r.v.toFixed(0) : r.v >= 10 ? r.v.toFixed(1) : r.v.toPrecision(2);
      drawText(img, label, x, yy - 10, 1, [236, 238, 242]);
      x += barW;
    }
    drawText(img, g.id, x - (g.rows.length * barW) / 2 - textWidth(g.id, 2) / 2, H - bottom + 10, 2, [236, 238, 242]);
    x += gap;
  }
  let ly = top;
  for (const [name, c] of Object.entries(COLORS)) {
    if (!groups.some((g) => g.rows.some((r) => r.name === name))) continue;
    fillRect(img, width - 190, ly, 12, 12, c);
    drawText(img, name, width - 170, ly + 2, 1, [220, 222, 228]);
    ly += 20;
  }
  writeFileSync(file, encodePng(img.width, img.height, img.rgba));
  if (copyTo) copyFileSync(file, copyTo);
}
