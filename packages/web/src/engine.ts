/**
 * What the page's worker does, without any DOM: load a model and an image, run the network one step at a time while
 * streaming a frame per step, keep every layer's spikes, and turn them into pictures for any SAM setting without
 * simulating again. The worker (worker.ts) adds image decoding and PNG encoding; Node tests drive this class
 * directly, so the page's arithmetic is checked against the library outside a browser too.
 */
import {
  InputError,
  Network,
  UsageError,
  attack as runAttack,
  checkAttack,
  checkRequest,
  explain,
  pixelsToRgba,
  memoryInput,
  simulate,
  baseImage,
  fitPicture,
  imageShape,
  imageToPixels,
  isSpiking,
  parseModel,
  readNir,
  samFromSpikes,
  mapGrid,
  mapOverlays,
  eachMapOverlay,
  sizeOf,
  summarize,
  valueRange,
  writeNpy,
  type AttackMethod,
  type AttackResult,
  type BasePicture,
  type Channels,
  type Explanation,
  type GradcamAlpha,
  type MapStyle,
  type Model,
  type NcsMode,
  type NirImportOptions,
  type SimulateOptions,
  type Summary,
} from '@spikelens/sam';

export interface LayerInfo {
  readonly name: string;
  readonly op: string;
  readonly shape: number[];
  /** lif / if: has spikes. */
  readonly spiking: boolean;
}

/** The image a model reads: its own `[C, H, W]` input, or the square picture a flat `[N]` input is read from. */
export interface ImageShape {
  readonly channels: Channels;
  readonly height: number;
  readonly width: number;
}

export interface ModelInfo {
  readonly file: string;
  readonly name: string;
  readonly inputShape: number[];
  /** How the page turns an image into this model's input (docs/web.md). */
  readonly image: ImageShape;
  readonly timesteps: number | null;
  readonly labels: string[] | null;
  readonly classes: number;
  readonly encoding: string;
  readonly readout: string;
  readonly layers: LayerInfo[];
  /** Spiking layers with a [C, H, W] output: the ones SAM explains. */
  readonly samLayers: string[];
  /** Every spiking layer: a view shows the raster of any of them, and a map only for the samLayers. */
  readonly spikingLayers: string[];
  /** The explanation methods the page can show for this model (sam and gradcam need a samLayer, saliency an image input [C,H,W]). */
  readonly methods: MethodName[];
  readonly parameters: number;
  /** What reading a .nir file had to assume or could not express. */
  readonly warnings: string[];
}

export interface Picture {
  readonly width: number;
  readonly height: number;
  /** Opaque RGBA. */
  readonly rgba: Uint8Array;
}

export interface RunOptions {
  readonly timesteps: number | null;
  readonly seed: number;
  /** SAM settings of the frames streamed during the run. */
  readonly view: ViewOptions;
}

/** The explanation methods of the page: SAM streams with the run; Grad-CAM and saliency are computed after it. */
export type MethodName = 'sam' | 'gradcam' | 'saliency';
export const PAGE_METHODS: readonly MethodName[] = ['sam', 'gradcam', 'saliency'];
export const GRADCAM_ALPHAS: readonly GradcamAlpha[] = ['summed', 'per-step'];

/** What a map explains: the method and its settings (the library's `explain` options). */
export interface MethodOptions {
  /**
   * The spiking layer shown: its raster, and its map when it is conv-shaped (a flat layer has none: the frames are
   * then the picture alone). '' only for a model without spiking layers. Saliency explains the input: its layer
   * is only the raster's.
   */
  readonly layer: string;
  /** SAM's decay and contribution score. */
  readonly gamma: number;
  readonly ncs: NcsMode;
  /** Default 'sam'. */
  readonly method?: MethodName;
  /** The class explained by Grad-CAM and saliency: the image's prediction (default) or a class index. */
  readonly target?: 'pred' | number;
  /** Grad-CAM's channel weights: summed over all steps (default) or per step. */
  readonly gradcamAlpha?: GradcamAlpha;
}

export interface ViewOptions extends MapStyle, MethodOptions {}

/** Raw maps `[T, H, W]` of one method for the current image (T = 1 for saliency). */
export interface Maps {
  readonly method: MethodName;
  /** The layer the maps are of, or 'input' (saliency). */
  readonly layer: string;
  readonly T: number;
  readonly H: number;
  readonly W: number;
  readonly data: Float32Array;
  /** The class the map explains (the prediction for SAM). */
  readonly target: number;
  readonly prediction: number;
}

