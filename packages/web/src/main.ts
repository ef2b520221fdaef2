/**
 * The page's main thread: it wires the controls to the worker and draws what the worker sends. Nothing here
 * simulates or renders maps; every handler is a few canvas calls, so a run never blocks the page.
 */
import * as Comlink from 'comlink';
import type { AttackMethod, ColormapName, GradcamAlpha, NcsMode, NirImportOptions, NormalizeMode, PresetName, ResetRule } from '@spikelens/sam';
import { DEFAULT_MODEL, DEFAULT_SAMPLE, MODELS, SAMPLES } from './bundled.js';
import { CLASS_COLORS, drawLegend, drawRaster, drawRates, drawScores, formatNumber, putPicture } from './charts.js';
import type { AttackMaps, AttackOptions, AttackView, Frame, MethodName, ModelInfo, Picture, RunOptions, View, ViewOptions } from './engine.js';
import './style.css';
import type { WorkerApi } from './worker.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
};

const el = {
  model: $<HTMLSelectElement>('model'),
  modelFile: $<HTMLInputElement>('model-file'),
  modelInfo: $('model-info'),
  modelWarnings: $('model-warnings'),
  nirPreset: $<HTMLSelectElement>('nir-preset'),
  nirReset: $<HTMLSelectElement>('nir-reset'),
  nirDelay: $<HTMLSelectElement>('nir-delay'),
  sample: $<HTMLSelectElement>('sample'),
  imageFile: $<HTMLInputElement>('image-file'),
  draw: $<HTMLCanvasElement>('draw'),
  clearDraw: $<HTMLButtonElement>('clear-draw'),
  timesteps: $<HTMLInputElement>('timesteps'),
  seed: $<HTMLInputElement>('seed'),
  run: $<HTMLButtonElement>('run'),
  cancel: $<HTMLButtonElement>('cancel'),
  method: $<HTMLSelectElement>('method'),
  layer: $<HTMLSelectElement>('layer'),
  layerNote: $('layer-note'),
  gamma: $<HTMLInputElement>('gamma'),
  ncs: $<HTMLSelectElement>('ncs'),
  target: $<HTMLSelectElement>('target'),
  gcAlpha: $<HTMLSelectElement>('gc-alpha'),
  compare: $<HTMLInputElement>('compare'),
  view2Opts: $<HTMLFieldSetElement>('view2-opts'),
  method2: $<HTMLSelectElement>('method2'),
  layer2: $<HTMLSelectElement>('layer2'),
  gamma2: $<HTMLInputElement>('gamma2'),
  ncs2: $<HTMLSelectElement>('ncs2'),
  target2: $<HTMLSelectElement>('target2'),
  gcAlpha2: $<HTMLSelectElement>('gc-alpha2'),
  attackMethod: $<HTMLSelectElement>('attack-method'),
  pgdSteps: $<HTMLInputElement>('pgd-steps'),
  pgdRandom: $<HTMLInputElement>('pgd-random'),
  eps: $<HTMLInputElement>('eps'),
  epsOut: $<HTMLOutputElement>('eps-out'),
  epsPx: $('eps-px'),
  attackRun: $<HTMLButtonElement>('attack-run'),
  attackClear: $<HTMLButtonElement>('attack-clear'),
  normalize: $<HTMLSelectElement>('normalize'),
  limit: $<HTMLInputElement>('limit'),
  colormap: $<HTMLSelectElement>('colormap'),
  alpha: $<HTMLInputElement>('alpha'),
  alphaOut: $<HTMLOutputElement>('alpha-out'),
  error: $('error'),
  status: $('status'),
  threads: $('threads'),
  stageBody: $('stage-body'),
  overlay: $<HTMLCanvasElement>('overlay'),
  overlay2: $<HTMLCanvasElement>('overlay2'),
  view2: $('view2'),
  view1Caption: $('view1-caption'),
  view2Caption: $('view2-caption'),
  attackSection: $('attack-section'),
  attackInfo: $('attack-info'),
  attackGrid: $('attack-grid'),
  attackClean: $<HTMLCanvasElement>('attack-clean'),
  attackAdv: $<HTMLCanvasElement>('attack-adv'),
  attackCleanPred: $('attack-clean-pred'),
  attackAdvPred: $('attack-adv-pred'),
  attackCleanMap: [$<HTMLCanvasElement>('attack-clean-map1'), $<HTMLCanvasElement>('attack-clean-map2')],
  attackAdvMap: [$<HTMLCanvasElement>('attack-adv-map1'), $<HTMLCanvasElement>('attack-adv-map2')],
  attackCleanCap: [$('attack-clean-cap1'), $('attack-clean-cap2')],
  attackAdvCap: [$('attack-adv-cap1'), $('attack-adv-cap2')],
  legend: $<HTMLCanvasElement>('legend'),
  legendMin: $('legend-min'),
  legendMid: $('legend-mid'),
  legendMax: $('legend-max'),
  play: $<HTMLButtonElement>('play'),
  step: $<HTMLInputElement>('step'),
  stepOut: $<HTMLOutputElement>('step-out'),
  speed: $<HTMLSelectElement>('speed'),
  prediction: $('prediction'),
  scores: $<HTMLCanvasElement>('scores'),
  scoresKey: $('scores-key'),
  rates: $<HTMLCanvasElement>('rates'),
  raster: $<HTMLCanvasElement>('raster'),
  rasterInfo: $('raster-info'),
  grid: $<HTMLCanvasElement>('grid'),
  dlFrame: $<HTMLButtonElement>('dl-frame'),
  dlGrid: $<HTMLButtonElement>('dl-grid'),
  dlNpy: $<HTMLButtonElement>('dl-npy'),
  dlSummary: $<HTMLButtonElement>('dl-summary'),
};

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const api = Comlink.wrap<WorkerApi>(worker);
worker.addEventListener('error', () => showError('The worker failed to start: reload the page.'));

