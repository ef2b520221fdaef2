/**
 * B4 in a browser worker: the built web page (packages/web/dist, the same worker and bundled model a user gets)
 * served from 127.0.0.1 and driven in Chromium by playwright-core. The page's worker times every `net.step()` of a
 * run (simulation, SAM of the shown layer, recording) and the page keeps the last run's figures in
 * `window.spikelens.metrics().stepMs`. Skipped, with the reason, when Chromium or the built page is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from '@spikelens/web/chromium';

const SITE = fileURLToPath(new URL('../../packages/web/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png',
  '.json': 'application/json', '.svg': 'image/svg+xml',
};

export interface BrowserSteps {
  readonly browser: string;
  /** Milliseconds per step, every counted step of every counted run. */
  readonly stepMs: number[];
  readonly model: string;
}

/** A static server of the built page on a free port of 127.0.0.1: only files under SITE are served. */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(SITE, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(SITE.endsWith(sep) ? SITE : SITE + sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Runs the page's default model (mnist-lif-bptt on a bundled digit) `runs` times after its own first run. */
export async function browserSteps(runs: number): Promise<BrowserSteps | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
  if (!existsSync(join(SITE, 'index.html'))) return `the web page is not built (${SITE}): pnpm bench builds it`;
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch (e) {
    return `playwright-core cannot be loaded: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
  const server = await serve();
  const browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    type M = { runs: number; stepMs: number[] };
    const metrics = (): Promise<M> => page.evaluate(() => (window as unknown as { spikelens: { metrics(): M } }).spikelens.metrics());
    // The page runs its demo once on load: that run is the warm-up.
    await page.waitForFunction(() => (window as any).spikelens?.metrics().runs >= 1 && document.body.dataset.state === 'done', null, { timeout: 60_000 });
    const model = await page.$eval('#model', (s) => (s as HTMLSelectElement).selectedOptions[0]?.textContent ?? '?');
    const stepMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const before = (await metrics()).runs;
      await page.click('#run');
      await page.waitForFunction((n) => (window as any).spikelens.metrics().runs > n && document.body.dataset.state === 'done', before, { timeout: 60_000 });
      stepMs.push(...(await metrics()).stepMs);
    }
    return { browser: `Chromium ${browser.version()}`, stepMs, model };
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}