export interface AttackOptions {
  readonly method: AttackMethod;
  /** The largest change of a pixel on the [0, 1] scale (the page offers 0 to 0.3). */
  readonly eps: number;
  /** PGD: steps (default 10) and random start (default true); the step size is the library's eps / 4. */
  readonly steps?: number;
  readonly randomStart?: boolean;
}

export interface AttackSide {
  /** The image at the model's input size (the pixels the network reads). */
  readonly picture: Picture;
  readonly prediction: number;
  /** The softmax probability of the prediction. */
  readonly probability: number;
  readonly scores: Float32Array;
}

export interface AttackView {
  readonly options: AttackOptions;
  /** The class the loss was taken against: the clean prediction. */
  readonly label: number;
  /** max |x' - x| in pixel units (0..255). */
  readonly linf: number;
  readonly clean: AttackSide;
  readonly adversarial: AttackSide;
}

/** A method's maps over the clean and the adversarial image, at the model's input size. */
export interface AttackMaps {
  readonly method: MethodName;
  readonly layer: string;
  /** Whether there is a map (false for a flat layer: the frames are the pictures alone). */
  readonly mapped: boolean;
  /** Steps of the maps (1 for saliency). */
  readonly T: number;
  readonly clean: Picture[];
  readonly adversarial: Picture[];
  /** The class each map explains: [clean, adversarial]. */
  readonly targets: [number, number];
}

export interface Frame {
  readonly t: number;
  readonly T: number;
  /** The overlay of this step at display size (the image's own, or at most DISPLAY_MAX a side); the picture alone for a layer without a map. */
  readonly overlay: Picture;
  /** Milliseconds the worker spent in this step's simulation, SAM and recording (net.step()). */
  readonly stepMs: number;
  /** Class scores after this step, as the readout gives them. */
  readonly scores: Float32Array;
  readonly prediction: number;
  /** Firing rate of each spiking layer so far (spikes per neuron per step). */
  readonly rates: Record<string, number>;
  /** Fraction of neurons spiking at this step in each raster row of the view layer. */
  readonly raster: Float32Array;
  /** Range of the raw map of this step (before normalisation); 0..0 without a map. */
  readonly range: { min: number; max: number };
}

export interface RunResult {
  readonly cancelled: boolean;
  readonly steps: number;
  readonly summary: Summary | null;
  /** The threads the run's network was computed on (1 or 2: the same bits either way). */
  readonly threads: 1 | 2;
}

/**
 * How the engine runs its networks: on one thread, or on two with a helper thread that `spawnThread` starts (the
 * page's worker gives a module worker; without it, Node's worker thread). Explanations and attacks run on one.
 */
export interface EngineThreads {
  readonly threads: 1 | 2;
  readonly spawnThread?: SimulateOptions['spawnThread'];
}

export interface Raster {
  readonly rows: number;
  readonly neuronsPerRow: number;
  readonly neurons: number;
  readonly T: number;
  /** [T, rows]: the fraction of the row's neurons that spiked at each step. */
  readonly data: Float32Array;
}

export interface View {
  readonly layer: string;
  readonly method: MethodName;
  /** The layer the maps are of ('input' for saliency; the view's layer otherwise). */
  readonly mapLayer: string;
  /** Whether the view has a map: without one, every frame is the same picture (one object, shared). */
  readonly mapped: boolean;
  /** The run's steps. */
  readonly T: number;
  /** The overlays: one per step (T), or one for a method without time (saliency). */
  readonly frames: Picture[];
  /** The class the map explains (the prediction for SAM); -1 without a map. */
  readonly target: number;
  readonly raster: Raster;
  /** min and max of the raw maps over all steps. */
  readonly range: { min: number; max: number };
  /** Class scores after each step, [T][K]. */
  readonly scores: number[][];
}

/** Display overlays are at most this many pixels a side (an MNIST digit stays 28x28 and is scaled by CSS). */
export const DISPLAY_MAX = 512;
/** The spike raster has at most this many rows; neurons (C-H-W order) are grouped evenly into them. */
export const RASTER_ROWS = 192;
/** The largest image accepted (pixels), before anything is allocated for it. */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

interface Recorded {
  readonly net: Network;
  /** Where samFromSpikes works: the network's core above everything the network laid out (see scratchCore). */
  readonly scratch: Network['core'];
  readonly T: number;
  readonly seed: number;
  readonly spikes: Map<string, Uint8Array | Int8Array | Float32Array>;
  readonly scores: Float32Array[];
  readonly summary: Summary;
  readonly image: string;
  /** The maps computed during the run, by key layer|gamma|ncs; others are computed on demand. */
  readonly maps: Map<string, Float32Array>;
  /** The model's input for the image (what `explain` and `attack` are given). */
  readonly pixels: Float32Array;
  /** Grad-CAM and saliency maps of the image, by methodKey. */
  readonly explained: Map<string, Explanation>;
  /** The last attack on this run's image. */
  attacked: Attacked | null;
}