/** Says beside the run status how runs are computed: "2 threads" on a cross-origin isolated page, else "1 thread: why". */
function showThreads(t: { threads: number; text: string }): void {
  el.threads.textContent = t.text;
  el.threads.dataset.threads = String(t.threads);
}
void api.threading().then(showThreads, () => undefined);

// ---- state ---------------------------------------------------------------------------------------------------

let info: ModelInfo | null = null;
/** The select value of the model in the worker, to restore it when loading another fails. */
let loadedModel = '';
let imageName = '';
/** The .nir file last loaded, read again when the NIR options change. */
let nirFile: File | null = null;
let imageDataset: string | null = null;
let frames: Picture[] = [];
/** The second view's overlays (empty when it is off or not computed yet). */
let frames2: Picture[] = [];
/** What each view shows (the last view the worker rendered), for captions and downloads. */
type Shown = Pick<View, 'method' | 'layer' | 'mapLayer' | 'mapped' | 'target'> & { options: ViewOptions; mapT: number };
let shown1: Shown | null = null;
let shown2: Shown | null = null;
/** The picture of the current image, shown by the second view while a run streams. */
let basePicture: Picture | null = null;
/** The last attack and its maps; attackOn once the Attack button was pressed: later runs attack again. */
let attackResult: AttackView | null = null;
let attackMaps: AttackMaps[] = [];
let attackOn = false;
let attackTimer: number | null = null;
let scoreHistory: ArrayLike<number>[] = [];
let rasterData: Float32Array = new Float32Array(0);
let rasterRows = 1;
let T = 0;
let shown = -1;
let hasRun = false;
let running: Promise<void> | null = null;
/** While a run streams its frames (the views show them as they come). */
let streaming = false;
let playTimer: number | null = null;
let simTimer: number | null = null;
let viewTimer: number | null = null;

/** Responsiveness of the last run, read by the end-to-end test. */
const metrics = {
  runStartedAt: 0, firstFrameMs: null as number | null, longTasks: [] as number[], maxHandlerMs: 0, steps: 0, runs: 0, views: 0, errors: 0, stepMs: [] as number[],
  attacks: 0, attackViews: 0,
};
if (PerformanceObserver.supportedEntryTypes?.includes('longtask')) {
  new PerformanceObserver((list) => {
    if (running) for (const e of list.getEntries()) metrics.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: false });
}

function setState(s: 'loading' | 'idle' | 'running' | 'done' | 'error'): void {
  document.body.dataset.state = s;
}

function showError(message: string): void {
  metrics.errors++;
  el.error.textContent = message;
  el.error.hidden = false;
  setState('error');
}

function clearError(): void {
  el.error.hidden = true;
  el.error.textContent = '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function setStatus(text: string): void {
  el.status.textContent = text;
}

/** One action at a time (loading, running); a newer run cancels the one in progress first. */
let queue: Promise<unknown> = Promise.resolve();
function enqueue(task: () => Promise<void>): Promise<void> {
  const next = queue.then(task, task);
  queue = next.catch(() => undefined);
  return next;
}

// ---- controls ------------------------------------------------------------------------------------------------

function fillSelects(): void {
  for (const m of MODELS) el.model.add(new Option(m.title, m.id));
  const groups = new Map<string, HTMLOptGroupElement>();
  for (const s of SAMPLES) {
    let g = groups.get(s.dataset);
    if (!g) {
      g = document.createElement('optgroup');
      g.label = s.dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST';
      groups.set(s.dataset, g);
      el.sample.append(g);
    }
    g.append(new Option(s.title, s.id));
  }
  el.model.value = DEFAULT_MODEL;
  el.sample.value = DEFAULT_SAMPLE;
}

function absolute(url: string): string {
  return new URL(url, document.baseURI).href;
}

const METHOD_TITLES: Record<MethodName, string> = { sam: 'SAM', gradcam: 'Grad-CAM', saliency: 'Saliency' };

/** The controls of view 1 or 2 (the display settings are shared). */
function controls(n: 1 | 2) {
  return n === 1
    ? { method: el.method, layer: el.layer, gamma: el.gamma, ncs: el.ncs, target: el.target, gcAlpha: el.gcAlpha }
    : { method: el.method2, layer: el.layer2, gamma: el.gamma2, ncs: el.ncs2, target: el.target2, gcAlpha: el.gcAlpha2 };
}

function compareOn(): boolean {
  return el.compare.checked;
}

function viewOptions(n: 1 | 2 = 1): ViewOptions {
  const c = controls(n);
  const normalize = el.normalize.value as NormalizeMode;
  return {
    layer: c.layer.value,
    gamma: Number(c.gamma.value),
    ncs: c.ncs.value as NcsMode,
    method: c.method.value as MethodName,
    target: c.target.value === 'pred' ? 'pred' : Number(c.target.value),
    gradcamAlpha: c.gcAlpha.value as GradcamAlpha,
    normalize,
    limit: normalize === 'fixed' ? Number(el.limit.value) : undefined,
    colormap: el.colormap.value as ColormapName,
    alpha: Number(el.alpha.value),
  };
}

