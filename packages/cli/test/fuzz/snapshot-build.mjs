// A frozen copy of the built CLI (packages cli, sam and core-wasm: dist, bin, build, package.json and their
// node_modules links), so that a long campaign runs one build even while the tree is rebuilt under it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './bases.mjs';

const PACKAGES = ['cli', 'sam', 'core-wasm'];

/** Copies the build into `dest` and checks that it runs; returns the copy's main.js and bin. */
export async function snapshotBuild(dest, { attempts = 10 } = {}) {
  for (let attempt = 1; ; attempt++) {
    rmSync(dest, { recursive: true, force: true });
    for (const pkg of PACKAGES) {
      const from = join(REPO, 'packages', pkg);
      const to = join(dest, 'packages', pkg);
      mkdirSync(to, { recursive: true });
      for (const part of ['package.json', 'dist', 'bin', 'build', 'node_modules'])
        if (existsSync(join(from, part))) cpSync(join(from, part), join(to, part), { recursive: true, verbatimSymlinks: true });
    }
    symlinkSync(join(REPO, 'node_modules'), join(dest, 'node_modules'));
    const main = join(dest, 'packages', 'cli', 'dist', 'main.js');
    const bin = join(dest, 'packages', 'cli', 'bin', 'spikelens.js');
    const probe = spawnSync(process.execPath, [bin, 'info', join(REPO, 'models', 'c01-untrained.safetensors')], { encoding: 'utf8', timeout: 60_000 });
    const nir = spawnSync(process.execPath, [bin, 'info', join(REPO, 'conformance', 'nir-snntorch-linear_zero', 'model.nir')], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0 && nir.status === 0) return { main, bin, dir: dest };
    if (attempt >= attempts) throw new Error(`the build does not run (a rebuild in progress?): ${(probe.stderr || nir.stderr).split('\n')[0]}`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}
