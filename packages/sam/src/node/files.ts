import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { InputError } from '../errors.js';

/** Largest file we read whole; anything bigger is refused before it is read. */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

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
    default:
      return (err as Error)?.message ?? String(err);
  }
}

/** Reads a whole file; every failure is an InputError naming the file. */
export async function readBytes(file: string, maxBytes = MAX_FILE_BYTES): Promise<Uint8Array> {
  let size: number;
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new InputError(file, 'is a directory, not a file');
    size = st.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(file, `cannot read: ${reason(err)}`);
  }
  if (size > maxBytes) throw new InputError(file, `is ${size} bytes, more than the ${maxBytes} this reads`);
  try {
    const buf = await readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    throw new InputError(file, `cannot read: ${reason(err)}`);
  }
}

/** Creates a folder (and its parents) for output; an InputError naming it when that is impossible. */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const st = await stat(dir);
    if (!st.isDirectory()) throw new InputError(dir, 'cannot write output here: not a folder');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(dir, `cannot write output here: ${reason(err)}`);
  }
}

/**
 * Writes files so that none appears half-written: everything goes to temporary names in the target folders first,
 * and only when all are complete are they renamed into place.
 */
export async function writeFilesAtomic(files: ReadonlyArray<{ path: string; data: Uint8Array | string }>): Promise<void> {
  const tmp: string[] = [];
  const stamp = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    for (const f of files) {
      await ensureDir(dirname(f.path));
      const t = join(dirname(f.path), `.${basename(f.path)}.${stamp}.tmp`);
      tmp.push(t);
      try {
        await writeFile(t, f.data);
      } catch (err) {
        throw new InputError(f.path, `cannot write: ${reason(err)}`);
      }
    }
    for (let i = 0; i < files.length; i++) {
      try {
        await rename(tmp[i], files[i].path);
      } catch (err) {
        throw new InputError(files[i].path, `cannot write: ${reason(err)}`);
      }
    }
  } finally {
    await Promise.all(tmp.map((t) => rm(t, { force: true }).catch(() => undefined)));
  }
}