interface Attacked {
  readonly options: AttackOptions;
  readonly result: AttackResult;
  /** Maps of the adversarial image, by methodKey. */
  readonly explained: Map<string, Explanation>;
}

const mapKey = (layer: string, gamma: number, ncs: string) => `${layer}|${gamma}|${ncs}`;

/** The settings a method's maps depend on, as a cache key. */
function methodKey(o: MethodOptions): string {
  const m = o.method ?? 'sam';
  if (m === 'sam') return `sam|${mapKey(o.layer, o.gamma, o.ncs)}`;
  if (m === 'gradcam') return `gradcam|${o.layer}|${o.target ?? 'pred'}|${o.gradcamAlpha ?? 'summed'}`;
  return `saliency|${o.target ?? 'pred'}`;
}

export class Engine {
  constructor(private readonly threading: EngineThreads = { threads: 1 }) {}

  /** The threads runs are computed on. */
  get threads(): 1 | 2 {
    return this.threading.threads;
  }

  private model: Model | null = null;
  private image: { name: string; width: number; height: number; rgba: Uint8Array } | null = null;
  private recorded: Recorded | null = null;
  private cancelRequested = false;
  private running = false;

  loadModel(bytes: Uint8Array, file: string): ModelInfo {
    return this.useModel(parseModel(bytes, file), file, []);
  }

  /** A .nir graph (HDF5), read with the NIR options (preset, dt, reset, time steps...). */
  async loadNir(bytes: Uint8Array, file: string, options: NirImportOptions): Promise<ModelInfo> {
    const r = await readNir(bytes, file, options);
    return this.useModel(r.model, file, r.warnings);
  }

  private warnings: string[] = [];

  private useModel(model: Model, file: string, warnings: string[]): ModelInfo {
    imageOf(model, file);
    this.model = model;
    this.warnings = warnings;
    this.recorded = null;
    return describe(model, file, warnings);
  }

  get modelInfo(): ModelInfo | null {
    return this.model ? describe(this.model, this.model.file ?? '', this.warnings) : null;
  }

  /** A decoded image (RGBA, rows top to bottom). Returns the picture as the model sees it (alpha over black). */
  setImage(rgba: Uint8Array, width: number, height: number, name: string): Picture {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
      throw new InputError(name, `the image is ${width}x${height}: not a picture`);
    if (width * height > MAX_IMAGE_PIXELS)
      throw new InputError(name, `the image is ${width}x${height}, larger than the ${MAX_IMAGE_PIXELS / 2 ** 20} Mpixel the page takes`);
    if (rgba.length !== width * height * 4) throw new InputError(name, `${rgba.length} bytes are not a ${width}x${height} RGBA image`);
    this.image = { name, width, height, rgba };
    this.recorded = null;
    return this.picture(false);
  }

  /** The current image as shown (gray for a 1-channel model), at display size or at its own. */
  picture(display = true): Picture {
    return pictureOf(this.base(display));
  }

  cancel(): void {
    if (this.running) this.cancelRequested = true;
  }

