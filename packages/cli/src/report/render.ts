/** The report's figures (PNG charts and example grids) and documents (report.md, index.html). */
import {
  composeGrid,
  explain,
  type MeanCI,
  type RgbaImage,
} from '@spikelens/sam';
import { encodePng, loadDataset } from '@spikelens/sam/node';
import { chartPng, curveChart, type ChartSpec } from '../charts.js';
import { aggregatedOverlay } from '../pictures.js';
import type { Claim } from './claims.js';
import { EPS, loadBundled, MODELS, type AdversarialResult, type FaithfulnessResult, type LocalisationResult, type ReportSettings } from './compute.js';

export interface ModelRow {
  readonly name: string;
  readonly dataset: string;
  readonly method: string;
  readonly neuron: string;
  readonly timesteps: number;
  readonly accuracy: number;
  readonly firingRates: Record<string, number>;
}

export interface ReportData {
  readonly settings: ReportSettings;
  readonly models: ModelRow[];
  readonly faithfulness: FaithfulnessResult[];
  readonly localisation: LocalisationResult | null;
  readonly adversarial: AdversarialResult;
  readonly claims: Claim[];
  readonly made: { command: string; versions: Record<string, string>; machine: string; seconds: number; date: string };
}

const bars = (title: string, values: Array<Record<string, unknown>>, y: string, yTitle: string, color = 'method'): ChartSpec => ({
  title, data: { values },
  facet: { column: { field: 'model', type: 'nominal', title: null } },
  spec: {
    width: 150, height: 200,
    layer: [
      { mark: 'bar', encoding: { x: { field: color, type: 'nominal', title: null }, y: { field: y, type: 'quantitative', title: yTitle }, color: { field: color, type: 'nominal', title: color } } },
      { mark: { type: 'errorbar' }, encoding: { x: { field: color, type: 'nominal' }, y: { field: 'lo', type: 'quantitative', title: yTitle }, y2: { field: 'hi' } } },
    ],
  },
});

const point = (model: string, method: string, v: MeanCI | undefined, key: string) =>
  v && Number.isFinite(v.mean) ? [{ model, method, [key]: v.mean, lo: v.mean - v.ci95, hi: v.mean + v.ci95 }] : [];

/** Every figure, by file name. */
export async function figures(d: ReportData, modelsDir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const metric of ['deletion', 'insertion'] as const) {
    const values = d.faithfulness.flatMap((r) => Object.entries(r.summary.methods).flatMap(([m, v]) => point(r.model, m, v[metric], 'auc')));
    out.set(`${metric}.png`, await chartPng(bars(`${metric} AUC (${metric === 'deletion' ? 'lower' : 'higher'} is better), 95 % intervals`, values, 'auc', 'AUC')));
  }
  const lif = d.faithfulness.find((r) => r.model === 'mnist-lif-bptt');
  if (lif?.summary.curves)
    for (const metric of ['deletion', 'insertion'] as const) {
      const curves = Object.fromEntries(Object.entries(lif.summary.curves).flatMap(([m, c]) => (c[metric] ? [[m, c[metric]!]] : [])));
      out.set(`${metric}-curves.png`, await chartPng(curveChart(`${metric} curves, mnist-lif-bptt`, metric === 'deletion' ? 'pixels removed' : 'pixels inserted', curves)));
    }
  if (d.localisation) {
    const values = (['cluttered', 'twoDigit'] as const).flatMap((set) =>
      Object.entries(d.localisation![set].methods).flatMap(([m, v]) =>
        set === 'cluttered'
          ? [...point('pointing game', m, v.pointing, 'share'), ...point('energy in box', m, v.energy, 'share')]
          : [...point('two digits: predicted box', m, v.energy, 'share'), ...point('two digits: other box', m, v.energyOther, 'share')],
      ),
    );
    out.set('localisation.png', await chartPng(bars(`localisation, ${d.localisation.model}`, values, 'share', 'share of images or of map energy')));
  }
  const acc = d.adversarial.curves.flatMap((c) => c.accuracy.map((a, k) => ({ model: c.model, attack: c.method === 'pgd' ? `PGD-${d.settings.pgdSteps}` : 'FGSM', eps: EPS[k], accuracy: a })));
  out.set('attack-accuracy.png', await chartPng({
    title: `accuracy under attack (${d.settings.attackImages} test images)`, data: { values: acc },
    facet: { column: { field: 'attack', type: 'nominal', title: null } },
    spec: { width: 260, height: 220, mark: { type: 'line', point: true }, encoding: {
      x: { field: 'eps', type: 'quantitative', title: 'eps (pixels move by at most 255 eps)' },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] } },
      color: { field: 'model', type: 'nominal', title: 'model' } } },
  }));
  const shift = d.adversarial.shifts.flatMap((s) => s.shift.map((v, k) => ({ maps: s.name, eps: EPS[k], shift: v.mean, rank: s.rank[k].mean })));
  for (const [key, title] of [['shift', 'map shift ||A(x) - A(x\')|| / ||A(x)|| (lower is steadier)'], ['rank', 'rank correlation of clean and attacked maps']] as const)
    out.set(`attack-${key}.png`, await chartPng({
      title: `${title}, PGD-${d.settings.pgdSteps}`, width: 420, height: 240, data: { values: shift }, mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'eps', type: 'quantitative', title: 'eps' },
        y: { field: key, type: 'quantitative', title: key === 'shift' ? 'shift' : 'Spearman rho' },
        color: { field: 'maps', type: 'nominal', title: 'maps' },
      },
    }));
  const rnd = d.faithfulness.flatMap((r) => (r.summary.randomisation ? Object.entries(r.summary.randomisation.methods).flatMap(([m, steps]) => steps.map((v, k) => ({ model: r.model, method: m, layers: k + 1, rho: v.mean }))) : []));
  out.set('randomisation.png', await chartPng({
    title: 'parameter randomisation, cascading from the output (lower: the map depends on the weights)', data: { values: rnd },
    facet: { column: { field: 'model', type: 'nominal', title: null } },
    spec: { width: 150, height: 200, mark: { type: 'line', point: true }, encoding: {
      x: { field: 'layers', type: 'ordinal', title: 'layers re-initialised' },
      y: { field: 'rho', type: 'quantitative', title: 'Spearman rho with the original map', scale: { domain: [-0.2, 1] } },
      color: { field: 'method', type: 'nominal', title: 'method' } } },
  }));
  out.set('examples-models.png', await modelGrid(modelsDir, d.settings.seed));
  return out;
}