/** How to read a .nir file: the chosen preset and reset, 25 steps (or the steps field), pixels to [0, 1]. */
function nirOptions(): NirImportOptions {
  const steps = Number(el.timesteps.value);
  return {
    preset: el.nirPreset.value as PresetName,
    ...(el.nirReset.value ? { reset: el.nirReset.value as ResetRule } : {}),
    ...(el.nirDelay.value ? { resetDelay: el.nirDelay.value === 'true' } : {}),
    timesteps: Number.isInteger(steps) && steps >= 1 ? steps : 25,
    scale: 1 / 255,
  };
}

/** The views shown: the first, and the second when it is on. */
function viewList(): ViewOptions[] {
  return compareOn() ? [viewOptions(1), viewOptions(2)] : [viewOptions(1)];
}

function attackOptions(): AttackOptions {
  const method = el.attackMethod.value as AttackMethod;
  // The slider's own value (0.07 is "0.07", not 7 * 0.01): the same number the CLI gets from --eps 0.07.
  const eps = Number(el.eps.value);
  return method === 'pgd' ? { method, eps, steps: Number(el.pgdSteps.value), randomStart: el.pgdRandom.checked } : { method, eps };
}

/** Shows the settings of each view's method and hides the others. */
function methodControls(): void {
  const show = (attr: string, method: string) =>
    document.querySelectorAll<HTMLElement>(`[${attr}]`).forEach((d) => (d.hidden = !d.getAttribute(attr)!.split(' ').includes(method)));
  show('data-for', el.method.value);
  show('data-for2', el.method2.value);
  show('data-attack', el.attackMethod.value);
  el.layerNote.textContent = el.method.value === 'saliency' ? '(its raster; saliency explains the input)' : '';
  el.view2Opts.disabled = !compareOn();
  el.view2.hidden = !compareOn();
  el.stageBody.classList.toggle('compare', compareOn());
  el.attackGrid.classList.toggle('one', !compareOn());
  const eps = Number(el.eps.value);
  el.epsOut.value = eps.toFixed(2);
  el.epsPx.textContent = String(Math.round(eps * 255 * 10) / 10);
}

function runOptions(): RunOptions {
  const steps = el.timesteps.value.trim();
  return { timesteps: steps === '' ? null : Number(steps), seed: Number(el.seed.value || 0), view: viewOptions() };
}

function applyModel(m: ModelInfo, value: string): void {
  info = m;
  loadedModel = value;
  const previous = el.layer.value;
  // Every spiking layer has a raster; only the conv-shaped ones have a map.
  el.layer.replaceChildren(...m.spikingLayers.map((n) => new Option(m.samLayers.includes(n) ? n : `${n} (no map)`, n)));
  el.layer.value = m.spikingLayers.includes(previous) ? previous : (m.samLayers.at(-1) ?? m.spikingLayers.at(-1) ?? '');
  el.layer.disabled = m.spikingLayers.length === 0;
  const previous2 = el.layer2.value;
  el.layer2.replaceChildren(...m.spikingLayers.map((n) => new Option(m.samLayers.includes(n) ? n : `${n} (no map)`, n)));
  el.layer2.value = m.spikingLayers.includes(previous2) ? previous2 : el.layer.value;
  el.layer2.disabled = m.spikingLayers.length === 0;
  const classNames = m.labels ?? Array.from({ length: m.classes }, (_, k) => String(k));
  for (const t of [el.target, el.target2]) {
    const was = t.value;
    t.replaceChildren(new Option('the prediction', 'pred'), ...classNames.map((n, k) => new Option(n === String(k) ? `class ${k}` : `${k}: ${n}`, String(k))));
    t.value = was !== 'pred' && Number(was) < classNames.length ? was : 'pred';
  }
  // SAM stays selectable (a flat layer shows the picture, as before); Grad-CAM needs a conv-shaped spiking layer,
  // saliency an image input [C,H,W].
  for (const sel of [el.method, el.method2]) {
    for (const o of [...sel.options]) o.disabled = o.value !== 'sam' && !m.methods.includes(o.value as MethodName);
    if (sel.selectedOptions[0]?.disabled) sel.value = 'sam';
  }
  methodControls();
  el.timesteps.value = m.timesteps === null ? '' : String(m.timesteps);
  el.modelWarnings.replaceChildren(
    ...m.warnings.map((w) => {
      const li = document.createElement('li');
      li.textContent = `Warning: ${w}`;
      return li;
    }),
  );
  el.modelInfo.textContent =
    `${m.name || m.file}: input [${m.inputShape.join(', ')}], ${m.encoding} encoding, ${m.readout} readout, ` +
    `${m.timesteps ?? 'no'} time steps, ${m.parameters.toLocaleString('en')} parameters; layers ${m.layers.map((l) => l.name).join(' → ')}.` +
    (m.inputShape.length === 1
      ? ` Its flat input is read from the image as ${m.image.width}x${m.image.height} ${m.image.channels === 1 ? 'gray' : 'RGB'} pixels, in C-H-W order.`
      : '') +
    (m.samLayers.length === 0 ? ' No layer is conv-shaped and spiking, so there is no map: the page shows the image, the scores, the firing rates and the raster.' : '');
  const names = m.labels ?? Array.from({ length: m.classes }, (_, k) => String(k));
  el.scoresKey.replaceChildren(
    ...names.map((n, k) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = CLASS_COLORS[k % CLASS_COLORS.length];
      li.append(sw, document.createTextNode(n));
      return li;
    }),
  );
  hasRun = false;
  setDownloads(false);
}