  /**
   * Runs the model on the image, calling `onFrame` after every step and waiting for it (so a slow page throttles
   * the run, and a cancel() sent meanwhile is seen before the next step).
   */
  async run(o: RunOptions, onFrame: (f: Frame) => unknown): Promise<RunResult> {
    const model = this.model;
    if (!model) throw new UsageError('choose a model first');
    const image = this.image;
    if (!image) throw new UsageError('choose an image first');
    if (this.running) throw new UsageError('a run is in progress: cancel it first');
    const shape = imageOf(model, model.file);
    const pixels = imageToPixels(image.rgba, image.width, image.height, shape.channels, shape.height, shape.width, image.name);
    const T = o.timesteps ?? model.timesteps;
    if (T === null || !Number.isInteger(T) || T < 1 || T > 10_000)
      throw new UsageError(o.timesteps === null ? `${model.file}: the model sets no time steps: give a number of steps` : `time steps must be 1 to 10000, not ${T}`);
    if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new UsageError(`the seed must be 0 to 4294967295, not ${o.seed}`);
    const view = checkView(model, o.view);
    // Only SAM is computed while the network runs; the other methods need the whole run (a backward pass).
    const mapped = (view.method ?? 'sam') === 'sam' && hasMap(model, view.layer);
    const names = model.layers.filter((l) => isSpiking(l)).map((l) => l.name);
    const record = [...(model.input.encoding.kind !== 'direct' ? ['input'] : []), ...names];
    const sam = mapped ? [view.layer] : [];
    checkRequest({ model, record, sam }, T);

    this.running = true;
    this.cancelRequested = false;
    this.recorded = null;
    try {
      const display = this.base(true);
      const plain = mapped ? null : pictureOf(display);
      const scores: Float32Array[] = [];
      const engine = this;
      const r = await simulate({
        model,
        source: memoryInput({ kind: 'pixels', data: pixels }, 1, image.name),
        seed: o.seed,
        timesteps: T,
        record,
        sam,
        gamma: view.gamma,
        ncs: view.ncs,
        // Two threads give the bits of one (each neuron is computed by one thread with the same code).
        threads: this.threading.threads,
        spawnThread: this.threading.spawnThread,
        signal: { get aborted() { return engine.cancelRequested; } },
        onStep: async ({ net, t, recorders, sams, stepMs }) => {
          const s = net.scores();
          scores.push(s);
          const maps = sams[0]?.maps.data();
          const [, H, W] = mapped ? net.layer(view.layer).outShape : [0, 0, 0];
          const spikes = recorders.find((x) => x.layer === view.layer)?.spikes!.data();
          let overlay: Uint8Array = plain?.rgba.slice() ?? new Uint8Array(0);
          // Each frame has its own buffer: the worker hands it over to the page.
          if (maps) eachMapOverlay(maps.subarray(t * H * W), H, W, display, frameStyle(view, maps), (rgba) => (overlay = rgba), [0]);
          await onFrame({
            t,
            T,
            stepMs,
            overlay: { width: display.width, height: display.height, rgba: overlay },
            scores: s,
            prediction: net.predictions(s)[0],
            rates: net.firingRates(),
            raster: spikes ? rasterColumn(spikes, t, spikes.length / (t + 1)) : new Float32Array(0),
            range: maps ? valueRange(maps.subarray(t * H * W)) : { min: 0, max: 0 },
          });
        },
      });
      const threads = this.threading.threads;
      if (r.cancelled || this.cancelRequested) return { cancelled: true, steps: r.net.t, summary: null, threads };
      const summary = summarize(r, { input: image.name, sam: mapped ? { layers: [view.layer], gamma: view.gamma, ncs: view.ncs } : null });
      const spikes = new Map(r.recorders.map((x) => [x.layer, x.spikes!.data().slice()] as const));
      const maps = new Map<string, Float32Array>(mapped ? [[mapKey(view.layer, view.gamma, view.ncs), r.sams[0].maps.data().slice()]] : []);
      this.recorded = {
        net: r.net, scratch: scratchCore(r.net), T, seed: o.seed, spikes, scores, summary, image: image.name, maps,
        pixels: pixels.slice(), explained: new Map(), attacked: null,
      };
      return { cancelled: false, steps: T, summary, threads };
    } finally {
      this.running = false;
      this.cancelRequested = false;
    }
  }

  /** The raw maps `[T, H, W]` of a layer for these settings, from the recorded spikes. */
  async maps(layer: string, gamma: number, ncs: NcsMode): Promise<{ T: number; H: number; W: number; data: Float32Array }> {
    const rec = this.requireRun();
    const v = checkView(this.model!, { layer, gamma, ncs, normalize: 'frame', colormap: 'jet', alpha: 0.5 });
    if (!hasMap(this.model!, v.layer)) throw new UsageError(noMap(this.model!, v.layer));
    const [C, H, W] = rec.net.layer(layer).outShape;
    const key = mapKey(v.layer, v.gamma, v.ncs);
    let data = rec.maps.get(key);
    if (!data) {
      data = await samFromSpikes(rec.spikes.get(layer)!, { T: rec.T, B: 1, C, H, W }, { gamma, ncs, core: rec.scratch });
      rec.maps.set(key, data);
    }
    return { T: rec.T, H, W, data };
  }

  /**
   * The raw maps of any method for the last run's image: SAM from the recorded spikes, Grad-CAM and saliency by the
   * library's `explain` with the run's seed and steps (cached per setting until the next run).
   */
  async methodMaps(o: MethodOptions): Promise<Maps> {
    const rec = this.requireRun();
    const model = this.model!;
    const v = checkMethod(model, o);
    const method = v.method ?? 'sam';
    const pred = rec.summary.predictions[0];
    if (method === 'sam') {
      const { T, H, W, data } = await this.maps(v.layer, v.gamma, v.ncs);
      return { method, layer: v.layer, T, H, W, data, target: pred, prediction: pred };
    }
    if (method === 'gradcam' && !hasMap(model, v.layer)) throw new UsageError(noMap(model, v.layer));
    const key = methodKey(v);
    let e = rec.explained.get(key);
    if (!e) {
      e = await explainImage(model, rec.pixels, v, rec);
      rec.explained.set(key, e);
    }
    return fromExplanation(e);
  }

