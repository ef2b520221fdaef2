/**
 * `.npy` files read and written in pieces, so that an input or an output of any size streams through bounded
 * memory: the header is read (or written) once, then the data moves a slice at a time at its byte position.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { InputError } from '../errors.js';
import { NPY_HEADER_READ, npyData, npyDtypeOf, npyHeader, npyItemSize, readNpyHeader, type NpyData, type NpyDtype, type NpyHeader } from '../formats/npy.js';
import { regularFile } from './files.js';

/** A `.npy` file opened for reading slices of its data. */
export class NpyReader {
  private fd: number | null;
  private constructor(
    readonly file: string,
    readonly header: NpyHeader,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens a regular file and checks its header against its size (nothing of the data is read). */
  static async open(file: string): Promise<NpyReader> {
    const st = await regularFile(file);
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new InputError(file, `cannot read: ${(err as Error).message.split('\n')[0].slice(0, 120)}`);
    }
    try {
      const head = new Uint8Array(Math.min(st.size, NPY_HEADER_READ));
      readFully(fd, head, 0, file, st.size);
      return new NpyReader(file, readNpyHeader(head, st.size, file), fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get dtype(): NpyDtype {
    return this.header.dtype;
  }

  get shape(): readonly number[] {
    return this.header.shape;
  }

  /** `count` elements from element `start` of the data (C order), as a typed array of the file's dtype. */
  read(start: number, count: number): NpyData {
    if (this.fd === null) throw new Error('NpyReader: closed');
    const size = npyItemSize(this.header.dtype);
    if (start < 0 || count < 0 || (start + count) * size > this.header.dataBytes)
      throw new RangeError(`NpyReader: elements [${start}, ${start + count}) are outside the array`);
    const bytes = new Uint8Array(count * size);
    readFully(this.fd, bytes, this.header.dataOffset + start * size, this.file, this.header.dataOffset + this.header.dataBytes);
    return npyData(bytes, this.header.dtype);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readFully(fd: number, into: Uint8Array, position: number, file: string, size: number): void {
  let at = 0;
  while (at < into.length) {
    const n = readSync(fd, into, at, into.length - at, position + at);
    if (n === 0) throw new InputError(file, `ended before its ${size} bytes (was it changed while read?)`);
    at += n;
  }
}

/** Whether the file at `path` has this header and size. */
function matches(path: string, header: Uint8Array, size: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    if (fstatSync(fd).size !== size) return false;
    const head = new Uint8Array(header.length);
    if (readSync(fd, head, 0, head.length, 0) !== head.length) return false;
    return head.every((b, i) => b === header[i]);
  } finally {
    closeSync(fd);
  }
}

/**
 * A `.npy` file of a known dtype and shape written in slices at their positions (a [T, B, ...] array filled chunk
 * of samples by chunk of samples). The whole file has its final size from the start.
 */
export class NpyWriter {
  private fd: number | null;
  private readonly dataOffset: number;
  readonly itemSize: number;
  private constructor(
    readonly path: string,
    readonly dtype: NpyDtype,
    readonly shape: readonly number[],
    fd: number,
    dataOffset: number,
  ) {
    this.fd = fd;
    this.dataOffset = dataOffset;
    this.itemSize = npyItemSize(dtype);
  }

  /**
   * A file for an array of `shape` of `dtype`, or of the dtype of the typed array `like`. With `resume`, a file that
   * already holds exactly this header and size is opened as it is (slices written before stay; a resumed run writes
   * the rest); any other file is replaced.
   */
  static create(path: string, like: NpyDtype | NpyData, shape: readonly number[], resume = false): NpyWriter {
    const dtype = typeof like === 'string' ? like : npyDtypeOf(like);
    const header = npyHeader(dtype, shape);
    const size = header.length + shape.reduce((n, d) => n * d, 1) * npyItemSize(dtype);
    let fd: number;
    try {
      if (resume && matches(path, header, size)) return new NpyWriter(path, dtype, shape, openSync(path, 'r+'), header.length);
      fd = openSync(path, 'w');
    } catch (err) {
      throw new InputError(path, `cannot write: ${(err as Error).message.split('\n')[0].slice(0, 120)}`);
    }
    const w = new NpyWriter(path, dtype, shape, fd, header.length);
    w.writeBytes(header, 0);
    const count = shape.reduce((n, d) => n * d, 1);
    ftruncateSync(fd, header.length + count * w.itemSize);
    return w;
  }

  /** Writes `data` (of this file's dtype) at element `start` of the array. */
  write(start: number, data: NpyData): void {
    if (data.BYTES_PER_ELEMENT !== this.itemSize) throw new Error(`NpyWriter: ${data.constructor.name} is not ${this.dtype}`);
    this.writeBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.dataOffset + start * this.itemSize);
  }

  private writeBytes(bytes: Uint8Array, position: number): void {
    if (this.fd === null) throw new Error('NpyWriter: closed');
    let at = 0;
    try {
      while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at, position + at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(this.path, `cannot write: ${code === 'ENOSPC' ? 'no space left on the device' : (err as Error).message.slice(0, 120)}`);
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