async function loadBundledModel(id: string): Promise<void> {
  const m = MODELS.find((x) => x.id === id)!;
  setStatus(`Loading ${m.file}…`);
  applyModel(await api.loadModelUrl(absolute(m.url), m.file), id);
  // A bundled sample of the other data set is swapped for one of the model's.
  if (imageDataset && imageDataset !== m.dataset) {
    const s = SAMPLES.find((x) => x.dataset === m.dataset);
    if (s) {
      el.sample.value = s.id;
      await loadSample(s.id);
    }
  }
}

async function loadSample(id: string): Promise<void> {
  const s = SAMPLES.find((x) => x.id === id)!;
  setStatus(`Loading ${s.file}…`);
  showPicture(await api.loadImageUrl(absolute(s.url), s.file));
  imageName = s.file;
  imageDataset = s.dataset;
}

function showPicture(p: Picture): void {
  stopPlaying();
  frames = [];
  frames2 = [];
  basePicture = p;
  putPicture(el.overlay, p);
  putPicture(el.overlay2, p);
  el.overlay.setAttribute('aria-label', `The input image ${imageName}`);
  hasRun = false;
  clearAttack();
  setDownloads(false);
}

/** Whether the first view has a map: SAM and Grad-CAM of a conv-shaped spiking layer, saliency of an image input; a flat layer has only a raster. */
function mapped(): boolean {
  if (!info) return false;
  return el.method.value === 'saliency' ? info.methods.includes('saliency') : info.samLayers.includes(el.layer.value);
}

function setDownloads(on: boolean): void {
  for (const b of [el.dlFrame, el.dlGrid, el.dlNpy]) b.disabled = !on || !mapped();
  el.dlSummary.disabled = !on;
}

// ---- running -------------------------------------------------------------------------------------------------

function onFrame(f: Frame): void {
  const start = performance.now();
  if (metrics.firstFrameMs === null) metrics.firstFrameMs = start - metrics.runStartedAt;
  metrics.steps = f.t + 1;
  metrics.stepMs.push(f.stepMs);
  T = f.T;
  frames[f.t] = f.overlay;
  scoreHistory[f.t] = f.scores;
  if (f.t === 0) {
    rasterRows = f.raster.length;
    rasterData = new Float32Array(f.T * rasterRows);
  }
  rasterData.set(f.raster, f.t * rasterRows);
  el.step.max = String(f.T - 1);
  if (f.t === 0) {
    // Grad-CAM and saliency need the whole run (a backward pass): until it ends the views show the picture.
    el.view1Caption.textContent = viewCaption(1, null);
    if (compareOn()) {
      el.view2Caption.textContent = viewCaption(2, null);
      if (basePicture) putPicture(el.overlay2, basePicture);
    }
  }
  showStep(f.t);
  drawRates(el.rates, f.rates);
  drawRaster(el.raster, rasterData, rasterRows, f.T, f.t);
  setStatus(`Running: step ${f.t + 1} of ${f.T}…`);
  metrics.maxHandlerMs = Math.max(metrics.maxHandlerMs, performance.now() - start);
}

function predictionText(scores: ArrayLike<number>): string {
  let best = 0;
  let tie = true;
  for (let k = 1; k < scores.length; k++) {
    if (scores[k] !== scores[0]) tie = false;
    if (scores[k] > scores[best]) best = k;
  }
  if (tie) return 'no decision yet (all scores equal)';
  const label = info?.labels ? info.labels[best] : String(best);
  return label;
}

/** A method without time (saliency) has one frame, shown at every step. */
function frameAt(list: readonly Picture[], t: number): Picture | undefined {
  return list[Math.min(t, list.length - 1)];
}

function className(k: number): string {
  return info?.labels ? info.labels[k] : String(k);
}

/** What a view shows, in a few words; `s` null while its maps are not computed yet. */
function viewCaption(n: 1 | 2, s: Shown | null, t = shown): string {
  const o = viewOptions(n);
  const method = o.method ?? 'sam';
  const title = METHOD_TITLES[method];
  if (!s) return method === 'sam' && n === 1 ? `${title} of ${o.layer}` : `${title}: computed when the run ends`;
  if (!s.mapped) return `${title}: no map (${s.layer ? `${s.layer} is flat` : 'no spiking layer'})`;
  const parts = [`${title} of ${s.mapLayer}`];
  if (s.method === 'sam') parts.push(`gamma ${s.options.gamma}, ${s.options.ncs}`);
  else parts.push(`target ${className(s.target)}${s.options.target === 'pred' ? ' (the prediction)' : ''}`);
  if (s.method === 'gradcam') parts.push(s.options.gradcamAlpha === 'per-step' ? 'weights per step' : 'weights summed');
  parts.push(s.mapT === 1 ? 'one map for all steps' : `step ${t}`);
  return parts.join(' · ');
}

