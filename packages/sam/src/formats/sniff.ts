/**
 * What a file is, from its first bytes, so that an error can say "not a safetensors model (it is a PNG image)"
 * instead of reporting a nonsense header length.
 */
const SIGNATURES: ReadonlyArray<{ bytes: readonly number[]; what: string }> = [
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], what: 'a PNG image' },
  { bytes: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], what: 'an HDF5 file (a .nir graph?)' },
  { bytes: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], what: 'a NumPy .npy array' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { bytes: [0x42, 0x4d], what: 'a BMP image' },
  { bytes: [0x52, 0x49, 0x46, 0x46], what: 'a RIFF file (WebP?)' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a ZIP archive (a PyTorch .pt checkpoint?)' },
  { bytes: [0x1f, 0x8b], what: 'gzip-compressed' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an executable (ELF)' },
  { bytes: [0x00, 0x61, 0x73, 0x6d], what: 'a WebAssembly module' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
];

function startsWith(bytes: Uint8Array, sig: readonly number[]): boolean {
  if (bytes.length < sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[i] !== sig[i]) return false;
  return true;
}

/** `a PNG image`, `a safetensors file`, ... when the bytes say what they are; null when they say nothing known. */
export function sniffFormat(bytes: Uint8Array): string | null {
  // safetensors first (its first bytes are a length, which may look like a short signature): a little-endian u64
  // header length under 2^40, then a JSON object.
  if (bytes.length >= 10 && bytes[8] === 0x7b && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0) return 'a safetensors file';
  for (const s of SIGNATURES) if (startsWith(bytes, s.bytes)) return s.what;
  let i = 0;
  while (i < bytes.length && i < 64 && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] === 0x7b || bytes[i] === 0x5b) return 'JSON text';
  if (bytes.length === 0) return 'empty';
  return null;
}

/**
 * `not NAME (it is a PNG image)` for a file whose first bytes say it is some other known format, else null (an
 * empty or unknown file is left to the format's own checks, which say what is wrong with it).
 */
export function notA(name: string, bytes: Uint8Array, own: string): string | null {
  const what = sniffFormat(bytes);
  if (what === null || what === own || what === 'empty') return null;
  return `not ${name} (it is ${what})`;
}