  /** Every step's overlay, the raster and the score history for a view of the last run. */
  async view(o: ViewOptions): Promise<View> {
    const rec = this.requireRun();
    const model = this.model!;
    const v = checkView(model, o);
    const method = v.method ?? 'sam';
    const scores = rec.scores.map((s) => Array.from(s));
    const spikes = rec.spikes.get(v.layer);
    const rasterOf = spikes ? raster(spikes, rec.T) : { rows: 0, neuronsPerRow: 0, neurons: 0, T: rec.T, data: new Float32Array(0) };
    const base = this.base(true);
    if (!viewHasMap(model, v)) {
      const picture = pictureOf(base);
      return {
        layer: v.layer, method, mapLayer: v.layer, mapped: false, T: rec.T, frames: Array.from({ length: rec.T }, () => picture), target: -1,
        raster: rasterOf, range: { min: 0, max: 0 }, scores,
      };
    }
    const m = await this.methodMaps(v);
    const frames = mapOverlays(m.data, m.H, m.W, base, v).map((rgba) => ({ width: base.width, height: base.height, rgba }));
    return { layer: v.layer, method, mapLayer: m.layer, mapped: true, T: rec.T, frames, target: m.target, raster: rasterOf, range: valueRange(m.data), scores };
  }

  /** One step's overlay at the image's own size: the CLI's `t<step>.png` (saliency has step 0 only). */
  async frame(o: ViewOptions, t: number): Promise<Picture> {
    const { T, H, W, data } = await this.methodMaps(o);
    if (!Number.isInteger(t) || t < 0 || t >= T) throw new UsageError(`step ${t} is not in 0..${T - 1}`);
    const base = this.base(false);
    let rgba: Uint8Array = new Uint8Array(0);
    eachMapOverlay(data, H, W, base, o, (r) => (rgba = r), [t]);
    return { width: base.width, height: base.height, rgba };
  }

  /** The grid of all steps: the CLI's `<layer>.grid.png` (SAM, as `spikelens run --sam`) or `<layer>.<method>.grid.png`. */
  async grid(o: ViewOptions): Promise<Picture> {
    const rec = this.requireRun();
    const m = await this.methodMaps(o);
    const pred = rec.summary.predictions[0];
    const labels = this.model!.input.labels;
    const name = (c: number) => (labels ? labels[c] : String(c));
    const stem = rec.image.replace(/\.[^.]*$/, '');
    const title = m.method === 'sam' ? `${stem}  ${o.layer}  predicted: ${name(pred)}` : `${stem}  ${m.layer}  ${m.method}  target ${name(m.target)}  predicted ${name(pred)}`;
    return mapGrid(m.data, m.H, m.W, this.base(false), o, title);
  }

  /** The raw maps as `.npy`, float32 [T, 1, H, W]: the CLI's `<layer>.sam.npy` (or `<layer>.<method>.npy`). */
  async npy(o: MethodOptions | string, gamma = 0.5, ncs: NcsMode = 'inclusive'): Promise<Uint8Array> {
    const { T, H, W, data } = await this.methodMaps(typeof o === 'string' ? { layer: o, gamma, ncs } : o);
    return writeNpy(data, [T, 1, H, W]);
  }

  /** The run's summary (`spikelens.summary/1`), with the SAM settings of the current view (null for a layer without a map, or another method). */
  summary(view?: Pick<ViewOptions, 'layer' | 'gamma' | 'ncs' | 'method'>): Summary {
    const rec = this.requireRun();
    if (!view) return rec.summary;
    const sam = (view.method ?? 'sam') === 'sam' && hasMap(this.model!, view.layer);
    return { ...rec.summary, sam: sam ? { layers: [view.layer], gamma: view.gamma, ncs: view.ncs } : null };
  }

  /**
   * Attacks the last run's image (the model's input for it, as the run read it) with the library's `attack`, with
   * the run's seed and steps; the loss is taken against the clean prediction. Replaces the previous attack.
   */
  async attack(o: AttackOptions): Promise<AttackView> {
    const rec = this.requireRun();
    const model = this.model!;
    const pgd = o.method === 'pgd';
    const options = { method: o.method, eps: o.eps, ...(pgd ? { steps: o.steps, randomStart: o.randomStart } : {}) };
    checkAttack(options);
    const result = await runAttack(model, rec.pixels, 1, { ...options, seed: rec.seed, timesteps: rec.T });
    const attacked: Attacked = { options, result, explained: new Map() };
    rec.attacked = attacked;
    const { channels, height, width } = imageOf(model, model.file);
    const side = (pixels: Float32Array, r: AttackResult['clean']): AttackSide => ({
      picture: { width, height, rgba: pixelsToRgba(pixels, channels, height, width) },
      prediction: r.predictions[0],
      probability: r.probabilities[0],
      scores: r.scores,
    });
    return { options, label: result.labels[0], linf: result.linf[0], clean: side(rec.pixels, result.clean), adversarial: side(result.adversarial, result.attacked) };
  }