function showStep(t: number): void {
  const p = streaming ? frames[t] : frameAt(frames, t);
  if (!p) return;
  shown = t;
  putPicture(el.overlay, p);
  el.step.value = String(t);
  el.stepOut.value = `${t} / ${T - 1}`;
  const title = METHOD_TITLES[(shown1?.method ?? el.method.value) as MethodName];
  el.overlay.setAttribute(
    'aria-label',
    mapped() ? `${title} map of ${shown1?.mapLayer ?? el.layer.value} at step ${t} of ${T - 1}` : `The input image ${imageName} (no map), step ${t} of ${T - 1}`,
  );
  if (shown1 && !streaming) el.view1Caption.textContent = viewCaption(1, shown1, t);
  const p2 = frameAt(frames2, t);
  if (p2 && shown2 && compareOn()) {
    putPicture(el.overlay2, p2);
    el.view2Caption.textContent = viewCaption(2, shown2, t);
    el.overlay2.setAttribute('aria-label', `Second view: ${viewCaption(2, shown2, t)}`);
  }
  drawAttackMaps(t);
  const upTo = scoreHistory.slice(0, t + 1);
  const s = scoreHistory[t];
  if (s) {
    const text = predictionText(s);
    el.prediction.textContent = `Prediction after step ${t}: ${text}`;
    el.prediction.dataset.prediction = text;
    let best = 0;
    for (let k = 1; k < s.length; k++) if (s[k] > s[best]) best = k;
    drawScores(el.scores, upTo, T, best);
  }
  if (rasterData.length) drawRaster(el.raster, rasterData, rasterRows, T, t);
}

function legendText(range: { min: number; max: number } | null): void {
  const o = viewOptions();
  drawLegend(el.legend, o.colormap);
  el.legendMin.textContent = '0';
  if (info && !mapped()) {
    el.legendMid.textContent = el.layer.value ? `no map: ${el.layer.value} is flat` : 'no map: no spiking layer';
    el.legendMax.textContent = '1';
    return;
  }
  el.legendMid.textContent = { frame: 'min to max of each step', global: 'min to max over all steps', official: '(M − min) / (max + 0.001)', fixed: `M / ${o.limit}` }[o.normalize];
  el.legendMax.textContent = o.normalize === 'fixed' ? formatNumber(o.limit ?? 1) : o.normalize === 'global' && range ? `1 = ${formatNumber(range.max)}` : '1';
}

function startRun(): Promise<void> {
  if (simTimer !== null) clearTimeout(simTimer);
  simTimer = null;
  void api.cancel();
  return enqueue(runNow);
}

async function runNow(): Promise<void> {
  clearError();
  stopPlaying();
  const opts = runOptions();
  frames = [];
  scoreHistory = [];
  rasterData = new Float32Array(0);
  hasRun = false;
  setDownloads(false);
  metrics.runStartedAt = performance.now();
  metrics.firstFrameMs = null;
  metrics.longTasks = [];
  metrics.maxHandlerMs = 0;
  metrics.steps = 0;
  metrics.stepMs = [];
  setState('running');
  el.cancel.disabled = false;
  el.play.disabled = true;
  el.step.disabled = true;
  legendText(null);
  clearAttack();
  frames2 = [];
  shown1 = null;
  shown2 = null;
  let done: () => void = () => undefined;
  running = new Promise((r) => (done = r));
  try {
    streaming = true;
    const result = await api.run(opts, Comlink.proxy(onFrame)).finally(() => (streaming = false));
    if (result.cancelled) {
      setStatus(`Cancelled after ${result.steps} step${result.steps === 1 ? '' : 's'}.`);
      setState('idle');
      return;
    }
    hasRun = true;
    await refreshView();
    const s = result.summary!;
    const total = performance.now() - metrics.runStartedAt;
    const done = `Done: ${s.timesteps} steps in ${total.toFixed(0)} ms (simulation ${(s.seconds * 1000).toFixed(0)} ms), ${Math.round(s.sopsPerImage).toLocaleString('en')} synaptic operations.`;
    setStatus(done);
    setDownloads(true);
    el.attackRun.disabled = false;
    // An attack shown before is made again on the new run (a new image, model, seed or number of steps).
    const attacked = attackOn ? await attackNow(true) : true;
    if (attacked && attackResult) setStatus(`${done} ${attackStatus(attackResult)}`);
    metrics.runs++;
    setState(attacked ? 'done' : 'error');
  } catch (err) {
    showError(messageOf(err));
    setStatus('Stopped by an error.');
  } finally {
    el.cancel.disabled = true;
    el.play.disabled = frames.length < 2;
    el.step.disabled = frames.length < 1;
    running = null;
    done();
  }
}

