import { closeSync, constants, mkdirSync, openSync, readSync, writeFileSync, type Stats } from 'node:fs';
import { access, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';
import { LIMITS, formatBytes } from '../limits.js';

/** Largest file we read whole; anything bigger is refused before it is read. */
export const MAX_FILE_BYTES = LIMITS.fileBytes;

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
    case 'EEXIST':
      return 'something else is already there';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return ((err as Error)?.message ?? String(err)).split('\n')[0].slice(0, 120);
  }
}

/** A path as it appears in a message: a long one cut short. */
function shown(path: string): string {
  return path.length <= 120 ? path : `...${path.slice(-117)}`;
}

/**
 * The file's stats, when it is a regular file: a folder, a device (/dev/zero never ends), a FIFO or a socket is
 * refused by name before anything is read from it.
 */
export async function regularFile(file: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(file);
  } catch (err) {
    throw new InputError(shown(file), `cannot read: ${reason(err)}`);
  }
  if (st.isDirectory()) throw new InputError(shown(file), 'is a directory, not a file');
  if (!st.isFile()) throw new InputError(shown(file), 'is not a regular file (a device, pipe or socket): give a file');
  return st;
}

/**
 * Reads a whole regular file of at most `maxBytes`; every failure is an InputError naming the file. Exactly the
 * size stat gave is read, so a file that grows while it is read cannot make this read more.
 */
