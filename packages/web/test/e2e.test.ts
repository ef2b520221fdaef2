/**
 * End-to-end: the built site (dist/) served by Vite's preview on 127.0.0.1 (cross-origin isolated: the page runs on
 * two threads), and once by a plain static server without the isolation headers (one thread, the same bits); the
 * same tests run in each browser of ./driver.ts: Debian's Chromium driven by playwright-core, and Debian's Firefox
 * ESR (SpiderMonkey, a second WebAssembly engine) driven by puppeteer-core over WebDriver BiDi. `.ci/run` installs
 * both; without one (and without CI set) its suite says it skipped. SPIKELENS_E2E_BROWSERS=chromium (or firefox)
 * runs one of them only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, copyFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Network,
  Recorder,
  SamObserver,
  attack,
  explain,
  imageInput,
  parseModel,
  pixelsToRgba,
  readNpy,
  rgbaToRgb,
  samFromSpikes,
  mapGrid,
  writeNir,
  type ExplainOptions,
  type Model,
} from '@spikelens/sam';
import { decodePng } from '@spikelens/sam/node';
import { ENGINES, type Driver, type Tab } from './driver.js';
import { mlp } from './mlp.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const repo = join(pkg, '..', '..');
const haveSite = existsSync(join(pkg, 'dist', 'index.html'));
const chosen = (process.env.SPIKELENS_E2E_BROWSERS ?? 'chromium,firefox').toLowerCase().split(',').map((b) => b.trim());
const engines = ENGINES.filter((e) => chosen.includes(e.name.toLowerCase()));

for (const e of engines) if (!e.available && !process.env.CI) console.warn(`[web e2e] ${e.name} SKIPPED: ${e.missing}`);

describe('in CI the browsers are there', () => {
  it.runIf(!!process.env.CI).each(engines)('finds $name and the built site', (e) => {
    expect(e.available, `${e.name}: ${e.missing}`).toBe(true);
    expect(haveSite, 'packages/web/dist is missing: turbo builds it before the tests').toBe(true);
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function sha256(a: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

/**
 * What the page's `hashes()` gives for a run, computed by Node (one thread): SHA-256 of each recorded layer's spikes
 * (`<layer>.spikes`) and of the SAM maps of `samLayer` (`<layer>.sam`); with the predictions and firing rates.
 */
async function nodeRun(modelFile: string, imageFile: string, seed: number, steps: number, layers: string[], samLayer: string | null) {
  const model = parseModel(readFileSync(modelFile), modelFile);
  const img = decodePng(readFileSync(imageFile), imageFile);
  const net = await Network.create(model, { batch: 1, seed });
  net.setInput({ kind: 'pixels', data: imageInput(model, img.rgba, img.width, img.height, imageFile) });
  const recs = layers.map((n) => new Recorder(net, n, { spikes: true }));
  recs.forEach((r) => net.observe(r));
  const sam = samLayer === null ? null : new SamObserver(net, samLayer, { gamma: 0.5, ncs: 'inclusive' });
  if (sam) net.observe(sam);
  net.run(steps);
  const hashes: Record<string, string> = {};
  for (const r of recs) hashes[`${r.layer}.spikes`] = sha256(r.spikes!.data());
  if (sam) hashes[`${samLayer}.sam`] = sha256(sam.maps.data());
  return { hashes, predictions: net.predictions(), firingRates: net.firingRates() };
}

/** `dir` served on 127.0.0.1 as any static server would: no Cross-Origin-Opener/Embedder-Policy headers. */
async function plainServer(dir: string): Promise<{ url: string; server: Server }> {
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml',
    '.json': 'application/json', '.wasm': 'application/wasm',
  };
  const root = normalize(dir + sep);
  const server = createHttpServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server };
}

const MNIST_MODEL = join(repo, 'models', 'mnist-lif-bptt.safetensors');
const DIGIT_7 = join(repo, 'samples', 'mnist', 'digit-7-0.png');

interface Metrics {
  attacks: number;
  attackViews: number;
  firstFrameMs: number | null;
  longTasks: number[];
  maxHandlerMs: number;
  steps: number;
  runs: number;
  views: number;
  errors: number;
  stepMs: number[];
}