/** Re-renders the finished run for the current settings: SAM from its recorded spikes, the other methods in the worker. */
async function refreshView(): Promise<void> {
  if (!hasRun) return;
  const o = viewOptions();
  const v = await api.view(o);
  frames = v.frames;
  shown1 = { method: v.method, layer: v.layer, mapLayer: v.mapLayer, mapped: v.mapped, target: v.target, options: o, mapT: v.frames.length };
  if (compareOn()) {
    const o2 = viewOptions(2);
    const w = await api.view(o2);
    frames2 = w.frames;
    shown2 = { method: w.method, layer: w.layer, mapLayer: w.mapLayer, mapped: w.mapped, target: w.target, options: o2, mapT: w.frames.length };
  } else {
    frames2 = [];
    shown2 = null;
  }
  T = v.T;
  scoreHistory = v.scores;
  rasterData = v.raster.data;
  rasterRows = v.raster.rows;
  el.rasterInfo.textContent = v.layer
    ? `${v.layer}: ${v.raster.neurons.toLocaleString('en')} neurons in C-H-W order` +
      (v.raster.neuronsPerRow > 1 ? `, about ${Math.round(v.raster.neuronsPerRow)} per row (brightness: share of the row spiking)` : ', one per row') +
      `; time steps left to right.`
    : 'The model has no spiking layer: no raster.';
  el.step.max = String(T - 1);
  showStep(shown >= 0 && shown < T ? shown : T - 1);
  legendText(v.range);
  if (v.mapped) {
    putPicture(el.grid, await api.grid(o));
    el.grid.setAttribute('aria-label', v.frames.length === 1 ? `The ${METHOD_TITLES[v.method]} map (one for all steps)` : `Grid of the ${METHOD_TITLES[v.method]} map at every time step`);
  } else {
    putPicture(el.grid, { width: 1, height: 1, rgba: new Uint8Array([0, 0, 0, 255]) });
    el.grid.setAttribute('aria-label', `No grid: layer ${v.layer || '(none)'} has no map`);
  }
  if (attackResult) await refreshAttackMaps();
  setDownloads(true);
  el.play.disabled = T < 2;
  el.step.disabled = false;
  metrics.views++;
}

// ---- attack --------------------------------------------------------------------------------------------------

function clearAttack(): void {
  attackResult = null;
  attackMaps = [];
  el.attackSection.hidden = true;
  el.attackRun.disabled = true;
  el.attackClear.disabled = !attackOn;
}

function scheduleAttack(): void {
  methodControls();
  if (!attackOn) return;
  if (attackTimer !== null) clearTimeout(attackTimer);
  attackTimer = window.setTimeout(() => {
    attackTimer = null;
    if (!hasRun || running) return;
    enqueue(async () => {
      if (await attackNow()) setState('done');
    });
  }, 250);
}

function attackStatus(a: AttackView): string {
  const o = a.options;
  return `${o.method.toUpperCase()} eps ${o.eps.toFixed(2)}: ${className(a.clean.prediction)} → ${className(a.adversarial.prediction)}${a.clean.prediction === a.adversarial.prediction ? ' (the prediction held)' : ''}.`;
}

/** Attacks the run's image in the worker and shows it with its maps; false (the error shown) when it failed. */
async function attackNow(quiet = false): Promise<boolean> {
  if (!hasRun) return true;
  if (!quiet) clearError();
  const o = attackOptions();
  el.attackRun.disabled = true;
  setStatus(`Attacking with ${o.method.toUpperCase()}, eps ${o.eps.toFixed(2)}…`);
  const start = performance.now();
  try {
    attackResult = await api.attack(o);
    await refreshAttackMaps();
    if (!quiet) setStatus(`Attack done in ${(performance.now() - start).toFixed(0)} ms: ${attackStatus(attackResult)}`);
    metrics.attacks++;
    return true;
  } catch (err) {
    clearAttack();
    showError(messageOf(err));
    return false;
  } finally {
    el.attackRun.disabled = !hasRun;
    el.attackClear.disabled = !attackOn;
  }
}

/** The maps of the shown views over the clean and the adversarial image. */
async function refreshAttackMaps(): Promise<void> {
  const a = attackResult;
  if (!a) return;
  attackMaps = await api.attackMaps(viewList());
  el.attackSection.hidden = false;
  putPicture(el.attackClean, a.clean.picture);
  putPicture(el.attackAdv, a.adversarial.picture);
  const prob = (p: number) => p.toFixed(3);
  el.attackCleanPred.textContent = `${className(a.clean.prediction)} (p ${prob(a.clean.probability)})`;
  el.attackAdvPred.textContent = `${className(a.adversarial.prediction)} (p ${prob(a.adversarial.probability)})`;
  el.attackCleanPred.dataset.prediction = className(a.clean.prediction);
  el.attackAdvPred.dataset.prediction = className(a.adversarial.prediction);
  const o = a.options;
  const how = o.method === 'pgd' ? `PGD, ${o.steps ?? 10} steps${o.randomStart === false ? '' : ' from a random start'}` : 'FGSM';
  el.attackInfo.textContent =
    `${how}, eps ${o.eps.toFixed(2)}: pixels moved by at most ${a.linf} of 255, against the clean prediction ${className(a.label)}; ` +
    `the network now says ${className(a.adversarial.prediction)}${a.clean.prediction === a.adversarial.prediction ? ' (unchanged)' : ''}. ` +
    'Maps of both images with the views\' settings (target "the prediction": each image\'s own); each map normalised on its own.';
  drawAttackMaps(shown);
  metrics.attackViews++;
}

function drawAttackMaps(t: number): void {
  if (!attackResult) return;
  for (let i = 0; i < 2; i++) {
    const m = attackMaps[i];
    if (!m) continue;
    const step = Math.min(Math.max(t, 0), m.T - 1);
    putPicture(el.attackCleanMap[i], m.clean[step]);
    putPicture(el.attackAdvMap[i], m.adversarial[step]);
    const title = METHOD_TITLES[m.method];
    const when = m.T === 1 ? '' : `, step ${step}`;
    const target = (k: number) => (m.method === 'sam' ? '' : `, target ${className(k)}`);
    el.attackCleanCap[i].textContent = m.mapped ? `${title} of ${m.layer}${target(m.targets[0])}${when}` : `${title}: no map`;
    el.attackAdvCap[i].textContent = m.mapped ? `${title} of ${m.layer}${target(m.targets[1])}${when}` : `${title}: no map`;
  }
}

