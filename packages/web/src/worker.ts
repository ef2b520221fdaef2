/**
 * The page's module worker: all simulation, SAM and rendering happen here; the main thread only draws what this
 * sends. Exposed with comlink synchronously at start-up (a top-level await before `expose` would drop the first
 * message); the WebAssembly core is instantiated lazily by the first run. On a cross-origin isolated page runs use two
 * threads: this worker and a helper worker it starts with the first run and keeps for the next (helper.ts).
 */
import * as Comlink from 'comlink';
import { InputError, type NirImportOptions, type Summary } from '@spikelens/sam';
import { mnistStyle } from './digit.js';
import { helperState, spawnHelper, threading, type Threading } from './helper.js';
import {
  Engine,
  MAX_IMAGE_PIXELS,
  type AttackMaps,
  type AttackOptions,
  type AttackView,
  type Frame,
  type MethodOptions,
  type ModelInfo,
  type Picture,
  type RunOptions,
  type RunResult,
  type View,
  type ViewOptions,
} from './engine.js';

/** Two threads (a second module worker as the helper) on a cross-origin isolated page, else one. */
const threads: Threading = threading();
const engine = new Engine(threads.threads === 2 ? { threads: 2, spawnThread: spawnHelper } : { threads: 1 });

/** Errors cross to the page as plain messages: it shows them and keeps working. */
function plain(err: unknown): Error {
  if (err instanceof Error) {
    const e = new Error(err.message);
    e.name = err.name;
    return e;
  }
  return new Error(String(err));
}

async function guard<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw plain(err);
  }
}