/** SAM and Grad-CAM of the same digits by the LIF-BPTT, IF-BPTT and converted networks, and Grad-CAM of the ANN. */
async function modelGrid(modelsDir: string, seed: number): Promise<Uint8Array> {
  const data = await loadDataset('mnist', 'test');
  const digits = [0, 1, 2];
  const pixels = new Float32Array(digits.length * 784);
  digits.forEach((i, k) => pixels.set(Array.from(data.pixels.subarray(i * 784, (i + 1) * 784)), k * 784));
  const tiles: RgbaImage[] = [];
  const labels: string[] = [];
  for (const m of MODELS.filter((x) => x.dataset === 'mnist')) {
    const model = await loadBundled(modelsDir, m.name);
    const methods = m.snn ? ['sam', 'gradcam'] : ['gradcam'];
    const es = await Promise.all(methods.map((x) => explain(x, model, { kind: 'pixels', data: pixels }, digits.length, { layer: m.layer, seed })));
    for (let b = 0; b < digits.length; b++)
      for (const x of ['sam', 'gradcam']) {
        const e = es[methods.indexOf(x)];
        tiles.push(e ? aggregatedOverlay(e, pixels, 1, 28, 28, b) : aggregatedOverlay({ ...es[0], maps: new Float32Array(es[0].maps.length) }, pixels, 1, 28, 28, b));
        labels.push(`${m.name.replace('mnist-', '')} ${e ? x : '(no SAM)'}`);
      }
  }
  const grid = composeGrid(tiles, { columns: digits.length * 2, labels, title: 'SAM and Grad-CAM (summed over steps) of the same digits', legend: 'jet', fontScale: 1 });
  return encodePng(grid.width, grid.height, grid.rgba);
}