function scheduleView(): void {
  methodControls();
  el.limit.disabled = el.normalize.value !== 'fixed';
  el.alphaOut.value = Number(el.alpha.value).toFixed(2);
  legendText(null);
  if (hasRun && !running) setDownloads(true); // a layer without a map has no map downloads
  if (viewTimer !== null) clearTimeout(viewTimer);
  viewTimer = window.setTimeout(() => {
    viewTimer = null;
    if (!hasRun || running) return;
    enqueue(async () => {
      clearError();
      try {
        await refreshView();
        setState('done');
      } catch (err) {
        showError(messageOf(err));
      }
    });
  }, 120);
}

function scheduleRun(): void {
  if (simTimer !== null) clearTimeout(simTimer);
  simTimer = window.setTimeout(() => {
    simTimer = null;
    void startRun();
  }, 300);
}

// ---- playback ------------------------------------------------------------------------------------------------

function stopPlaying(): void {
  if (playTimer !== null) clearInterval(playTimer);
  playTimer = null;
  el.play.textContent = 'Play';
  el.play.setAttribute('aria-pressed', 'false');
}

function startPlaying(): void {
  stopPlaying();
  if (T < 2) return;
  el.play.textContent = 'Pause';
  el.play.setAttribute('aria-pressed', 'true');
  if (shown >= T - 1) showStep(0);
  playTimer = window.setInterval(() => showStep((shown + 1) % T), 1000 / Number(el.speed.value));
}

// ---- downloads -----------------------------------------------------------------------------------------------

function save(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function stem(): string {
  return imageName.replace(/\.[^.]*$/, '') || 'image';
}

async function download(kind: 'frame' | 'grid' | 'npy' | 'summary'): Promise<void> {
  const o = shown1?.options ?? viewOptions();
  // SAM keeps the names of `spikelens run --sam`; the other methods those of `spikelens explain --method M`.
  const sam = (o.method ?? 'sam') === 'sam';
  const key = sam ? o.layer : `${shown1?.mapLayer ?? o.layer}.${o.method}`;
  try {
    if (kind === 'frame') {
      const t = Math.min(shown, (shown1?.mapT ?? T) - 1);
      const digits = String((shown1?.mapT ?? T) - 1).length;
      save(await api.framePng(o, t), `${stem()}-${key}-t${String(t).padStart(digits, '0')}.png`);
    } else if (kind === 'grid') save(await api.gridPng(o), `${stem()}-${key}.grid.png`);
    else if (kind === 'npy') save(new Blob([(await api.npy(o)).slice().buffer]), `${stem()}-${key}${sam ? '.sam' : ''}.npy`);
    else save(new Blob([JSON.stringify(await api.summary(o), null, 2) + '\n'], { type: 'application/json' }), `${stem()}-summary.json`);
  } catch (err) {
    showError(messageOf(err));
  }
}

// ---- drawing -------------------------------------------------------------------------------------------------

function clearPad(): void {
  const ctx = el.draw.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, el.draw.width, el.draw.height);
}

