/**
 * The page's main thread: it wires the controls to the worker and draws what the worker sends. Nothing here
 * simulates or renders maps; every handler is a few canvas calls, so a run never blocks the page.
 */
import * as Comlink from 'comlink';
import type { ColormapName, NcsMode, NirImportOptions, NormalizeMode, PresetName, ResetRule } from '@spikelens/sam';
import { DEFAULT_MODEL, DEFAULT_SAMPLE, MODELS, SAMPLES } from './bundled.js';
import { CLASS_COLORS, drawLegend, drawRaster, drawRates, drawScores, formatNumber, putPicture } from './charts.js';
import type { Frame, ModelInfo, Picture, RunOptions, ViewOptions } from './engine.js';
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
  layer: $<HTMLSelectElement>('layer'),
  gamma: $<HTMLInputElement>('gamma'),
  ncs: $<HTMLSelectElement>('ncs'),
  normalize: $<HTMLSelectElement>('normalize'),
  limit: $<HTMLInputElement>('limit'),
  colormap: $<HTMLSelectElement>('colormap'),
  alpha: $<HTMLInputElement>('alpha'),
  alphaOut: $<HTMLOutputElement>('alpha-out'),
  error: $('error'),
  status: $('status'),
  overlay: $<HTMLCanvasElement>('overlay'),
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

// ---- state ---------------------------------------------------------------------------------------------------

let info: ModelInfo | null = null;
/** The select value of the model in the worker, to restore it when loading another fails. */
let loadedModel = '';
let imageName = '';
/** The .nir file last loaded, read again when the NIR options change. */
let nirFile: File | null = null;
let imageDataset: string | null = null;
let frames: Picture[] = [];
let scoreHistory: ArrayLike<number>[] = [];
let rasterData: Float32Array = new Float32Array(0);
let rasterRows = 1;
let T = 0;
let shown = -1;
let hasRun = false;
let running: Promise<void> | null = null;
let playTimer: number | null = null;
let simTimer: number | null = null;
let viewTimer: number | null = null;

/** Responsiveness of the last run, read by the end-to-end test. */
const metrics = { runStartedAt: 0, firstFrameMs: null as number | null, longTasks: [] as number[], maxHandlerMs: 0, steps: 0, runs: 0, views: 0, errors: 0, stepMs: [] as number[] };
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

function viewOptions(): ViewOptions {
  const normalize = el.normalize.value as NormalizeMode;
  return {
    layer: el.layer.value,
    gamma: Number(el.gamma.value),
    ncs: el.ncs.value as NcsMode,
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
  putPicture(el.overlay, p);
  el.overlay.setAttribute('aria-label', `The input image ${imageName}`);
  hasRun = false;
  setDownloads(false);
}

/** Whether the chosen layer has a map (a conv-shaped spiking layer); a flat one has only a raster. */
function mapped(): boolean {
  return !!info && info.samLayers.includes(el.layer.value);
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

function showStep(t: number): void {
  const p = frames[t];
  if (!p) return;
  shown = t;
  putPicture(el.overlay, p);
  el.step.value = String(t);
  el.stepOut.value = `${t} / ${T - 1}`;
  el.overlay.setAttribute(
    'aria-label',
    mapped() ? `Spike activation map of ${el.layer.value} at step ${t} of ${T - 1}` : `The input image ${imageName} (the chosen layer has no map), step ${t} of ${T - 1}`,
  );
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
  let done: () => void = () => undefined;
  running = new Promise((r) => (done = r));
  try {
    const result = await api.run(opts, Comlink.proxy(onFrame));
    if (result.cancelled) {
      setStatus(`Cancelled after ${result.steps} step${result.steps === 1 ? '' : 's'}.`);
      setState('idle');
      return;
    }
    hasRun = true;
    await refreshView();
    const s = result.summary!;
    const total = performance.now() - metrics.runStartedAt;
    setStatus(`Done: ${s.timesteps} steps in ${total.toFixed(0)} ms (simulation ${(s.seconds * 1000).toFixed(0)} ms), ${Math.round(s.sopsPerImage).toLocaleString('en')} synaptic operations.`);
    setDownloads(true);
    metrics.runs++;
    setState('done');
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

/** Re-renders the finished run for the current SAM settings from its recorded spikes. */
async function refreshView(): Promise<void> {
  if (!hasRun) return;
  const o = viewOptions();
  const v = await api.view(o);
  frames = v.frames;
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
    el.grid.setAttribute('aria-label', 'Grid of the map at every time step');
  } else {
    putPicture(el.grid, { width: 1, height: 1, rgba: new Uint8Array([0, 0, 0, 255]) });
    el.grid.setAttribute('aria-label', `No grid: layer ${v.layer || '(none)'} has no map`);
  }
  setDownloads(true);
  el.play.disabled = T < 2;
  el.step.disabled = false;
  metrics.views++;
}

function scheduleView(): void {
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
  const o = viewOptions();
  try {
    if (kind === 'frame') {
      const digits = String(T - 1).length;
      save(await api.framePng(o, shown), `${stem()}-${o.layer}-t${String(shown).padStart(digits, '0')}.png`);
    } else if (kind === 'grid') save(await api.gridPng(o), `${stem()}-${o.layer}.grid.png`);
    else if (kind === 'npy') save(new Blob([(await api.npy(o.layer, o.gamma, o.ncs)).slice().buffer]), `${stem()}-${o.layer}.sam.npy`);
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
  for (const c of [el.layer, el.ncs, el.normalize, el.colormap]) c.addEventListener('change', scheduleView);
  for (const c of [el.gamma, el.limit, el.alpha]) c.addEventListener('input', scheduleView);
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
  arrays: () => api.arrays(),
  summary: () => api.summary(),
  frames: () => frames.length,
  shown: () => shown,
};
(window as unknown as { spikelens: typeof hooks }).spikelens = hooks;

fillSelects();
setupPad();
wire();
legendText(null);
guarded(async () => {
  await loadBundledModel(DEFAULT_MODEL);
  await loadSample(DEFAULT_SAMPLE);
});
