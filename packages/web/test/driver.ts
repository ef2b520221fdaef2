/**
 * The browsers the end-to-end suite drives, behind one small interface so that the same test bodies run in each:
 * Debian's Chromium with playwright-core (over CDP), and Debian's Firefox ESR with puppeteer-core over WebDriver
 * BiDi (SpiderMonkey's WebAssembly: a second engine beside V8). The interface is the few page operations the suite
 * uses, named as playwright names them; everything else the tests do is `evaluate` in the page.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer, { type Page as PPage } from 'puppeteer-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.mjs';

/** A file for a file input: a path on disk, or bytes with the name the page sees. */
export type FileArg = string | { name: string; mimeType: string; buffer: Buffer };

export interface Tab {
  goto(url: string): Promise<void>;
  /** Runs `fn(arg)` in the page and returns its (awaited, serialisable) result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Waits until `fn(arg)` is truthy in the page (polled every animation frame). */
  waitForFunction<A>(fn: (arg: A) => unknown, arg?: A, options?: { timeout?: number }): Promise<void>;
  click(selector: string): Promise<void>;
  /** Chooses the option of a <select> by value (fires input and change). */
  selectOption(selector: string, value: string): Promise<void>;
  /** Replaces an input's text (fires input, as typing does; change comes when the test fires it or the focus moves). */
  fill(selector: string, value: string): Promise<void>;
  check(selector: string): Promise<void>;
  uncheck(selector: string): Promise<void>;
  textContent(selector: string): Promise<string | null>;
  getAttribute(selector: string, name: string): Promise<string | null>;
  inputValue(selector: string): Promise<string>;
  isVisible(selector: string): Promise<boolean>;
  isDisabled(selector: string): Promise<boolean>;
  isChecked(selector: string): Promise<boolean>;
  setInputFiles(selector: string, file: FileArg): Promise<void>;
  dispatchEvent(selector: string, type: string): Promise<void>;
  /** Does `action` (a click that makes the page download a file) and returns the downloaded file. */
  download(action: () => Promise<unknown>): Promise<{ name: string; bytes: Buffer }>;
  /** Scrolls the element into view and returns its box in viewport coordinates. */
  boundingBox(selector: string): Promise<{ x: number; y: number; width: number; height: number }>;
  mouse: { move(x: number, y: number): Promise<void>; down(): Promise<void>; up(): Promise<void> };
  keyboard: { press(key: string): Promise<void> };
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<void>;
  /** The URLs of the page's live workers, nested ones (a worker's worker) included. */
  workerUrls(): string[];
  onWorker(listener: (url: string) => void): void;
  /** Console errors and uncaught exceptions of the page. */
  onError(listener: (text: string) => void): void;
  close(): Promise<void>;
}

export interface Driver {
  /** 'Chromium' or 'Firefox'. */
  readonly name: string;
  /** The browser's own version string. */
  readonly version: string;
  newPage(viewport: { width: number; height: number }): Promise<Tab>;
  close(): Promise<void>;
}

export interface Engine {
  name: string;
  /** The browser's executable, and whether it is there. */
  executable: string;
  available: boolean;
  /** Why the suite skips without it, and how to get it. */
  missing: string;
  launch(): Promise<Driver>;
}

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

// ---- Chromium, playwright-core -----------------------------------------------------------------------------------

async function launchChromium(): Promise<Driver> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    name: 'Chromium',
    version: browser.version(),
    async newPage(viewport) {
      const page = await browser.newPage({ viewport, acceptDownloads: true });
      const tab: Tab = {
        goto: async (url) => void (await page.goto(url)),
        evaluate: (fn, arg) => page.evaluate(fn as any, arg),
        waitForFunction: async (fn, arg, options) => void (await page.waitForFunction(fn as any, arg, options)),
        click: (s) => page.click(s),
        selectOption: async (s, v) => void (await page.selectOption(s, v)),
        fill: (s, v) => page.fill(s, v),
        check: (s) => page.check(s),
        uncheck: (s) => page.uncheck(s),
        textContent: (s) => page.textContent(s),
        getAttribute: (s, n) => page.getAttribute(s, n),
        inputValue: (s) => page.inputValue(s),
        isVisible: (s) => page.isVisible(s),
        isDisabled: (s) => page.isDisabled(s),
        isChecked: (s) => page.isChecked(s),
        setInputFiles: (s, f) => page.setInputFiles(s, f),
        dispatchEvent: (s, t) => page.dispatchEvent(s, t),
        async download(action) {
          const [dl] = await Promise.all([page.waitForEvent('download'), action()]);
          return { name: dl.suggestedFilename(), bytes: readFileSync((await dl.path())!) };
        },
        async boundingBox(s) {
          await page.locator(s).scrollIntoViewIfNeeded();
          return (await page.locator(s).boundingBox())!;
        },
        mouse: { move: (x, y) => page.mouse.move(x, y), down: () => page.mouse.down(), up: () => page.mouse.up() },
        keyboard: { press: (k) => page.keyboard.press(k) },
        setViewportSize: (size) => page.setViewportSize(size),
        screenshot: async (o) => void (await page.screenshot(o)),
        workerUrls: () => page.workers().map((w) => w.url()),
        onWorker: (l) => void page.on('worker', (w) => l(w.url())),
        onError(l) {
          page.on('console', (m) => {
            if (m.type() === 'error') l(m.text());
          });
          page.on('pageerror', (e) => l(`pageerror: ${e.message}`));
        },
        close: () => page.close(),
      };
      return tab;
    },
    close: () => browser.close(),
  };
}