function setupPad(): void {
  const ctx = el.draw.getContext('2d', { willReadFrequently: true })!;
  clearPad();
  let drawing = false;
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const r = el.draw.getBoundingClientRect();
    return [((e.clientX - r.left) * el.draw.width) / r.width, ((e.clientY - r.top) * el.draw.height) / r.height];
  };
  el.draw.addEventListener('pointerdown', (e) => {
    drawing = true;
    el.draw.setPointerCapture(e.pointerId);
    last = at(e);
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(last[0], last[1], 11, 0, 2 * Math.PI);
    ctx.fill();
    e.preventDefault();
  });
  el.draw.addEventListener('pointermove', (e) => {
    if (!drawing || !last) return;
    const p = at(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    last = null;
    const img = ctx.getImageData(0, 0, el.draw.width, el.draw.height);
    guarded(async () => {
      const p = await api.setDrawing(new Uint8Array(img.data.buffer), img.width, img.height);
      imageName = 'drawing.png';
      imageDataset = null;
      showPicture(p);
    });
  };
  el.draw.addEventListener('pointerup', end);
  el.draw.addEventListener('pointercancel', end);
}

// ---- wiring --------------------------------------------------------------------------------------------------

function guarded(task: () => Promise<void>, thenRun = true): void {
  void api.cancel();
  enqueue(async () => {
    clearError();
    try {
      await task();
    } catch (err) {
      showError(messageOf(err));
      throw err;
    }
  }).then(
    () => (thenRun ? startRun() : undefined),
    () => undefined,
  );
}

function wire(): void {
  el.model.addEventListener('change', () => {
    const id = el.model.value;
    if (id.startsWith('file:')) return;
    nirFile = null;
    guarded(async () => {
      try {
        await loadBundledModel(id);
      } catch (err) {
        el.model.value = loadedModel;
        throw err;
      }
    });
  });
  const loadFile = (file: File) =>
    guarded(async () => {
      setStatus(`Loading ${file.name}…`);
      const bytes = await file.arrayBuffer();
      const nir = /\.nir$/i.test(file.name);
      const m = await api.loadModelBytes(Comlink.transfer(bytes, [bytes]), file.name, nir ? nirOptions() : {});
      nirFile = nir ? file : null;
      const value = `file:${file.name}`;
      for (const o of [...el.model.options]) if (o.value.startsWith('file:')) o.remove();
      el.model.add(new Option(`${file.name} (from disk)`, value));
      el.model.value = value;
      applyModel(m, value);
    });
  el.modelFile.addEventListener('change', () => {
    const file = el.modelFile.files?.[0];
    if (!file) return;
    el.modelFile.value = '';
    loadFile(file);
  });
  for (const c of [el.nirPreset, el.nirReset, el.nirDelay])
    c.addEventListener('change', () => {
      if (nirFile && loadedModel === `file:${nirFile.name}`) loadFile(nirFile);
    });
  el.sample.addEventListener('change', () => guarded(() => loadSample(el.sample.value)));
  el.imageFile.addEventListener('change', () => {
    const file = el.imageFile.files?.[0];
    if (!file) return;
    el.imageFile.value = '';
    guarded(async () => {
      setStatus(`Decoding ${file.name}…`);
      const p = await api.loadImageBlob(file, file.name);
      imageName = file.name;
      imageDataset = null;
      showPicture(p);
    });
  });
  el.clearDraw.addEventListener('click', clearPad);
  el.run.addEventListener('click', () => void startRun());
  el.cancel.addEventListener('click', () => void api.cancel());
  for (const c of [el.timesteps, el.seed]) c.addEventListener('change', scheduleRun);
  for (const c of [el.method, el.layer, el.ncs, el.target, el.gcAlpha, el.normalize, el.colormap, el.compare, el.method2, el.layer2, el.ncs2, el.target2, el.gcAlpha2])
    c.addEventListener('change', scheduleView);
  for (const c of [el.gamma, el.limit, el.alpha, el.gamma2]) c.addEventListener('input', scheduleView);
  el.attackRun.addEventListener('click', () => {
    attackOn = true;
    el.attackClear.disabled = false;
    if (attackTimer !== null) clearTimeout(attackTimer);
    attackTimer = null;
    enqueue(async () => {
      if (await attackNow()) setState('done');
    });
  });
  el.attackClear.addEventListener('click', () => {
    attackOn = false;
    if (attackTimer !== null) clearTimeout(attackTimer);
    attackTimer = null;
    enqueue(async () => {
      clearAttack();
      el.attackRun.disabled = !hasRun;
    });
  });
  for (const c of [el.attackMethod, el.pgdSteps, el.pgdRandom]) c.addEventListener('change', scheduleAttack);
  el.eps.addEventListener('input', scheduleAttack);
  el.play.addEventListener('click', () => (playTimer === null ? startPlaying() : stopPlaying()));
  el.step.addEventListener('input', () => {
    stopPlaying();
    showStep(Number(el.step.value));
  });
  el.speed.addEventListener('change', () => {
    if (playTimer !== null) startPlaying();
  });
  el.dlFrame.addEventListener('click', () => void download('frame'));
  el.dlGrid.addEventListener('click', () => void download('grid'));
  el.dlNpy.addEventListener('click', () => void download('npy'));
  el.dlSummary.addEventListener('click', () => void download('summary'));
}

/** Hooks for the end-to-end test (and for anyone curious in the console). */
const hooks = {
  state: () => document.body.dataset.state,
  metrics: () => ({ ...metrics, longTasks: [...metrics.longTasks], stepMs: [...metrics.stepMs] }),
  hashes: () => api.hashes(),
  /** How runs are computed: threads (1 or 2), whether the page is cross-origin isolated, and what the page says. */
  threading: () => api.threading(),
  /** The two-thread runs' helper worker: how many were started (one, kept from run to run), and whether one serves a run now. */
  helper: () => api.helper(),
  arrays: () => api.arrays(),
  summary: () => api.summary(),
  frames: () => frames.length,
  shown: () => shown,
  /** What each view shows: method, layer of the maps, target class, number of maps. */
  views: () => [shown1, shown2].filter((x) => x !== null).map((x) => ({ method: x.method, layer: x.mapLayer, target: x.target, maps: x.mapT, mapped: x.mapped })),
  /** SHA-256 of each shown view's raw maps (float32 bytes). */
  mapHashes: () => api.mapHashes([shown1, shown2].filter((x) => x !== null).map((x) => x.options)),
  /** The last attack: predictions, probabilities, L-infinity (pixels); and the hashes of its adversarial pixels and of each view's maps of them. */
  attack: () =>
    attackResult && {
      label: attackResult.label,
      linf: attackResult.linf,
      clean: { prediction: attackResult.clean.prediction, probability: attackResult.clean.probability },
      adversarial: { prediction: attackResult.adversarial.prediction, probability: attackResult.adversarial.probability },
    },
  attackHashes: () => api.attackHashes(attackMaps.length ? viewList() : []),
};
(window as unknown as { spikelens: typeof hooks }).spikelens = hooks;

fillSelects();
setupPad();
wire();
methodControls();
legendText(null);
guarded(async () => {
  await loadBundledModel(DEFAULT_MODEL);
  await loadSample(DEFAULT_SAMPLE);
});