  /**
   * The maps of each view's method over the clean and the adversarial image of the last attack, at the model's
   * input size: the clean ones are the run's; the adversarial ones `explain` computes with the same settings (for
   * target 'pred', the adversarial image's own prediction).
   */
  async attackMaps(views: readonly ViewOptions[]): Promise<AttackMaps[]> {
    const rec = this.requireRun();
    const a = this.requireAttack(rec);
    const model = this.model!;
    const { channels, height, width } = imageOf(model, model.file);
    const baseOf = (pixels: Float32Array): BasePicture => {
      const rgba = pixelsToRgba(pixels, channels, height, width);
      const px = new Uint8Array(width * height * channels);
      for (let p = 0; p < width * height; p++) for (let c = 0; c < channels; c++) px[p * channels + c] = rgba[p * 4 + c];
      return { width, height, pixels: px };
    };
    const cleanBase = baseOf(rec.pixels);
    const advBase = baseOf(a.result.adversarial);
    const out: AttackMaps[] = [];
    for (const o of views) {
      const v = checkView(model, o);
      const method = v.method ?? 'sam';
      if (!viewHasMap(model, v)) {
        out.push({ method, layer: v.layer, mapped: false, T: 1, clean: [pictureOf(cleanBase)], adversarial: [pictureOf(advBase)], targets: [-1, -1] });
        continue;
      }
      const clean = await this.methodMaps(v);
      const adv = fromExplanation(await this.adversarialExplanation(rec, a, v));
      const pictures = (m: Maps, base: BasePicture) => mapOverlays(m.data, m.H, m.W, base, v).map((rgba) => ({ width, height, rgba }));
      out.push({ method, layer: clean.layer, mapped: true, T: clean.T, clean: pictures(clean, cleanBase), adversarial: pictures(adv, advBase), targets: [clean.target, adv.target] });
    }
    return out;
  }

  /** The last attack's adversarial pixels (whole values 0..255, C-H-W) and each method's raw maps of them. */
  async attackArrays(views: readonly MethodOptions[]): Promise<{ adversarial: Float32Array; maps: Float32Array[] }> {
    const rec = this.requireRun();
    const a = this.requireAttack(rec);
    const maps: Float32Array[] = [];
    for (const o of views) maps.push((await this.adversarialExplanation(rec, a, checkMethod(this.model!, o))).maps);
    return { adversarial: a.result.adversarial, maps };
  }

  private async adversarialExplanation(rec: Recorded, a: Attacked, v: MethodOptions): Promise<Explanation> {
    const model = this.model!;
    if ((v.method ?? 'sam') !== 'saliency' && !hasMap(model, v.layer)) throw new UsageError(noMap(model, v.layer));
    const key = methodKey(v);
    let e = a.explained.get(key);
    if (!e) {
      e = await explainImage(model, a.result.adversarial, v, rec);
      a.explained.set(key, e);
    }
    return e;
  }

  private requireAttack(rec: Recorded): Attacked {
    if (!rec.attacked) throw new UsageError('run an attack first');
    return rec.attacked;
  }

  /**
   * Every array the last run recorded, by the name of the CLI's file: `input.spikes` (when the input is spikes),
   * `<layer>.spikes` for each spiking layer, `<layer>.sam` for the maps computed during the run.
   */
  arrays(): Record<string, Uint8Array | Int8Array | Float32Array> {
    const rec = this.requireRun();
    const out: Record<string, Uint8Array | Int8Array | Float32Array> = {};
    for (const [name, s] of rec.spikes) out[`${name}.spikes`] = s;
    for (const [key, m] of rec.maps) {
      const [layer, gamma, ncs] = key.split('|');
      out[`${layer}.sam` + (rec.maps.size > 1 ? `[gamma=${gamma},ncs=${ncs}]` : '')] = m;
    }
    return out;
  }

  private requireRun(): Recorded {
    if (!this.recorded) throw new UsageError('run the model first');
    return this.recorded;
  }

