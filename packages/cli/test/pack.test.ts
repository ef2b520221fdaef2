/**
 * The packages as a user gets them: `pnpm pack` of @spikelens/core-wasm, @spikelens/sam and @spikelens/cli, the three
 * tarballs installed with `npm install` in an empty folder outside the repository, and there the library example of
 * docs/library.md runs as written and `npx spikelens explain` writes its files. Nothing is built here: turbo builds
 * the packages before their tests. It needs npm and its registry (the packages' own dependencies come from there);
 * when either cannot be reached it skips and prints why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

const PACKAGES = ['core-wasm', 'sam', 'cli'] as const;

/**
 * The environment of the commands run here: this process's, without the npm_* / pnpm_* settings a `pnpm test` puts
 * there (npm would read them as its own configuration) and without NODE_PATH (packages must resolve from the install).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|pnpm_|PNPM_|NODE_PATH$|NODE_OPTIONS$)/i.test(k)) env[k] = v;
  return env;
}

interface Ran {
  readonly code: number | null;
  readonly out: string;
  readonly seconds: number;
}

/** Runs a command (no shell) and collects its output; a failure is an assertion error that shows that output. */
function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, seconds: (performance.now() - started) / 1000 });
    });
  });
}

function ok(r: Ran, what: string): Ran {
  expect(r.code, `${what} failed (exit ${r.code}):\n${r.out}`).toBe(0);
  return r;
}

