import { UsageError, parseJson } from '@spikelens/sam';
import { ensureDir, checkOutputDir, writeFilesAtomic } from '@spikelens/sam/node';
import * as vl from 'vega-lite';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { COMMON, int, parse, str } from '../args.js';
import type { Io } from '../io.js';
import { Progress } from '../progress.js';
import { claims } from '../report/claims.js';
import { adversarial, CLUTTERED, faithfulness, localisation, MODELS, workOf, type ReportSettings } from '../report/compute.js';
import { figures, html, markdown, type ModelRow, type ReportData } from '../report/render.js';

export const REPORT_HELP = `Usage: spikelens report --out DIR [--images N] [--attack-images N] [--force]

Tests the SAM paper's claims on the bundled models (it trains nothing; docs/report.md): the models, faithfulness
(deletion and insertion of SAM, Grad-CAM, saliency and the input and random baselines), localisation on cluttered
MNIST and the two-digit set, BPTT against conversion, leak against no leak, accuracy and map stability under FGSM
and PGD, and parameter randomisation; then a table of the claims, each "holds here", "does not hold here" or "not
measurable here". Writes DIR/index.html, DIR/report.md, DIR/report.json and the figures beside them.

  --images N            test images per model for the explanation metrics (default 48)
  --attack-images N     test images per model under attack (default 48)
  --pgd-steps N         PGD steps (default 10)
  --seed S              encoder and noise seed (default 0)
  --models DIR          where the bundled models are (default: the repository's models/)
  --force               start again in a folder that holds a finished report of other settings
  -q, --quiet           no progress bar
  -h, --help            this help

An interrupted report started again with the same settings resumes from the sections it had finished
(DIR/.sections/).`;

/** The repository's bundled models: beside the package in a checkout. */
function defaultModels(): string {
  return join(import.meta.dirname, '..', '..', '..', '..', 'models');
}

export async function reportCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    out: { type: 'string', short: 'o' },
    images: { type: 'string' },
    'attack-images': { type: 'string' },
    'pgd-steps': { type: 'string' },
    seed: { type: 'string' },
    models: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    io.out(REPORT_HELP);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0].slice(0, 40)}"`);
  const out = str(values, 'out');
  if (!out) throw new UsageError('missing --out DIR');
  const settings: ReportSettings = {
    images: int(values, 'images', 1, 10_000) ?? 48,
    attackImages: int(values, 'attack-images', 1, 10_000) ?? 48,
    seed: int(values, 'seed', 0, 2 ** 32 - 1) ?? 0,
    pgdSteps: int(values, 'pgd-steps', 1, 1000) ?? 10,
    batch: 16,
  };
  const modelsDir = str(values, 'models') ?? defaultModels();
  for (const m of MODELS)
    if (!existsSync(join(modelsDir, `${m.name}.safetensors`)))
      throw new UsageError(`--models ${modelsDir} has no ${m.name}.safetensors (the report measures the bundled models)`);
  await checkOutputDir(out);

  // Sections finished earlier with these settings are reused; a finished report of other settings is refused.
  const state = join(out, '.sections');
  const settingsFile = join(state, 'settings.json');
  const same = existsSync(settingsFile) && readFileSync(settingsFile, 'utf8') === JSON.stringify(settings);
  if (existsSync(join(out, 'report.json')) && !same && !values.force)
    throw new UsageError(`${out} holds a finished report of other settings: give --force to replace it, or another --out`);
  if (!same) rmSync(state, { recursive: true, force: true });
  await ensureDir(state);
  await writeFilesAtomic([{ path: settingsFile, data: JSON.stringify(settings) }]);
  const started = performance.now();
  const work = workOf(settings);
  const bar = new Progress(io.stderr, 'report', Object.values(work).reduce((a, b) => a + b, 0), !values.quiet);
  let done = 0;
  const tick = (n: number): void => bar.update((done += n));
  /** Seconds the sections took when they were computed (a resumed report counts the earlier runs' time too). */
  let sectionSeconds = 0;
  let computedNow = 0;
  /** A section's result: from the file it was cached in, or made now and cached (`size` is its share of the bar). */
  const section = async <T>(name: string, size: number, make: () => Promise<T>): Promise<T> => {
    const file = join(state, `${name}.json`);
    const timeFile = join(state, `${name}.seconds`);
    if (existsSync(file)) {
      tick(size);
      const took = existsSync(timeFile) ? Number(readFileSync(timeFile, 'utf8')) : 0;
      sectionSeconds += Number.isFinite(took) && took > 0 ? took : 0;
      return parseJson(readFileSync(file, 'utf8'), file, 'a finished section') as T;
    }
    const t0 = performance.now();
    const value = await make();
    const took = (performance.now() - t0) / 1000;
    sectionSeconds += took;
    computedNow += took;
    await writeFilesAtomic([{ path: timeFile, data: String(took) }, { path: file, data: JSON.stringify(value) }]);
    return value;
  };

  const faith = [];
  for (const m of MODELS)
    faith.push(await section(`faithfulness-${m.name}`, work.faithfulness / MODELS.length, () => faithfulness(modelsDir, m, settings, tick)));
  const hasCluttered = existsSync(join(modelsDir, `${CLUTTERED.name}.safetensors`));
  const local = hasCluttered ? await section('localisation', work.localisation, () => localisation(modelsDir, settings, tick)) : null;
  const adv = await section('adversarial', work.adversarial, () => adversarial(modelsDir, settings, tick));
  bar.done();

  const models: ModelRow[] = [...MODELS, ...(hasCluttered ? [CLUTTERED] : [])].map((m) => {
    const card = parseJson(readFileSync(join(modelsDir, `${m.name}.json`), 'utf8'), `${m.name}.json`, 'the model card') as Record<string, unknown>;
    return {
      name: m.name, dataset: m.dataset, method: String(card.method), neuron: String(card.neuron), timesteps: Number(card.timesteps),
      accuracy: Number(card.testAccuracy), firingRates: (card.firingRates ?? {}) as Record<string, number>,
    };
  });
  const own = parseJson(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'), 'package.json', 'the package') as { version: string };
  const data: ReportData = {
    settings, models, faithfulness: faith, localisation: local, adversarial: adv,
    claims: claims(faith, local, adv),
    made: {
      command: `spikelens report ${argv.filter((a) => !['-q', '--quiet', '--force'].includes(a)).join(' ')}`.trim(),
      versions: { spikelens: own.version, node: process.versions.node, 'vega-lite': vl.version },
      machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores`,
      seconds: sectionSeconds + (performance.now() - started) / 1000 - computedNow,
      date: new Date().toISOString().slice(0, 10),
    },
  };
  const pictures = await figures(data, modelsDir);
  const md = markdown(data);
  await writeFilesAtomic([
    ...[...pictures].map(([name, bytes]) => ({ path: join(out, name), data: bytes })),
    { path: join(out, 'report.md'), data: md },
    { path: join(out, 'index.html'), data: html(md) },
    { path: join(out, 'report.json'), data: JSON.stringify(data, null, 2) + '\n' },
  ]);
  for (const c of data.claims) io.out(`${c.verdict.padEnd(20)} ${c.claim}`);
  io.out(`wrote ${out}/index.html, report.md, report.json and ${pictures.size} figures`);
  return 0;
}