async function fetchBytes(url: string, name: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch {
    throw new InputError(name, 'could not be fetched (is the page still served?)');
  }
  if (!res.ok) throw new InputError(name, `could not be fetched: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Decoded by the browser, without colour management, so an 8-bit PNG gives back its stored bytes. */
async function decodeImage(blob: Blob, name: string): Promise<{ rgba: Uint8Array; width: number; height: number }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new InputError(name, 'the browser cannot decode this image (expected a PNG or JPEG file)');
  }
  const { width, height } = bitmap;
  if (width * height > MAX_IMAGE_PIXELS) {
    bitmap.close();
    throw new InputError(name, `the image is ${width}x${height}, larger than the ${MAX_IMAGE_PIXELS / 2 ** 20} Mpixel the page takes`);
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

async function png(p: Picture): Promise<Blob> {
  const canvas = new OffscreenCanvas(p.width, p.height);
  const ctx = canvas.getContext('2d')!;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(p.rgba), p.width, p.height), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

function transferPicture<T extends { overlay: Picture }>(x: T): T {
  return Comlink.transfer(x, [x.overlay.rgba.buffer as ArrayBuffer]);
}

async function sha256(bytes: ArrayBufferView): Promise<string> {
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const digest = await crypto.subtle.digest('SHA-256', view.slice());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const api = {
  /** How runs are computed here (the page shows its text). */
  threading(): Threading {
    return threads;
  },
  /** Helper workers started so far (one for the page's life, unless one failed), and whether one serves a run now. */
  helper(): { started: number; serving: boolean } {
    return helperState();
  },
  /** A .safetensors model, or a .nir graph read with `nir` (preset, dt, reset, time steps). */
  loadModelBytes(bytes: ArrayBuffer, file: string, nir: NirImportOptions = {}): Promise<ModelInfo> {
    return guard(() =>
      /\.nir$/i.test(file) ? engine.loadNir(new Uint8Array(bytes), file, nir) : engine.loadModel(new Uint8Array(bytes), file),
    );
  },
  loadModelUrl(url: string, file: string): Promise<ModelInfo> {
    return guard(async () => engine.loadModel(await fetchBytes(url, file), file));
  },
  loadImageBlob(blob: Blob, name: string): Promise<Picture> {
    return guard(async () => {
      const img = await decodeImage(blob, name);
      return engine.setImage(img.rgba, img.width, img.height, name);
    });
  },
  loadImageUrl(url: string, name: string): Promise<Picture> {
    return guard(async () => {
      const bytes = await fetchBytes(url, name);
      const img = await decodeImage(new Blob([bytes.slice().buffer]), name);
      return engine.setImage(img.rgba, img.width, img.height, name);
    });
  },
  /** A drawing (RGBA of the pad), centred MNIST-style at the height of the image the model reads (a flat input's too). */
  setDrawing(rgba: Uint8Array, width: number, height: number): Promise<Picture> {
    return guard(() => {
      const info = engine.modelInfo;
      const size = info ? info.image.height : 28;
      const digit = mnistStyle(rgba, width, height, size);
      if (!digit) throw new InputError('drawing', 'nothing is drawn yet');
      return engine.setImage(digit, size, size, 'drawing.png');
    });
  },
  run(o: RunOptions, onFrame: (f: Frame) => unknown): Promise<RunResult> {
    return guard(() => engine.run(o, (f) => onFrame(transferPicture(f))));
  },
  cancel(): void {
    engine.cancel();
  },
  view(o: ViewOptions): Promise<View> {
    return guard(async () => {
      const v = await engine.view(o);
      // Without a map every frame is the same picture: each buffer is listed once (a repeat throws a DataCloneError).
      return Comlink.transfer(v, [...new Set(v.frames.map((f) => f.rgba.buffer as ArrayBuffer))]);
    });
  },
  framePng(o: ViewOptions, t: number): Promise<Blob> {
    return guard(async () => png(await engine.frame(o, t)));
  },
  gridPng(o: ViewOptions): Promise<Blob> {
    return guard(async () => png(await engine.grid(o)));
  },
  grid(o: ViewOptions): Promise<Picture> {
    return guard(() => engine.grid(o));
  },
  /** The raw maps of a view's method as .npy, float32 [T, 1, H, W]. */
  npy(o: MethodOptions): Promise<Uint8Array> {
    return guard(() => engine.npy(o));
  },
  /** FGSM or PGD on the last run's image (the library's `attack`, the run's seed and steps). */
  attack(o: AttackOptions): Promise<AttackView> {
    return guard(async () => {
      const a = await engine.attack(o);
      return Comlink.transfer(a, [a.clean.picture.rgba.buffer as ArrayBuffer, a.adversarial.picture.rgba.buffer as ArrayBuffer]);
    });
  },
  /** Each view's maps over the clean and the adversarial image of the last attack. */
  attackMaps(views: ViewOptions[]): Promise<AttackMaps[]> {
    return guard(async () => {
      const maps = await engine.attackMaps(views);
      const buffers = maps.flatMap((m) => [...m.clean, ...m.adversarial].map((p) => p.rgba.buffer as ArrayBuffer));
      return Comlink.transfer(maps, [...new Set(buffers)]);
    });
  },
  /** SHA-256 of each method's raw maps (float32 bytes) for the last run's image. */
  mapHashes(views: MethodOptions[]): Promise<string[]> {
    return guard(async () => {
      const out: string[] = [];
      for (const v of views) out.push(await sha256((await engine.methodMaps(v)).data));
      return out;
    });
  },
  /** SHA-256 of the last attack's adversarial pixels (float32 [C,H,W], whole values 0..255) and of each method's maps of them. */
  attackHashes(views: MethodOptions[]): Promise<{ adversarial: string; maps: string[] }> {
    return guard(async () => {
      const a = await engine.attackArrays(views);
      const maps: string[] = [];
      for (const m of a.maps) maps.push(await sha256(m));
      return { adversarial: await sha256(a.adversarial), maps };
    });
  },
  summary(view?: Pick<ViewOptions, 'layer' | 'gamma' | 'ncs' | 'method'>): Promise<Summary> {
    return guard(() => engine.summary(view));
  },
  /** SHA-256 of every array the last run recorded (the end-to-end test compares them with Node's). */
  arrays(): Promise<Record<string, Uint8Array | Int8Array | Float32Array>> {
    return guard(() => engine.arrays());
  },
  hashes(): Promise<Record<string, string>> {
    return guard(async () => {
      const out: Record<string, string> = {};
      for (const [name, a] of Object.entries(engine.arrays())) out[name] = await sha256(a);
      return out;
    });
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