// ---- Firefox, puppeteer-core over WebDriver BiDi -----------------------------------------------------------------

async function launchFirefox(): Promise<Driver> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    // Nothing that calls out: no updates, telemetry, safe-browsing lists or captive-portal checks.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
      'browser.download.alwaysOpenPanel': false,
    },
  });
  const downloads = mkdtempSync(join(tmpdir(), 'spikelens-firefox-dl-'));
  const context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
  return {
    name: 'Firefox',
    version: await browser.version(),
    async newPage(viewport) {
      const page: PPage = await context.newPage();
      await page.setViewport(viewport);
      const files = mkdtempSync(join(tmpdir(), 'spikelens-firefox-up-'));
      const $ = async (s: string) => {
        const e = await page.$(s);
        if (!e) throw new Error(`no element ${s}`);
        return e;
      };
      const prop = <R>(s: string, fn: (e: any) => R): Promise<R> => page.$eval(s, fn as any) as Promise<R>;
      const tab: Tab = {
        goto: async (url) => void (await page.goto(url)),
        evaluate: (fn, arg) => page.evaluate(fn as any, arg) as any,
        waitForFunction: async (fn, arg, options) =>
          void (await page.waitForFunction(fn as any, { timeout: options?.timeout ?? 30_000, polling: 'raf' }, arg)),
        click: (s) => page.click(s),
        selectOption: async (s, v) => void (await page.select(s, v)),
        async fill(s, v) {
          // As playwright fills a text or number input: focus, replace the text, one input event.
          await page.$eval(s, (e, v) => {
            const i = e as HTMLInputElement;
            i.focus();
            i.value = v;
            i.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
          }, v);
        },
        async check(s) {
          if (!(await prop(s, (e) => e.checked))) await page.click(s);
          if (!(await prop(s, (e) => e.checked))) throw new Error(`${s} did not become checked`);
        },
        async uncheck(s) {
          if (await prop(s, (e) => e.checked)) await page.click(s);
          if (await prop(s, (e) => e.checked)) throw new Error(`${s} did not become unchecked`);
        },
        textContent: (s) => prop(s, (e) => e.textContent),
        getAttribute: (s, n) => page.$eval(s, (e, n) => e.getAttribute(n), n),
        inputValue: (s) => prop(s, (e) => e.value),
        isVisible: (s) =>
          page.evaluate((s) => {
            const e = document.querySelector(s);
            if (!e) return false;
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
          }, s),
        isDisabled: (s) => prop(s, (e) => !!e.disabled),
        isChecked: (s) => prop(s, (e) => !!e.checked),
        async setInputFiles(s, f) {
          let path = f as string;
          if (typeof f !== 'string') {
            const dir = join(files, String(readdirSync(files).length));
            mkdirSync(dir);
            path = join(dir, f.name);
            writeFileSync(path, f.buffer);
          }
          await ((await $(s)) as any).uploadFile(path);
        },
        dispatchEvent: (s, t) => page.$eval(s, (e, t) => void e.dispatchEvent(new Event(t, { bubbles: true, composed: true, cancelable: true })), t),
        async download(action) {
          for (const f of readdirSync(downloads)) rmSync(join(downloads, f), { force: true });
          await action();
          const deadline = Date.now() + 30_000;
          for (;;) {
            const names = readdirSync(downloads);
            // Firefox writes `<name>.part` and renames it when the download is complete.
            const done = names.filter((n) => !n.endsWith('.part'));
            if (done.length === 1 && names.length === 1) {
              const bytes = readFileSync(join(downloads, done[0]));
              rmSync(join(downloads, done[0]));
              return { name: done[0], bytes };
            }
            if (Date.now() > deadline) throw new Error(`no download within 30 s (${names.join(', ') || 'nothing'} in ${downloads})`);
            await new Promise((r) => setTimeout(r, 25));
          }
        },
        async boundingBox(s) {
          const e = await $(s);
          await e.scrollIntoView();
          return (await e.boundingBox())!;
        },
        mouse: {
          move: (x, y) => page.mouse.move(x, y),
          down: () => page.mouse.down(),
          up: () => page.mouse.up(),
        },
        keyboard: { press: (k) => page.keyboard.press(k as any) },
        setViewportSize: (size) => page.setViewport(size),
        screenshot: async (o) => void (await page.screenshot({ path: o.path as `${string}.png`, fullPage: o.fullPage })),
        workerUrls: () => page.workers().map((w) => w.url()),
        onWorker: (l) => void page.on('workercreated', (w) => l(w.url())),
        onError(l) {
          page.on('console', (m) => {
            if (m.type() === 'error') l(m.text());
          });
          page.on('pageerror', (e) => l(`pageerror: ${(e as Error).message ?? String(e)}`));
        },
        async close() {
          await page.close();
          rmSync(files, { recursive: true, force: true });
        },
      };
      return tab;
    },
    async close() {
      await browser.close();
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}

export const ENGINES: Engine[] = [
  {
    name: 'Chromium',
    executable: CHROMIUM,
    available: existsSync(CHROMIUM),
    missing: `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH); .ci/run installs it`,
    launch: launchChromium,
  },
  {
    name: 'Firefox',
    executable: FIREFOX,
    available: existsSync(FIREFOX),
    missing: `no Firefox at ${FIREFOX} (apt-get install -y firefox-esr, or set FIREFOX_PATH); .ci/run installs it`,
    launch: launchFirefox,
  },
];