  private base(display: boolean): BasePicture {
    const img = this.image;
    if (!img) throw new UsageError('choose an image first');
    const channels = this.model ? imageOf(this.model, this.model.file).channels : 3;
    const rgba = baseImage(img.rgba, img.width, img.height, channels);
    const pixels = new Uint8Array(img.width * img.height * 3);
    for (let p = 0; p < img.width * img.height; p++) pixels.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
    const full = { width: img.width, height: img.height, pixels };
    return display ? fitPicture(full, DISPLAY_MAX) : full;
  }
}

/**
 * The image a model reads. A `[C, H, W]` input is one (C 1 or 3). A flat `[N]` input is read from a square picture,
 * its pixels in C-H-W order as `torch.flatten` orders a `[C, H, W]` image: `N = s*s` is an s x s gray image, `N = 3*s*s`
 * an s x s RGB one. Anything else takes no image: an InputError naming `file`.
 */
export function imageOf(model: Model, file: string): ImageShape {
  const s = model.input.shape;
  if (s.length === 1) {
    const [N] = s;
    const side = (n: number) => {
      const r = Math.round(Math.sqrt(n));
      return r * r === n ? r : 0;
    };
    if (side(N)) return { channels: 1, height: side(N), width: side(N) };
    if (N % 3 === 0 && side(N / 3)) return { channels: 3, height: side(N / 3), width: side(N / 3) };
    throw new InputError(
      file,
      `the model takes input [${N}], not an image: the page reads a flat input from a square picture, s x s gray (${N} is not s*s) or s x s RGB (${N} is not 3*s*s)`,
    );
  }
  const { C, H, W } = imageShape(model, file);
  return { channels: C, height: H, width: W };
}

/** Whether a view of `layer` has a map: a conv-shaped spiking layer. */
function hasMap(model: Model, layer: string): boolean {
  const l = model.layers.find((x) => x.name === layer);
  return !!l && isSpiking(l) && l.outShape.length === 3;
}

function noMap(model: Model, layer: string): string {
  const l = model.layers.find((x) => x.name === layer);
  return l ? `layer "${layer}" is flat ([${l.outShape.join(',')}]): it has no map` : 'no layer is chosen: the model has no spiking layer, so there is no map';
}

/** Whether a view has a map: SAM and Grad-CAM of a conv-shaped spiking layer, saliency of an image input. */
function viewHasMap(model: Model, v: MethodOptions): boolean {
  return (v.method ?? 'sam') === 'saliency' ? model.input.shape.length === 3 : hasMap(model, v.layer);
}

/** The library's `explain` of one image (`pixels`, the model's input) with a view's settings and the run's seed and steps. */
function explainImage(model: Model, pixels: Float32Array, v: MethodOptions, rec: { seed: number; T: number }): Promise<Explanation> {
  const method = v.method ?? 'sam';
  return explain(method, model, { kind: 'pixels', data: pixels }, 1, {
    layer: method === 'saliency' ? undefined : v.layer,
    target: v.target ?? 'pred',
    alpha: v.gradcamAlpha ?? 'summed',
    gamma: v.gamma,
    ncs: v.ncs,
    seed: rec.seed,
    timesteps: rec.T,
  });
}

function fromExplanation(e: Explanation): Maps {
  return { method: e.method as MethodName, layer: e.layer, T: e.T, H: e.H, W: e.W, data: e.maps, target: e.targets[0], prediction: e.predictions[0] };
}

/** Opaque RGBA of a picture's pixels (gray or RGB). */
function pictureOf(base: BasePicture): Picture {
  const n = base.width * base.height;
  const ch = base.pixels.length / n;
  const rgba = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) rgba[p * 4 + c] = base.pixels[p * ch + (ch === 1 ? 0 : c)];
    rgba[p * 4 + 3] = 255;
  }
  return { width: base.width, height: base.height, rgba };
}

/**
 * A core for samFromSpikes that leaves the network alone: the network's own instance, with its heap starting above
 * everything the network laid out (a Network allocates once, when it is made). samFromSpikes lays out its scratch from
 * the heap base of the core it is given, so given the network's core itself it would overwrite the network's weights
 * and state. One per recorded run; each re-render reuses the same bytes.
 */
function scratchCore(net: Network): Network['core'] {
  const core = net.core;
  const offset = Math.ceil(net.arena.size / 16) * 16; // arithmetic: an arena may pass 2 GiB, past 32-bit bit operations
  return {
    exports: core.exports,
    memory: core.memory,
    heapBase: core.heapBase + offset,
    reserve: (bytes: number) => core.reserve(offset + bytes),
  };
}