const fmt = (v: MeanCI | undefined, d = 3): string => (v && Number.isFinite(v.mean) ? `${v.mean.toFixed(d)} ± ${v.ci95.toFixed(d)}` : '');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** report.md: every section's tables and figures, in Markdown. */
export function markdown(d: ReportData): string {
  const s = d.settings;
  const parts: string[] = [];
  parts.push(`# spikelens report: testing the SAM paper's claims\n`);
  parts.push(`Made by \`${d.made.command}\` on ${d.made.date} (${d.made.machine}, ${Math.round(d.made.seconds)} s). Every number is a mean over test images with its 95 % interval (1.96 standard errors); definitions in docs/metrics.md and docs/explain.md.\n`);
  parts.push(`## The paper's claims\n\n${table(['claim', 'measured here', 'verdict'], d.claims.map((c) => [c.claim, c.measured, `**${c.verdict}**`]))}\n`);
  parts.push(`## The models\n\n${table(['model', 'data set', 'method', 'neuron', 'T', 'test accuracy', 'firing rates'], d.models.map((m) => [
    m.name, m.dataset, m.method, m.neuron, String(m.timesteps), `${(100 * m.accuracy).toFixed(2)} %`,
    Object.entries(m.firingRates).map(([k, v]) => `${k} ${(100 * v).toFixed(1)} %`).join(', ') || '-',
  ]))}\n`);
  const methods = ['sam', 'gradcam', 'saliency', 'input', 'random'];
  for (const metric of ['deletion', 'insertion'] as const) {
    parts.push(`## Faithfulness: ${metric} AUC (${metric === 'deletion' ? 'lower' : 'higher'} is better), ${s.images} images\n`);
    parts.push(table(['model', ...methods], d.faithfulness.map((r) => [r.model, ...methods.map((m) => fmt(r.summary.methods[m]?.[metric]))])));
    parts.push(`\n![${metric}](${metric}.png)\n`);
  }
  parts.push(`On MNIST these metrics mostly ask whether a map sits on the ink: read each method against \`input\` (the image itself) and \`random\`.\n\n![deletion curves](deletion-curves.png)\n`);
  if (d.localisation) {
    const c = d.localisation.cluttered.methods;
    const t = d.localisation.twoDigit.methods;
    parts.push(`## Localisation, ${d.localisation.model}, ${s.images} images each\n`);
    parts.push(table(['method', 'pointing game (cluttered)', 'energy in box (cluttered)', 'energy, predicted digit (two digits)', 'energy, other digit (two digits)'],
      methods.map((m) => [m, fmt(c[m]?.pointing), fmt(c[m]?.energy), fmt(t[m]?.energy), fmt(t[m]?.energyOther)])));
    parts.push(`\n![localisation](localisation.png)\n`);
  }
  const pick = (name: string) => d.faithfulness.find((r) => r.model === name)?.summary.methods;
  for (const [title, a, b] of [['Optimisation: BPTT against conversion', 'mnist-lif-bptt', 'mnist-if-convert'], ['Leak: LIF against IF', 'mnist-lif-bptt', 'mnist-if-bptt']]) {
    const x = pick(a), y = pick(b);
    if (!x || !y) continue;
    parts.push(`## ${title}\n`);
    parts.push(table(['method', `deletion ${a}`, `deletion ${b}`, `insertion ${a}`, `insertion ${b}`],
      ['sam', 'gradcam', 'saliency'].map((m) => [m, fmt(x[m]?.deletion), fmt(y[m]?.deletion), fmt(x[m]?.insertion), fmt(y[m]?.insertion)])));
    parts.push('');
  }
  parts.push(`![the same digits by each network](examples-models.png)\n`);
  parts.push(`## Adversarial inputs, ${s.attackImages} images, FGSM and PGD-${s.pgdSteps}\n`);
  parts.push(table(['model', 'attack', ...EPS.map((e) => `eps ${e}`)], d.adversarial.curves.map((c) => [c.model, c.method === 'pgd' ? `PGD-${s.pgdSteps}` : 'FGSM', ...c.accuracy.map((a) => a.toFixed(3))])));
  parts.push(`\n![accuracy under attack](attack-accuracy.png)\n`);
  parts.push(table(['maps', ...EPS.map((e) => `shift at ${e}`), ...EPS.map((e) => `rho at ${e}`)], d.adversarial.shifts.map((x) => [x.name, ...x.shift.map((v) => fmt(v, 2)), ...x.rank.map((v) => fmt(v, 2))])));
  parts.push(`\n![map shift](attack-shift.png)\n\n![rank correlation](attack-rank.png)\n`);
  parts.push(`## Sanity: parameter randomisation\n\n![randomisation](randomisation.png)\n`);
  parts.push(`## How it was made\n\n- command: \`${d.made.command}\`\n- versions: ${Object.entries(d.made.versions).map(([k, v]) => `${k} ${v}`).join(', ')}\n- seeds: encoder and noise ${s.seed}, randomisation 42\n- machine: ${d.made.machine}\n- time: ${Math.round(d.made.seconds)} s\n`);
  return parts.join('\n');
}

/** index.html: the same content as a self-contained page (figures as PNG files beside it). */
export function html(md: string): string {
  const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inline = (t: string) => esc(t).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  const out: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('# ')) out.push(`<h1>${inline(l.slice(2))}</h1>`);
    else if (l.startsWith('## ')) out.push(`<h2>${inline(l.slice(3))}</h2>`);
    else if (l.startsWith('![')) {
      const m = /^!\[([^\]]*)\]\(([^)]+)\)/.exec(l);
      if (m) out.push(`<p><img src="${esc(m[2])}" alt="${esc(m[1])}"></p>`);
    } else if (l.startsWith('| ')) {
      const rows: string[][] = [];
      while (i < lines.length && lines[i].startsWith('|')) {
        if (!/^\|-/.test(lines[i])) rows.push(lines[i].slice(1, -1).split(' | ').map((c) => c.trim()));
        i++;
      }
      i--;
      out.push(`<table><thead><tr>${rows[0].map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead><tbody>${rows.slice(1).map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
    } else if (l.startsWith('- ')) out.push(`<li>${inline(l.slice(2))}</li>`);
    else if (l.trim()) out.push(`<p>${inline(l)}</p>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>spikelens report</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}img{max-width:100%}code{background:#f4f4f4;padding:0 3px}</style>
</head><body>
${out.join('\n')}
</body></html>
`;
}