/** Why the test cannot run here (npm missing, or its registry not answering), or null. */
function unreachable(): string | null {
  const version = spawnSync('npm', ['--version'], { cwd: tmpdir(), env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
  if (version.error || version.status !== 0) return `npm does not run here (${version.error?.message ?? version.stderr.trim()})`;
  // One try, 20 s: a registry that is down should not hold the suite for npm's minutes of retries.
  const ping = spawnSync('npm', ['ping', '--fetch-retries', '0', '--fetch-timeout', '20000'], { cwd: tmpdir(), env: cleanEnv(), encoding: 'utf8', timeout: 45_000 });
  if (ping.error || ping.status !== 0) {
    const lines = ping.stderr.split('\n');
    const why = ping.error?.message ?? ((lines.find((l) => /FetchError/.test(l)) ?? lines.find((l) => /error code/.test(l)))?.replace(/^npm error /, '') || `exit ${ping.status}`);
    return `the npm registry does not answer \`npm ping\` (${why})`;
  }
  return null;
}

/** The first fenced code block after a heading of docs/library.md. */
function docExample(heading: string): string {
  const doc = readFileSync(join(REPO, 'docs', 'library.md'), 'utf8');
  const at = doc.indexOf(`\n## ${heading}\n`);
  expect(at, `docs/library.md has no section "${heading}"`).toBeGreaterThan(0);
  const block = /\n```[a-z]*\n([\s\S]*?)\n```\n/.exec(doc.slice(at));
  expect(block, `no code block under "${heading}" in docs/library.md`).not.toBeNull();
  return block![1] + '\n';
}

/** The tarball `pnpm pack` names for a package.json: @scope/name 1.2.3 -> scope-name-1.2.3.tgz. */
function tarballOf(pkg: string): string {
  const { name, version } = JSON.parse(readFileSync(join(REPO, 'packages', pkg, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

describe('the packed packages, installed with npm outside the repository', () => {
  it('install, run the library example of docs/library.md and `npx spikelens explain`', async (ctx) => {
    const why = unreachable();
    if (why) {
      console.warn(`[pack] SKIPPED: ${why}; this test installs the packed packages and their dependencies from the npm registry`);
      ctx.skip(why);
      return;
    }
    for (const pkg of PACKAGES)
      expect(existsSync(join(REPO, 'packages', pkg, 'dist')), `packages/${pkg}/dist is missing: build first (turbo builds before the tests)`).toBe(true);

    const dir = mkdtempSync(join(realpathSync(tmpdir()), 'spikelens-pack-'));
    try {
      // Outside the repository, and with no node_modules above it that could lend a package.
      expect(relative(REPO, dir).split(sep)[0], `the temporary folder ${dir} is inside the repository`).toBe('..');
      for (let up = dirname(dir); up !== dirname(up); up = dirname(up))
        expect(existsSync(join(up, 'node_modules')), `${up}/node_modules could lend packages to the install`).toBe(false);
      const packs = join(dir, 'packs');
      const app = join(dir, 'app');
      mkdirSync(packs);
      mkdirSync(app);
      const times: string[] = [];
      const started = performance.now();

      // 1. Pack each package as it is built.
      let seconds = 0;
      for (const pkg of PACKAGES) seconds += ok(await run('pnpm', ['pack', '--pack-destination', packs], join(REPO, 'packages', pkg), 120_000), `pnpm pack (${pkg})`).seconds;
      times.push(`pnpm pack ${seconds.toFixed(1)} s`);
      const tarballs = PACKAGES.map(tarballOf);
      expect(readdirSync(packs).sort()).toEqual([...tarballs].sort());

      // 2. Install the three tarballs together in an empty project (its package.json only keeps npm from looking
      //    for a project further up).
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'spikelens-pack-check', private: true }) + '\n');
      const install = ok(
        await run('npm', ['install', '--no-audit', '--no-fund', ...tarballs.map((t) => join(packs, t))], app, 240_000),
        'npm install of the tarballs',
      );
      times.push(`npm install ${install.seconds.toFixed(1)} s`);
      for (const pkg of PACKAGES) {
        const where = join(app, 'node_modules', '@spikelens', pkg);
        expect(lstatSync(where).isSymbolicLink(), `@spikelens/${pkg} is a link, not an installed copy`).toBe(false);
      }
      expect(existsSync(join(app, 'node_modules', '@spikelens', 'core-wasm', 'build', 'core.wasm'))).toBe(true);
      expect(existsSync(join(app, 'node_modules', '.bin', 'spikelens'))).toBe(true);

      // 3. The library example, as docs/library.md writes it, with copies of the files it names at its paths.
      mkdirSync(join(app, 'models'));
      mkdirSync(join(app, 'samples', 'mnist'), { recursive: true });
      copyFileSync(join(REPO, 'models', 'c01-untrained.safetensors'), join(app, 'models', 'c01-untrained.safetensors'));
      copyFileSync(join(REPO, 'samples', 'mnist', 'digit-7-0.png'), join(app, 'samples', 'mnist', 'digit-7-0.png'));
      writeFileSync(join(app, 'overlay.mjs'), docExample('A complete example: one overlay PNG'));
      const example = ok(await run(process.execPath, ['overlay.mjs'], app, 120_000), 'node overlay.mjs (the example of docs/library.md)');
      times.push(`example ${example.seconds.toFixed(1)} s`);
      expect(example.out).toMatch(/^predicted \S+ after 20 steps/);
      const overlayPng = readFileSync(join(app, 'out', 'overlay.png'));
      expect(overlayPng.subarray(1, 4).toString('latin1')).toBe('PNG');

      // 4. The CLI from the install, on the repository's model and image.
      const out = join(app, 'OUT');
      const explain = ok(
        await run(
          'npx',
          ['--no', 'spikelens', 'explain', join(REPO, 'models', 'mnist-lif-bptt.safetensors'), join(REPO, 'samples', 'mnist', 'digit-7-0.png'), '--layer', 'lif2', '--out', out],
          app,
          120_000,
        ),
        'npx spikelens explain',
      );
      times.push(`explain ${explain.seconds.toFixed(1)} s`);
      expect(explain.out).toMatch(/predicted 7/);
      const files = ['lif2.sam.grid.png', 'lif2.sam.npy', 'lif2.sam.png', ...Array.from({ length: 8 }, (_, t) => `lif2.sam/t${t}.png`)];
      for (const f of files) expect(existsSync(join(out, 'digit-7-0', f)), `explain wrote no ${f}`).toBe(true);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(summary.schema).toBe('spikelens.explain/2');
      expect(summary.images[0].prediction).toBe(7);

      // The doc says the example's PNG is the `t19.png` of the same explain: check it with the installed CLI.
      ok(
        await run('npx', ['--no', 'spikelens', 'explain', 'models/c01-untrained.safetensors', 'samples/mnist/digit-7-0.png', '--layer', 'lif1', '--out', 'c01'], app, 120_000),
        'npx spikelens explain (c01)',
      );
      expect(readFileSync(join(app, 'c01', 'digit-7-0', 'lif1.sam', 't19.png')).equals(overlayPng), 'overlay.png differs from explain\'s t19.png').toBe(true);

      console.log(`[pack] ${times.join(', ')}; ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
