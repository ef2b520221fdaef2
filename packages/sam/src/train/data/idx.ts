/**
 * IDX, the file format MNIST is published in (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * `00 00 <type> <ndims>`, then `ndims` big-endian uint32 dimensions, then the data in C order. We read only what MNIST
 * uses: unsigned bytes (type 0x08), 3-D for images (magic 0x00000803) and 1-D for labels (magic 0x00000801).
 */
import { InputError } from '../../errors.js';

export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  /** count * rows * cols bytes, image after image, row-major; a copy, not a view of the file's bytes. */
  readonly pixels: Uint8Array;
}

export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/** Reads the header of an unsigned-byte IDX file with `ndims` dimensions and checks the size matches exactly. */
function header(bytes: Uint8Array, file: string, magic: number, what: string): { dims: number[]; offset: number } {
  const ndims = magic & 0xff;
  const offset = 4 + 4 * ndims;
  if (bytes.length < offset) {
    throw new InputError(file, `is ${bytes.length} bytes, too short for an IDX ${what} header (${offset} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = view.getUint32(0, false);
  if (found !== magic) {
    const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
    throw new InputError(file, `not an IDX ${what} file (magic ${hex(found)}, expected ${hex(magic)})`);
  }
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  // At most three uint32s: the product stays finite in a double, and is exact whenever it could match a real file.
  const size = dims.reduce((n, d) => n * d, 1);
  if (size !== bytes.length - offset) {
    throw new InputError(
      file,
      `IDX ${what} header says ${dims.join(' x ')} = ${size} bytes of data but ${bytes.length - offset} follow it` +
        (size > bytes.length - offset ? ' (truncated file?)' : ''),
    );
  }
  return { dims, offset };
}

/** Parses an IDX image file (`*-images-idx3-ubyte`). */
export function parseIdxImages(bytes: Uint8Array, file = ''): IdxImages {
  const { dims, offset } = header(bytes, file, IDX_IMAGES_MAGIC, 'images');
  const [count, rows, cols] = dims;
  if (count > 0 && (rows === 0 || cols === 0)) throw new InputError(file, `IDX images of size ${rows} x ${cols}`);
  return { count, rows, cols, pixels: bytes.slice(offset) };
}

/** Parses an IDX label file (`*-labels-idx1-ubyte`): one byte a label. Returns a copy. */
export function parseIdxLabels(bytes: Uint8Array, file = ''): Uint8Array {
  const { offset } = header(bytes, file, IDX_LABELS_MAGIC, 'labels');
  return bytes.slice(offset);
}