export async function readBytes(file: string, maxBytes = MAX_FILE_BYTES): Promise<Uint8Array> {
  const st = await regularFile(file);
  if (st.size > maxBytes) throw new InputError(shown(file), `is ${formatBytes(st.size)}, more than the ${formatBytes(maxBytes)} read whole`);
  const out = new Uint8Array(st.size);
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    let at = 0;
    while (at < out.length) {
      const n = readSync(fd, out, at, out.length - at, at);
      if (n === 0) throw new InputError(shown(file), `ended after ${at} of its ${st.size} bytes (was it changed while read?)`);
      at += n;
    }
    return out;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(shown(file), `cannot read: ${reason(err)}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * `mkdir -p` that fails fast: it walks up to the nearest folder that exists and creates each missing part with a
 * plain mkdir (Node's recursive mkdir loops forever on some paths, such as one under /proc). Returns the folders it
 * created, outermost first.
 */
async function makeFolders(dir: string): Promise<string[]> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    let st: Stats | null = null;
    try {
      st = await stat(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(shown(dir), `cannot write output here: ${reason(err)}`);
    }
    if (st) {
      if (!st.isDirectory()) throw new InputError(shown(dir), `cannot write output here: ${shown(at)} is not a folder`);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new InputError(shown(dir), `cannot write output here: ${reason(err)}`);
    }
  }
  return missing;
}

/** Creates a folder (and its parents) for output; an InputError naming it when that is impossible. */
export async function ensureDir(dir: string): Promise<void> {
  await makeFolders(dir);
}

/**
 * Checks that output can go to `dir` before any work is done: it is a folder, or does not exist yet under a folder
 * that exists and can be written. An InputError naming it otherwise (`--out /dev/null`, `--out /proc/x`).
 */
export async function checkOutputDir(dir: string): Promise<void> {
  let at = resolve(dir);
  for (;;) {
    let st: Stats | null = null;
    try {
      st = await stat(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(shown(dir), `cannot write output here: ${reason(err)}`);
    }
    if (st) {
      if (!st.isDirectory()) throw new InputError(shown(dir), `cannot write output here: ${shown(at)} is not a folder`);
      try {
        await access(at, constants.W_OK | constants.X_OK);
      } catch (err) {
        throw new InputError(shown(dir), `cannot write output here: ${reason(err)}`);
      }
      return;
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}

/**
 * The outputs of one command, written so that a failed command leaves its output folder as it was: every file is
 * written under a staging folder first (beside the output folder, or in it when it already exists), and only
 * `commit()` moves them into place, replacing files of the same names. `abort()` (or a failed commit) removes the
 * staging folder and any folder it created.
 */
export class OutputDir {
  private committed = false;
  private constructor(
    /** The output folder as given. */
    readonly dir: string,
    /** Where files are written until commit. */
    readonly staging: string,
  ) {}

  /** Checks `dir` (see checkOutputDir) and makes the staging folder. */
  static async open(dir: string): Promise<OutputDir> {
    await checkOutputDir(dir);
    const target = resolve(dir);
    let exists = false;
    try {
      exists = (await stat(target)).isDirectory();
    } catch {
      exists = false;
    }
    // In the folder when it exists (same file system, so commit is a rename); else under its nearest existing
    // ancestor, so that a failed command creates nothing.
    const parent = exists ? target : await nearestExisting(target);
    const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const staging = join(parent, `.spikelens-staging-${stamp}`);
    try {
      await mkdir(staging);
    } catch (err) {
      throw new InputError(shown(dir), `cannot write output here: ${reason(err)}`);
    }
    return new OutputDir(dir, staging);
  }

  /** The staging path of a file given relative to the output folder; its folders are created. */
  async path(rel: string): Promise<string> {
    const p = this.stagedPath(rel);
    await makeFolders(dirname(p));
    return p;
  }

  /** The staging path of a file directly in the output folder (the folder exists: no await needed). */
  stagedFile(name: string): string {
    if (name.includes('/') || name.includes(sep)) throw new Error(`OutputDir: ${name} is not a plain file name`);
    return this.stagedPath(name);
  }

  private stagedPath(rel: string): string {
    const p = join(this.staging, rel);
    if (!p.startsWith(this.staging + sep)) throw new Error(`OutputDir: ${rel} is outside the output folder`);
    return p;
  }

  /** Writes a whole file (relative to the output folder) into staging. */
  async write(rel: string, data: Uint8Array | string): Promise<void> {
    const p = await this.path(rel);
    try {
      await writeFile(p, data);
    } catch (err) {
      throw new InputError(shown(join(this.dir, rel)), `cannot write: ${reason(err)}`);
    }
  }

  /** write(), synchronously: for a file made inside a synchronous loop (an overlay per step). */
  writeSync(rel: string, data: Uint8Array | string): void {
    const p = this.stagedPath(rel);
    try {
      // Inside our own staging folder, so a recursive mkdir cannot wander (see makeFolders).
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
    } catch (err) {
      throw new InputError(shown(join(this.dir, rel)), `cannot write: ${reason(err)}`);
    }
  }

  /** Moves every staged file into the output folder (creating it), then removes the staging folder. */
  async commit(): Promise<void> {
    if (this.committed) return;
    try {
      const target = resolve(this.dir);
      const rels = await filesUnder(this.staging);
      // Every destination is checked before anything moves, so a refusal moves nothing.
      for (const rel of rels) await replaceable(join(target, rel));
      await makeFolders(target);
      for (const rel of rels) {
        const to = join(target, rel);
        await makeFolders(dirname(to));
        try {
          await rename(join(this.staging, rel), to);
        } catch (err) {
          throw new InputError(shown(join(this.dir, rel)), `cannot write: ${reason(err)}`);
        }
      }
      this.committed = true;
    } finally {
      await rm(this.staging, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Removes everything staged; the output folder is left as it was. */
  async abort(): Promise<void> {
    if (this.committed) return;
    await rm(this.staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Runs `work` with an OutputDir for `dir`: committed when it returns, aborted (nothing left) when it throws. */
export async function withOutputDir<T>(dir: string, work: (out: OutputDir) => Promise<T>): Promise<T> {
  const out = await OutputDir.open(dir);
  try {
    const result = await work(out);
    await out.commit();
    return result;
  } catch (err) {
    await out.abort();
    throw err;
  }
}

async function nearestExisting(path: string): Promise<string> {
  let at = dirname(path);
  for (;;) {
    try {
      if ((await stat(at)).isDirectory()) return at;
    } catch {
      /* missing: go up */
    }
    const up = dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/** Every file under `root`, as sorted paths relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(root, p));
    }
  };
  await walk(root);
  return out.sort();
}

/** An output file may replace only a regular file (never a folder, or a device such as /dev/null). */
async function replaceable(path: string): Promise<void> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch {
    return;
  }
  if (!st.isFile()) throw new InputError(shown(path), `cannot write: ${st.isDirectory() ? 'it is a folder' : 'it is not a regular file'}`);
}

/**
 * Writes files so that none appears half-written: everything goes to temporary names in the target folders first,
 * and only when all are complete are they renamed into place. A failure leaves no file of the set behind.
 */
export async function writeFilesAtomic(files: ReadonlyArray<{ path: string; data: Uint8Array | string }>): Promise<void> {
  const tmp: string[] = [];
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const f of files) {
      await checkOutputDir(dirname(f.path));
      await replaceable(f.path);
      await ensureDir(dirname(f.path));
      const t = join(dirname(f.path), `.${basename(f.path)}.${stamp}.tmp`);
      tmp.push(t);
      try {
        await writeFile(t, f.data);
      } catch (err) {
        throw new InputError(shown(f.path), `cannot write: ${reason(err)}`);
      }
    }
    for (let i = 0; i < files.length; i++) {
      try {
        await rename(tmp[i], files[i].path);
      } catch (err) {
        throw new InputError(shown(files[i].path), `cannot write: ${reason(err)}`);
      }
    }
  } finally {
    await Promise.all(tmp.map((t) => rm(t, { force: true }).catch(() => undefined)));
  }
}