for (const engine of engines)
describe.runIf(engine.available && haveSite)(`the web page in ${engine.name}`, () => {
  const tag = `[web e2e ${engine.name}]`;
  /** Chromium's pictures keep their names (the README's screenshot is Chromium's); Firefox's say whose they are. */
  const picture = (name: string) => (engine.name === 'Chromium' ? name : name.replace(/\.png$/, `-${engine.name.toLowerCase()}.png`));
  let server: ChildProcess;
  let browser: Driver;
  let page: Tab;
  let url = '';
  const consoleErrors: string[] = [];
  /** The workers the main page started (its worker, and the helper worker of two-thread runs). */
  const helperStarts: string[] = [];
  /** The isolated (two-thread) page's hashes of the bundled demo's run and of the uploaded model's, by the tests that made them. */
  const twoThreads: { demo?: Record<string, string>; upload?: Record<string, string>; firstFrame?: string; stepMs?: number } = {};

  const metrics = (): Promise<Metrics> => page.evaluate(() => (window as any).spikelens.metrics());
  /** `page.waitForFunction`, and on a timeout what the page shows (state, status line, error), to say why. */
  async function until<A>(fn: (arg: A) => unknown, arg: A): Promise<void> {
    try {
      await page.waitForFunction(fn, arg, { timeout: 30_000 });
    } catch (err) {
      const shown = await page
        .evaluate(() => JSON.stringify({ state: document.body.dataset.state, status: document.getElementById('status')?.textContent, error: document.getElementById('error')?.textContent }))
        .catch((e) => `(page unreadable: ${e})`);
      throw new Error(`${(err as Error).message}; the page: ${shown}`);
    }
  }
  /** Does `action`, then waits until the page has finished one more run than before. */
  async function afterRun(action: () => Promise<unknown>): Promise<Metrics> {
    const before = (await metrics()).runs;
    await action();
    await until((n) => (window as any).spikelens.metrics().runs > n && document.body.dataset.state === 'done', before);
    return metrics();
  }
  async function afterError(action: () => Promise<unknown>): Promise<string> {
    const before = (await metrics()).errors;
    await action();
    await until((n) => (window as any).spikelens.metrics().errors > n, before);
    return (await page.textContent('#error')) ?? '';
  }
  /** Does `action`, then waits until the page has rendered one more view (or attack) than before. */
  async function afterView(action: () => Promise<unknown>, what: 'views' | 'attacks' | 'attackViews' = 'views'): Promise<Metrics> {
    const before = (await metrics())[what];
    await action();
    await until(([n, k]) => (window as any).spikelens.metrics()[k] > n && document.body.dataset.state === 'done', [before, what] as const);
    return metrics();
  }
  const canvasPixels = (id: string): Promise<number[]> =>
    page.evaluate((id) => {
      const c = document.getElementById(id) as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    }, id);
  const overlayPixels = (): Promise<number[]> => canvasPixels('overlay');
  const setSelect = (id: string, value: string): Promise<void> =>
    page.evaluate(([id, value]) => {
      const s = document.getElementById(id) as HTMLSelectElement;
      s.value = value;
      s.dispatchEvent(new Event('change', { bubbles: true }));
    }, [id, value] as const);
  const setRange = (id: string, value: string): Promise<void> =>
    page.evaluate(([id, value]) => {
      const s = document.getElementById(id) as HTMLInputElement;
      s.value = value;
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }, [id, value] as const);
  async function showStep(t: number): Promise<void> {
    await page.evaluate((step) => {
      const s = document.getElementById('step') as HTMLInputElement;
      s.value = String(step);
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }, t);
  }

  beforeAll(async () => {
    const port = await freePort();
    server = spawn(process.execPath, [join(pkg, 'node_modules', 'vite', 'bin', 'vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
      cwd: pkg,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    let exited: number | null = null;
    server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    server.once('exit', (code) => (exited = code ?? -1));
    // Ready when it answers (its printed address is coloured differently with and without CI, so poll instead).
    url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited !== null) throw new Error(`vite preview exited (${exited}): ${log}`);
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`vite preview did not answer on ${url} within 30 s: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await engine.launch();
    console.log(`${tag} ${browser.version}`);
    page = await browser.newPage({ width: 1280, height: 800 });
    page.onError((e) => consoleErrors.push(e));
    page.onWorker((u) => helperStarts.push(u));
    await page.goto(url);
    await page.waitForFunction(() => (window as any).spikelens?.metrics().runs >= 1, null, { timeout: 30_000 });
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  it('is served cross-origin isolated and runs on two threads, with the bits Node computes on one', async () => {
    const res = await fetch(url);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => (window as any).spikelens.threading())).toEqual({ threads: 2, isolated: true, text: '2 threads' });
    expect(await page.textContent('#threads')).toBe('2 threads');
    expect(await page.getAttribute('#threads', 'data-threads')).toBe('2');
    // The bundled demo: mnist-lif-bptt on digit-7-0, seed 0, 8 steps, SAM of lif2.
    const demo: Record<string, string> = await page.evaluate(() => (window as any).spikelens.hashes());
    expect(demo).toEqual((await nodeRun(MNIST_MODEL, DIGIT_7, 0, 8, ['lif1', 'lif2'], 'lif2')).hashes);
    twoThreads.demo = demo;
  });

  it('runs the bundled demo: the overlay is not blank and changes between steps', async () => {
    expect(await page.textContent('#prediction')).toContain('7');
    const T = Number(await page.getAttribute('#step', 'max')) + 1;
    expect(T).toBe(8);
    await showStep(0);
    const first = await overlayPixels();
    await showStep(T - 1);
    const last = await overlayPixels();
    expect(first.length).toBe(28 * 28 * 4);
    const spread = (px: number[]) => Math.max(...px.filter((_, i) => i % 4 === 0)) - Math.min(...px.filter((_, i) => i % 4 === 0));
    expect(spread(first)).toBeGreaterThan(100);
    expect(first.some((v, i) => v !== last[i])).toBe(true);
  });

  it('shows the first frame quickly and keeps the main thread free (measured, printed, not asserted)', async () => {
    const runs: Metrics[] = [];
    for (let i = 0; i < 3; i++) runs.push(await afterRun(() => page.click('#run')));
    for (const m of runs) {
      expect(m.steps).toBe(8);
      expect(m.firstFrameMs).not.toBeNull();
      expect(m.stepMs.length).toBe(8);
      for (const ms of m.stepMs) expect(ms).toBeGreaterThanOrEqual(0);
    }
    const steps = runs.flatMap((m) => m.stepMs).sort((a, b) => a - b);
    const first = runs.map((m) => m.firstFrameMs!.toFixed(1)).join(', ');
    twoThreads.firstFrame = first;
    twoThreads.stepMs = steps[steps.length >> 1];
    const long = runs.flatMap((m) => m.longTasks);
    const handler = Math.max(...runs.map((m) => m.maxHandlerMs));
    console.log(
      `${tag} mnist-lif-bptt, 8 steps: first frame ${first} ms after Run (target < 200); main-thread tasks over 50 ms: ` +
        `${long.length ? long.map((d) => d.toFixed(0)).join(', ') + ' ms' : 'none'}; longest frame handler ${handler.toFixed(1)} ms; ` +
        `one step with SAM in the worker ${steps[steps.length >> 1].toFixed(2)} ms median`,
    );
  });

  it('re-renders a changed colour map, gamma or mode from the recorded spikes without simulating again', async () => {
    const before = await metrics();
    await showStep(7);
    const jet = await overlayPixels();
    await page.selectOption('#colormap', 'gray');
    await page.waitForFunction((n) => (window as any).spikelens.metrics().views > n, before.views);
    const gray = await overlayPixels();
    expect(gray.some((v, i) => v !== jet[i])).toBe(true);
    const mid = await metrics();
    await page.fill('#gamma', '1.5');
    await page.waitForFunction((n) => (window as any).spikelens.metrics().views > n, mid.views);
    await page.selectOption('#ncs', 'strict');
    await page.waitForFunction((n) => (window as any).spikelens.metrics().views > n, mid.views + 1);
    const after = await metrics();
    expect(after.runs).toBe(before.runs);
    await page.selectOption('#colormap', 'jet');
    await page.fill('#gamma', '0.5');
    await page.selectOption('#ncs', 'inclusive');
    await page.waitForFunction((n) => (window as any).spikelens.metrics().views > n, after.views);
    expect((await metrics()).runs).toBe(before.runs);
  });

  it('switches to Grad-CAM and saliency: the maps computed in the worker are Node\'s explain() bit for bit', async () => {
    const modelFile = join(repo, 'models', 'mnist-lif-bptt.safetensors');
    const imageFile = join(repo, 'samples', 'mnist', 'digit-7-0.png');
    const model = parseModel(readFileSync(modelFile), modelFile);
    const img = decodePng(readFileSync(imageFile), imageFile);
    const x = { kind: 'pixels' as const, data: imageInput(model, img.rgba, img.width, img.height, imageFile) };
    const node = async (method: string, o: ExplainOptions) => sha256((await explain(method, model, x, 1, { seed: 0, timesteps: 8, ...o })).maps);
    const hashes = (): Promise<string[]> => page.evaluate(() => (window as any).spikelens.mapHashes());
    const views = (): Promise<Array<{ method: string; layer: string; target: number; maps: number }>> => page.evaluate(() => (window as any).spikelens.views());
    const before = await metrics();
    expect(await page.inputValue('#layer')).toBe('lif2');

    await afterView(() => page.selectOption('#method', 'gradcam'));
    expect(await views()).toEqual([{ method: 'gradcam', layer: 'lif2', target: 7, maps: 8, mapped: true }]);
    expect(await hashes()).toEqual([await node('gradcam', { layer: 'lif2', target: 'pred', alpha: 'summed' })]);
    expect(await page.textContent('#view1-caption')).toMatch(/^Grad-CAM of lif2 · target 7 \(the prediction\) · weights summed · step \d/);
    await showStep(0);
    const first = await overlayPixels();
    await showStep(7);
    expect((await overlayPixels()).some((v, i) => v !== first[i])).toBe(true);
    await afterView(() => page.selectOption('#gc-alpha', 'per-step'));
    expect(await hashes()).toEqual([await node('gradcam', { layer: 'lif2', alpha: 'per-step' })]);
    await afterView(() => page.selectOption('#target', '3'));
    expect(await hashes()).toEqual([await node('gradcam', { layer: 'lif2', alpha: 'per-step', target: 3 })]);
    expect((await views())[0].target).toBe(3);
    // The .npy download is the maps shown, named as `spikelens explain --method gradcam` names them.
    const dl = await page.download(() => page.click('#dl-npy'));
    expect(dl.name).toBe('digit-7-0-lif2.gradcam.npy');
    const npy = readNpy(dl.bytes, 'maps.npy');
    expect(npy.shape).toEqual([8, 1, 14, 14]);
    expect(sha256(npy.data as Float32Array)).toBe(await node('gradcam', { layer: 'lif2', alpha: 'per-step', target: 3 }));

    // Saliency: one map at the input's size, the same at every step.
    await afterView(() => page.selectOption('#method', 'saliency'));
    expect(await views()).toEqual([{ method: 'saliency', layer: 'input', target: 3, maps: 1, mapped: true }]);
    expect(await hashes()).toEqual([await node('saliency', { target: 3 })]);
    await afterView(() => page.selectOption('#target', 'pred'));
    expect(await hashes()).toEqual([await node('saliency', {})]);
    await showStep(1);
    const s1 = await overlayPixels();
    await showStep(6);
    expect(await overlayPixels()).toEqual(s1);
    expect(await page.textContent('#view1-caption')).toMatch(/one map for all steps$/);

    // Two views over the same run, on one step slider: saliency beside SAM of lif1.
    await afterView(() => page.check('#compare'));
    expect(await page.isVisible('#overlay2')).toBe(true);
    await afterView(() => page.selectOption('#method2', 'sam'));
    await afterView(() => page.selectOption('#layer2', 'lif1'));
    expect((await views()).map((v) => [v.method, v.layer, v.maps])).toEqual([['saliency', 'input', 1], ['sam', 'lif1', 8]]);
    expect(await hashes()).toEqual([await node('saliency', {}), await node('sam', { layer: 'lif1', gamma: 0.5, ncs: 'inclusive' })]);
    await showStep(2);
    expect(await page.textContent('#view2-caption')).toMatch(/^SAM of lif1 · gamma 0.5, inclusive · step 2$/);
    const second = await canvasPixels('overlay2');
    await showStep(5);
    expect(await page.textContent('#view2-caption')).toMatch(/step 5$/);
    expect((await canvasPixels('overlay2')).some((v, i) => v !== second[i])).toBe(true);
    expect(await page.inputValue('#step')).toBe('5');
    // Grad-CAM in the second view with its own settings.
    await afterView(() => page.selectOption('#method2', 'gradcam'));
    await afterView(() => page.selectOption('#target2', '1'));
    expect((await hashes())[1]).toBe(await node('gradcam', { layer: 'lif1', target: 1 }));

    // None of this simulated again.
    expect((await metrics()).runs).toBe(before.runs);
    await afterView(() => setSelect('gc-alpha', 'summed')); // hidden under saliency
    await afterView(() => page.selectOption('#method', 'sam'));
  });

  it('attacks the image with FGSM and PGD in the worker: the adversarial pixels, prediction and maps are Node\'s attack() and explain()', async () => {
    const modelFile = join(repo, 'models', 'mnist-lif-bptt.safetensors');
    const imageFile = join(repo, 'samples', 'mnist', 'digit-7-0.png');
    const model = parseModel(readFileSync(modelFile), modelFile);
    const img = decodePng(readFileSync(imageFile), imageFile);
    const pixels = imageInput(model, img.rgba, img.width, img.height, imageFile);
    const shown = (): Promise<any> => page.evaluate(() => (window as any).spikelens.attack());
    const hashes = (): Promise<{ adversarial: string; maps: string[] }> => page.evaluate(() => (window as any).spikelens.attackHashes());
    const mapOf = async (method: string, adv: Float32Array, o: ExplainOptions) =>
      sha256((await explain(method, model, { kind: 'pixels', data: adv }, 1, { seed: 0, timesteps: 8, ...o })).maps);
    expect(await page.isVisible('#attack-section')).toBe(false);
    // views: SAM of lif2, and Grad-CAM of lif1 for class 1 beside it (from the test before)
    expect(await page.isChecked('#compare')).toBe(true);

    await setRange('eps', '0.1');
    expect(await page.textContent('#eps-out')).toBe('0.10');
    await afterView(() => page.click('#attack-run'), 'attacks');
    const fgsm = await attack(model, pixels, 1, { method: 'fgsm', eps: 0.1, seed: 0, timesteps: 8 });
    expect(await shown()).toEqual({
      label: 7, linf: fgsm.linf[0],
      clean: { prediction: fgsm.clean.predictions[0], probability: fgsm.clean.probabilities[0] },
      adversarial: { prediction: fgsm.attacked.predictions[0], probability: fgsm.attacked.probabilities[0] },
    });
    expect(await hashes()).toEqual({
      adversarial: sha256(fgsm.adversarial),
      maps: [await mapOf('sam', fgsm.adversarial, { layer: 'lif2', gamma: 0.5, ncs: 'inclusive' }), await mapOf('gradcam', fgsm.adversarial, { layer: 'lif1', target: 1 })],
    });
    expect(await canvasPixels('attack-adv')).toEqual(Array.from(pixelsToRgba(fgsm.adversarial, 1, 28, 28)));
    expect(await canvasPixels('attack-clean')).toEqual(Array.from(pixelsToRgba(pixels, 1, 28, 28)));
    expect(await page.isVisible('#attack-clean-map2')).toBe(true);

    // PGD (10 steps from a random start, as the CLI's defaults): changing the attack attacks again.
    await afterView(() => page.selectOption('#attack-method', 'pgd'), 'attacks');
    const pgd = await attack(model, pixels, 1, { method: 'pgd', eps: 0.1, steps: 10, randomStart: true, seed: 0, timesteps: 8 });
    expect(pgd.attacked.predictions[0]).not.toBe(7);
    expect((await shown()).adversarial).toEqual({ prediction: pgd.attacked.predictions[0], probability: pgd.attacked.probabilities[0] });
    expect((await hashes()).adversarial).toBe(sha256(pgd.adversarial));
    expect(await page.getAttribute('#attack-adv-pred', 'data-prediction')).toBe(String(pgd.attacked.predictions[0]));
    expect(await page.getAttribute('#attack-clean-pred', 'data-prediction')).toBe('7');
    await afterView(() => setRange('eps', '0.07'), 'attacks');
    const pgd7 = await attack(model, pixels, 1, { method: 'pgd', eps: 0.07, seed: 0, timesteps: 8 });
    expect((await hashes()).adversarial).toBe(sha256(pgd7.adversarial));

    // Another method in the first view: its maps of the adversarial image ('pred': the adversarial prediction).
    await afterView(() => page.selectOption('#method', 'gradcam'), 'attackViews');
    expect((await hashes()).maps[0]).toBe(await mapOf('gradcam', pgd7.adversarial, { layer: 'lif2' }));
    await afterView(() => page.uncheck('#compare'), 'attackViews');
    expect(await page.isVisible('#attack-clean-map2')).toBe(false);
    expect((await hashes()).maps).toHaveLength(1);

    // A new image is attacked again after its run.
    await afterRun(() => page.selectOption('#sample', 'mnist/digit-0-3.png'));
    expect((await shown()).clean.prediction).toBe(0);
    expect(await page.isVisible('#attack-section')).toBe(true);
    // Stop attacking: the panel goes, and runs no longer attack.
    await page.click('#attack-clear');
    await page.waitForFunction(() => (document.getElementById('attack-section') as HTMLElement).hidden);
    const attacks = (await metrics()).attacks;
    const m = await afterRun(() => page.selectOption('#sample', 'mnist/digit-7-0.png'));
    expect(await page.isVisible('#attack-section')).toBe(false);
    expect(m.attacks).toBe(attacks);
    await afterView(() => page.selectOption('#method', 'sam'));
    await page.selectOption('#attack-method', 'fgsm');
    await setRange('eps', '0.1');
  });

  it('uploads a model and a PNG through the file inputs; every recorded array equals Node\'s bit for bit', async () => {
    const modelFile = join(repo, 'models', 'c01-untrained.safetensors');
    const imageFile = join(repo, 'samples', 'mnist', 'digit-3-18.png');
    await afterRun(() => page.setInputFiles('#model-file', modelFile));
    expect(await page.inputValue('#model')).toBe('file:c01-untrained.safetensors');
    await afterRun(() => page.setInputFiles('#image-file', imageFile));
    await afterRun(async () => {
      await page.fill('#seed', '12345');
      await page.dispatchEvent('#seed', 'change');
    });
    const layer = await page.inputValue('#layer');
    const browserHashes: Record<string, string> = await page.evaluate(() => (window as any).spikelens.hashes());
    const browserSummary = await page.evaluate(() => (window as any).spikelens.summary());

    const node = await nodeRun(modelFile, imageFile, 12345, 20, ['input', 'lif1', 'lif2', 'lif3'], layer);
    expect(browserHashes).toEqual(node.hashes);
    expect(browserSummary.predictions).toEqual(node.predictions);
    expect(browserSummary.firingRates).toEqual(node.firingRates);
    // The spikes are real: a different seed gives other input spikes.
    expect(new Set(Object.values(node.hashes)).size).toBe(5);
    twoThreads.upload = browserHashes;
  });

  it('downloads the grid, the maps and the summary as the CLI writes them', async () => {
    const modelFile = join(repo, 'models', 'c01-untrained.safetensors');
    const imageFile = join(repo, 'samples', 'mnist', 'digit-3-18.png');
    const layer = await page.inputValue('#layer');
    const get = async (button: string): Promise<Buffer> => (await page.download(() => page.click(button))).bytes;
    const summary = JSON.parse((await get('#dl-summary')).toString('utf8'));
    expect(summary.schema).toBe('spikelens.summary/1');
    expect(summary.seed).toBe(12345);
    expect(summary.timesteps).toBe(20);
    expect(summary.sam).toEqual({ layers: [layer], gamma: 0.5, ncs: 'inclusive' });
    const npy = readNpy(await get('#dl-npy'), 'maps.npy');
    expect(npy.shape.slice(0, 2)).toEqual([20, 1]);

    // The grid PNG is pixel for pixel the one `spikelens explain` renders from the same maps.
    const model: Model = parseModel(readFileSync(modelFile), modelFile);
    const img = decodePng(readFileSync(imageFile), imageFile);
    const net = await Network.create(model, { batch: 1, seed: 12345 });
    net.setInput({ kind: 'pixels', data: imageInput(model, img.rgba, img.width, img.height, imageFile) });
    const rec = new Recorder(net, layer, { spikes: true });
    net.observe(rec);
    net.run(20);
    const [C, H, W] = net.layer(layer).outShape;
    const maps = await samFromSpikes(rec.spikes!.data(), { T: 20, B: 1, C, H, W }, { gamma: 0.5, ncs: 'inclusive' });
    expect(sha256(npy.data as Float32Array)).toBe(sha256(maps));
    const pred = net.predictions()[0];
    const gray = rgbaToRgb(img.rgba, img.width, img.height);
    const want = mapGrid(maps, H, W, { width: img.width, height: img.height, pixels: gray }, { normalize: 'frame', colormap: 'jet', alpha: 0.5 }, `digit-3-18  ${layer}  predicted: ${pred}`);
    const grid = decodePng(await get('#dl-grid'), 'grid.png');
    expect([grid.width, grid.height]).toEqual([want.width, want.height]);
    expect(sha256(grid.rgba)).toBe(sha256(want.rgba));
    const frame = decodePng(await get('#dl-frame'), 'frame.png');
    expect([frame.width, frame.height]).toEqual([28, 28]);
  });

  it('loads a .nir file (read with h5wasm in the worker) and gives the same spikes and maps as the .safetensors model', async () => {
    await afterRun(() => page.selectOption('#model', 'mnist-lif-bptt'));
    await afterRun(() => page.selectOption('#sample', 'mnist/digit-7-0.png'));
    const want: Record<string, string> = await page.evaluate(() => (window as any).spikelens.hashes());
    const model = parseModel(readFileSync(join(repo, 'models', 'mnist-lif-bptt.safetensors')), 'mnist-lif-bptt.safetensors');
    const nir = Buffer.from(await writeNir(model, { hints: false }));
    // The model was trained with an immediate reset; the snnTorch preset's default is the delayed one.
    await page.selectOption('#nir-delay', 'false');
    await afterRun(() => page.setInputFiles('#model-file', { name: 'mnist-lif-bptt.nir', mimeType: 'application/x-hdf5', buffer: nir }));
    expect(await page.inputValue('#model')).toBe('file:mnist-lif-bptt.nir');
    const got: Record<string, string> = await page.evaluate(() => (window as any).spikelens.hashes());
    expect(got).toEqual(want);
    expect(await page.getAttribute('#prediction', 'data-prediction')).toBe('7');
    // Changing how the file is read reads it again: the delayed reset gives other spikes.
    await afterRun(() => page.selectOption('#nir-delay', 'true'));
    const delayed: Record<string, string> = await page.evaluate(() => (window as any).spikelens.hashes());
    expect(delayed['lif2.spikes']).not.toBe(want['lif2.spikes']);
    await page.selectOption('#nir-delay', '');
  });

  it('reads a drawn vertical stroke as a 1 with the bundled MNIST model', async () => {
    await afterRun(() => page.selectOption('#model', 'mnist-lif-bptt'));
    const box = await page.boundingBox('#draw');
    await afterRun(async () => {
      await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.15);
      await page.mouse.down();
      for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width / 2, box.y + box.height * (0.15 + (0.7 * i) / 20));
      await page.mouse.up();
    });
    expect(await page.getAttribute('#prediction', 'data-prediction')).toBe('1');
  });

  it('runs a flat-input model [784] read from the image as 28x28 gray: no map, but scores, raster and drawing work', async () => {
    const imageFile = join(repo, 'samples', 'mnist', 'digit-2-1.png');
    await afterRun(() => page.selectOption('#sample', 'mnist/digit-2-1.png'));
    await afterRun(() => page.setInputFiles('#model-file', { name: 'mlp-flat.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(mlp(true)) }));
    expect(await page.inputValue('#model')).toBe('file:mlp-flat.safetensors');
    expect(await page.inputValue('#layer')).toBe('lif_fc1');
    expect(await page.textContent('#model-info')).toMatch(/read from the image as 28x28 gray pixels/);
    expect(await page.isVisible('#error')).toBe(false);
    for (const b of ['#dl-frame', '#dl-grid', '#dl-npy']) expect(await page.isDisabled(b)).toBe(true);
    expect(await page.isDisabled('#dl-summary')).toBe(false);
    expect(Number(await page.getAttribute('#step', 'max')) + 1).toBe(6);

    // The same spikes as Node gives the same network with a [1,28,28] input and a flatten layer.
    const model = parseModel(mlp(false), 'mlp.safetensors');
    const img = decodePng(readFileSync(imageFile), imageFile);
    const net = await Network.create(model, { batch: 1, seed: 0 });
    net.setInput({ kind: 'pixels', data: imageInput(model, img.rgba, img.width, img.height, imageFile) });
    const rec = new Recorder(net, 'lif_fc1', { spikes: true });
    net.observe(rec);
    net.run(6);
    expect(await page.evaluate(() => (window as any).spikelens.hashes())).toEqual({ 'lif_fc1.spikes': sha256(rec.spikes!.data()) });
    const summary = await page.evaluate(() => (window as any).spikelens.summary());
    expect(summary.sam).toBeNull();
    expect(summary.predictions).toEqual(net.predictions());
    // Without a map the overlay is the picture as the model sees it.
    const gray = rgbaToRgb(img.rgba, img.width, img.height);
    const shown = await overlayPixels();
    expect(shown.length).toBe(28 * 28 * 4);
    expect(shown.filter((_, i) => i % 4 === 0)).toEqual(Array.from(gray.filter((_, i) => i % 3 === 0)));
    const dl = await page.download(() => page.click('#dl-summary'));
    expect(JSON.parse(dl.bytes.toString('utf8')).sam).toBeNull();

    // A drawing is made at the size of the image the flat input is read from.
    const box = await page.boundingBox('#draw');
    await afterRun(async () => {
      await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
      await page.mouse.down();
      for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * (0.3 + (0.4 * i) / 10), box.y + box.height * 0.5);
      await page.mouse.up();
    });
    expect(await page.isVisible('#error')).toBe(false);
    expect((await overlayPixels()).length).toBe(28 * 28 * 4);
    await afterRun(() => page.selectOption('#model', 'mnist-lif-bptt'));
    expect(await page.inputValue('#layer')).toBe('lif2');
    expect(await page.isDisabled('#dl-npy')).toBe(false);
  });

  it('shows a readable error for a corrupt model and an undecodable image, and keeps working', async () => {
    const modelMsg = await afterError(() =>
      page.setInputFiles('#model-file', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a model') }),
    );
    expect(modelMsg).toMatch(/^broken\.safetensors: /);
    expect(await page.isVisible('#error')).toBe(true);
    const imageMsg = await afterError(() => page.setInputFiles('#image-file', { name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not a png') }));
    expect(imageMsg).toMatch(/^broken\.png: .*cannot decode/);
    // The worker survived: the next run works and clears the message.
    await afterRun(() => page.selectOption('#sample', 'mnist/digit-0-3.png'));
    expect(await page.isVisible('#error')).toBe(false);
    expect(await page.getAttribute('#prediction', 'data-prediction')).toBe('0');
  });

  it('is keyboard operable, labelled, and fits 1280x800 and a narrow screen', async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button, canvas')]
        .filter((e) => {
          const el = e as HTMLInputElement;
          const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent!.trim());
          return !labelled;
        })
        .map((e) => e.id || e.tagName),
    );
    expect(unlabelled).toEqual([]);
    // Tab reaches the Run button, and Enter runs.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.id === 'run');
    }
    expect(reached).toBe(true);
    await afterRun(() => page.keyboard.press('Enter'));

    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await overflow()).toBeLessThanOrEqual(0);
    const out = join(pkg, 'out');
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: join(out, picture('web-page-narrow.png')), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('can cancel a run, and the next run works', async () => {
    await page.fill('#timesteps', '5000');
    const before = await metrics();
    await page.click('#run');
    await page.waitForFunction(() => (window as any).spikelens.metrics().steps >= 5);
    // The run's helper thread is a second worker, started by the page's worker with its first run and kept for the
    // next ones (starting and ending one per run hangs Firefox: helper.ts): it serves this run, and stops with it.
    const helpers = () => page.workerUrls().filter((u) => /helper-worker/.test(u)).length;
    const helper = (): Promise<{ started: number; serving: boolean }> => page.evaluate(() => (window as any).spikelens.helper());
    await expect.poll(helpers).toBe(1);
    expect(await helper()).toEqual({ started: 1, serving: true });
    await page.click('#cancel');
    await page.waitForFunction(() => document.body.dataset.state === 'idle');
    expect(await page.textContent('#status')).toMatch(/^Cancelled after \d+ steps/);
    await expect.poll(helper).toEqual({ started: 1, serving: false });
    expect(helpers()).toBe(1);
    // Every two-thread run of this page so far (some dozens) had that one helper worker.
    expect(helperStarts.filter((u) => /helper-worker/.test(u))).toHaveLength(1);
    const m = await metrics();
    expect(m.runs).toBe(before.runs);
    expect(m.steps).toBeLessThan(5000);
    await page.fill('#timesteps', '8');
    await afterRun(() => page.click('#run'));
  });

  it('takes the README screenshot of a fresh page at 1280x800, with Grad-CAM of lif1 in the second view', async () => {
    const fresh = await browser.newPage({ width: 1280, height: 800 });
    fresh.onError((e) => consoleErrors.push(e));
    await fresh.goto(url);
    await fresh.waitForFunction(() => (window as any).spikelens?.metrics().runs >= 1, null, { timeout: 30_000 });
    // The second view on (its default method is Grad-CAM), of lif1; set without scrolling the page.
    for (const [id, prop, value] of [['compare', 'checked', true], ['layer2', 'value', 'lif1']] as const) {
      const views = await fresh.evaluate(() => (window as any).spikelens.metrics().views);
      await fresh.evaluate(([id, prop, value]) => {
        const e = document.getElementById(id) as HTMLInputElement;
        (e as any)[prop] = value;
        e.dispatchEvent(new Event('change', { bubbles: true }));
      }, [id, prop, value] as const);
      await fresh.waitForFunction((n) => (window as any).spikelens.metrics().views > n && document.body.dataset.state === 'done', views);
    }
    expect(await fresh.evaluate(() => (window as any).spikelens.views().map((v: any) => `${v.method} ${v.layer}`))).toEqual(['sam lif2', 'gradcam lif1']);
    await fresh.evaluate(() => {
      const s = document.getElementById('step') as HTMLInputElement;
      s.value = '3';
      s.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const out = join(pkg, 'out');
    mkdirSync(out, { recursive: true });
    await fresh.screenshot({ path: join(out, picture('web-page.png')) });
    if (process.env.SPIKELENS_UPDATE_SCREENSHOT && engine.name === 'Chromium') copyFileSync(join(out, 'web-page.png'), join(repo, 'docs', 'images', 'web-page.png'));
    await fresh.close();
  });

  it('without the isolation headers (a plain static server) runs on one thread, says why, and gives the same bits', async () => {
    const plain = await plainServer(join(pkg, 'dist'));
    const one = await browser.newPage({ width: 1280, height: 800 });
    const workers: string[] = [];
    one.onWorker((u) => workers.push(u));
    one.onError((e) => consoleErrors.push(`(not isolated) ${e}`));
    try {
      const res = await fetch(plain.url);
      expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
      expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
      await one.goto(plain.url);
      await one.waitForFunction(() => (window as any).spikelens?.metrics().runs >= 1 && document.body.dataset.state === 'done', null, { timeout: 30_000 });
      expect(await one.evaluate(() => crossOriginIsolated)).toBe(false);
      const text = '1 thread: the page is not cross-origin isolated (serve it with COOP/COEP headers, docs/web.md)';
      expect(await one.evaluate(() => (window as any).spikelens.threading())).toEqual({ threads: 1, isolated: false, text });
      expect(await one.textContent('#threads')).toBe(text);
      expect(await one.getAttribute('#threads', 'data-threads')).toBe('1');

      // The bundled demo: Node's bits, and the two-thread page's; its time on one thread beside two (printed only).
      const oneRuns: Metrics[] = [];
      for (let i = 0; i < 3; i++) {
        const before: number = await one.evaluate(() => (window as any).spikelens.metrics().runs);
        await one.click('#run');
        await one.waitForFunction((n) => (window as any).spikelens.metrics().runs > n && document.body.dataset.state === 'done', before, { timeout: 30_000 });
        oneRuns.push(await one.evaluate(() => (window as any).spikelens.metrics()));
      }
      const steps = oneRuns.flatMap((m) => m.stepMs).sort((a, b) => a - b);
      console.log(
        `${tag} mnist-lif-bptt, 8 steps on 1 thread (not isolated): first frame ${oneRuns.map((m) => m.firstFrameMs!.toFixed(1)).join(', ')} ms, ` +
          `one step ${steps[steps.length >> 1].toFixed(2)} ms median; on 2 threads (isolated): first frame ${twoThreads.firstFrame ?? '-'} ms, ` +
          `one step ${twoThreads.stepMs?.toFixed(2) ?? '-'} ms median`,
      );
      const demo: Record<string, string> = await one.evaluate(() => (window as any).spikelens.hashes());
      expect(demo).toEqual((await nodeRun(MNIST_MODEL, DIGIT_7, 0, 8, ['lif1', 'lif2'], 'lif2')).hashes);
      if (twoThreads.demo) expect(demo).toEqual(twoThreads.demo);

      // The uploaded model with Poisson input spikes and another seed, as the two-thread page ran it above.
      const modelFile = join(repo, 'models', 'c01-untrained.safetensors');
      const imageFile = join(repo, 'samples', 'mnist', 'digit-3-18.png');
      const runs = async (action: () => Promise<unknown>) => {
        const before: number = await one.evaluate(() => (window as any).spikelens.metrics().runs);
        await action();
        await one.waitForFunction((n) => (window as any).spikelens.metrics().runs > n && document.body.dataset.state === 'done', before, { timeout: 30_000 });
      };
      await runs(() => one.setInputFiles('#model-file', modelFile));
      await runs(() => one.setInputFiles('#image-file', imageFile));
      await runs(async () => {
        await one.fill('#seed', '12345');
        await one.dispatchEvent('#seed', 'change');
      });
      const layer = await one.inputValue('#layer');
      const upload: Record<string, string> = await one.evaluate(() => (window as any).spikelens.hashes());
      const node = await nodeRun(modelFile, imageFile, 12345, 20, ['input', 'lif1', 'lif2', 'lif3'], layer);
      expect(upload).toEqual(node.hashes);
      expect((await one.evaluate(() => (window as any).spikelens.summary())).predictions).toEqual(node.predictions);
      if (twoThreads.upload) expect(upload).toEqual(twoThreads.upload);
      expect(await one.isVisible('#error')).toBe(false);
      // One worker, no helper.
      expect(workers.map((w) => /helper-worker/.test(w))).toEqual([false]);
    } finally {
      await one.close();
      await new Promise((r) => plain.server.close(r));
    }
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