function describe(model: Model, file: string, warnings: string[]): ModelInfo {
  const layers = model.layers.map((l) => ({ name: l.name, op: l.op, shape: [...l.outShape], spiking: isSpiking(l) }));
  let parameters = 0;
  for (const l of model.layers) if (l.op === 'conv2d' || l.op === 'linear') parameters += l.weight.data.length + (l.bias?.data.length ?? 0);
  const last = model.layers[model.layers.length - 1];
  return {
    file,
    name: model.name,
    inputShape: [...model.input.shape],
    image: imageOf(model, file),
    timesteps: model.timesteps,
    labels: model.input.labels ? [...model.input.labels] : null,
    classes: sizeOf(last.outShape),
    encoding: model.input.encoding.kind,
    readout: model.readout,
    layers,
    samLayers: layers.filter((l) => l.spiking && l.shape.length === 3).map((l) => l.name),
    spikingLayers: layers.filter((l) => l.spiking).map((l) => l.name),
    methods: PAGE_METHODS.filter((m) => (m === 'saliency' ? model.input.shape.length === 3 : layers.some((l) => l.spiking && l.shape.length === 3))),
    parameters,
    warnings: [...warnings],
  };
}

/** The method settings of a view, checked before any work. */
function checkMethod<V extends MethodOptions>(model: Model, v: V): V {
  const method = v.method ?? 'sam';
  if (!PAGE_METHODS.includes(method)) throw new UsageError(`unknown method "${String(method).slice(0, 40)}" (one of ${PAGE_METHODS.join(', ')})`);
  const t = v.target ?? 'pred';
  const K = sizeOf(model.layers[model.layers.length - 1].outShape);
  if (t !== 'pred' && !(Number.isInteger(t) && t >= 0 && t < K)) throw new UsageError(`the target class is ${t}, not a class from 0 to ${K - 1}`);
  if (!GRADCAM_ALPHAS.includes(v.gradcamAlpha ?? 'summed')) throw new UsageError(`Grad-CAM's alpha is summed or per-step, not ${v.gradcamAlpha}`);
  if (!Number.isFinite(v.gamma) || v.gamma < 0) throw new UsageError(`gamma must be a number >= 0, not ${v.gamma}`);
  return v;
}

function checkView(model: Model, v: ViewOptions): ViewOptions {
  checkMethod(model, v);
  if (v.layer === '') {
    if (model.layers.some((l) => isSpiking(l))) throw new UsageError('choose a spiking layer to view');
  } else {
    const l = model.layers.find((x) => x.name === v.layer);
    if (!l) throw new UsageError(`the model has no layer "${v.layer}"`);
    if (!isSpiking(l)) throw new UsageError(`layer "${v.layer}" (${l.op}) has no spikes and no spike map: choose a lif or if layer`);
  }
  if (!Number.isFinite(v.gamma) || v.gamma < 0) throw new UsageError(`gamma must be a number >= 0, not ${v.gamma}`);
  if (v.normalize === 'fixed' && !(Number.isFinite(v.limit) && v.limit! > 0)) throw new UsageError('fixed normalisation needs a limit > 0');
  if (!(v.alpha >= 0 && v.alpha <= 1)) throw new UsageError(`alpha must be 0 to 1, not ${v.alpha}`);
  return v;
}

/**
 * While streaming, `global` normalisation can only use the steps so far: it is applied over them as a `fixed`
 * limit (the running maximum), and the finished run is re-rendered over all steps.
 */
function frameStyle(v: ViewOptions, mapsSoFar: Float32Array): MapStyle {
  if (v.normalize !== 'global') return v;
  const r = valueRange(mapsSoFar);
  return r.max > 0 && r.min === 0 ? { ...v, normalize: 'fixed', limit: r.max } : { ...v, normalize: 'frame' };
}

function rasterRows(n: number): number {
  return Math.min(n, RASTER_ROWS);
}

/** Row r holds neurons [floor(r n / R), floor((r + 1) n / R)). */
function rasterColumn(spikes: ArrayLike<number>, t: number, n: number): Float32Array {
  const R = rasterRows(n);
  const col = new Float32Array(R);
  const base = t * n;
  for (let r = 0; r < R; r++) {
    const a = Math.floor((r * n) / R);
    const b = Math.floor(((r + 1) * n) / R);
    let k = 0;
    for (let i = a; i < b; i++) if (spikes[base + i] !== 0) k++;
    col[r] = k / (b - a);
  }
  return col;
}

function raster(spikes: Uint8Array | Int8Array | Float32Array, T: number): Raster {
  const n = spikes.length / T;
  const rows = rasterRows(n);
  const data = new Float32Array(T * rows);
  for (let t = 0; t < T; t++) data.set(rasterColumn(spikes, t, n), t * rows);
  return { rows, neuronsPerRow: n / rows, neurons: n, T, data };
}
