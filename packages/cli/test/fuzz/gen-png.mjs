// PNG images: valid ones of every colour type, depth and size (big ones of one colour are a few KB), and chunk-level
// mutations: IHDR fields, CRCs, truncated or missing IDAT, decompression bombs, unknown critical chunks.
import fc from 'fast-check';
import { deflateSync } from 'node:zlib';
import { PNGS, repoFile } from './bases.mjs';
import { concat, ihdr, pngChunk, pngChunks, pngFromChunks, pngImage, PNG_SIGNATURE } from './formats.mjs';
import { few, frac, idx, sometimes } from './values.mjs';

const FORMATS = [
  [0, 1], [0, 2], [0, 4], [0, 8], [0, 16], [2, 8], [2, 16], [3, 1], [3, 2], [3, 4], [3, 8], [4, 8], [4, 16], [6, 8], [6, 16],
];

const size = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(1, 2, 7, 28, 29, 100), fc.constantFrom(1, 3, 28, 64, 100)) },
  { weight: 2, arbitrary: fc.constantFrom([1, 16384], [16384, 1], [4096, 4096], [16384, 1024], [2048, 2048], [1000, 1000], [16385, 1], [1, 20000]) },
);

const pattern = fc.constantFrom('black', 'white', 'stripes');

// Big images take a while to make: the last few are kept.
const made = new Map();
function image(key, make) {
  if (!made.has(key)) {
    if (made.size >= 24) made.delete(made.keys().next().value);
    made.set(key, make());
  }
  return made.get(key);
}

export const validPng = fc.record({ format: fc.constantFrom(...FORMATS), size, pattern }).map(({ format: [colorType, depth], size: [width, height], pattern: p }) => ({
  what: [`valid PNG ${width}x${height} colour ${colorType} depth ${depth} ${p}`],
  big: width * height > 1e6,
  slow: width * height > 2.5e5,
  build: () =>
    image(`${width}x${height}/${colorType}/${depth}/${p}`, () =>
      pngImage({ width, height, depth, colorType, pixel: p === 'black' ? () => 0 : p === 'white' ? () => 255 : (x, y) => ((x >> 2) + (y >> 2)) & 1 ? 255 : 0 }),
    ),
}));

const IHDR_SIDES = [0, 1, 28, 4096, 16384, 16385, 100000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];

/** Chunk-level edits of a parsed PNG (a list of { type, data, crc?, length? }). */
const chunkEdit = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...IHDR_SIDES), fc.constantFrom(...IHDR_SIDES)).map(([w, h]) => ({ what: `IHDR ${w}x${h}`, f: (cs) => { const d = cs[0].data; const v = new DataView(d.buffer, d.byteOffset); v.setUint32(0, w >>> 0); v.setUint32(4, h >>> 0); } })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 32), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 255)).map(([depth, ct]) => ({ what: `IHDR depth ${depth} colour ${ct}`, f: (cs) => { cs[0].data[8] = depth; cs[0].data[9] = ct; } })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(10, 11, 12), fc.constantFrom(1, 2, 255)).map(([at, v]) => ({ what: `IHDR byte ${at} = ${v} (compression/filter/interlace)`, f: (cs) => (cs[0].data[at] = v) })) },
  { weight: 2, arbitrary: idx.map((i) => ({ what: `bad CRC on chunk #${i}`, f: (cs) => (cs[i % cs.length].crc = false) })) },
  { weight: 2, arbitrary: frac.map((x) => ({ what: `IDAT truncated to ${x.toFixed(2)}`, f: (cs) => { for (const c of cs) if (c.type === 'IDAT') c.data = c.data.slice(0, Math.floor(x * c.data.length)); } })) },
  { weight: 1, arbitrary: fc.constant({ what: 'IDAT removed', f: (cs) => cs.splice(0, cs.length, ...cs.filter((c) => c.type !== 'IDAT')) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'IEND removed', f: (cs) => cs.splice(0, cs.length, ...cs.filter((c) => c.type !== 'IEND')) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'IHDR twice', f: (cs) => cs.splice(1, 0, { ...cs[0] }) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'IHDR not first', f: (cs) => cs.push(cs.shift()) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'IDAT garbage (not zlib)', f: (cs) => { for (const c of cs) if (c.type === 'IDAT') c.data = new Uint8Array(c.data.length).fill(0xab); } }) },
  { weight: 1, arbitrary: fc.constantFrom(1e6, 1e8, 5e8).map((n) => ({ what: `IDAT inflates to ${n} zero bytes (bomb)`, f: (cs) => { const i = cs.findIndex((c) => c.type === 'IDAT'); cs.splice(i, cs.filter((c) => c.type === 'IDAT').length, { type: 'IDAT', data: deflateSync(new Uint8Array(n), { level: 9 }) }); } })) },
  { weight: 1, arbitrary: fc.constantFrom('abCD', 'PLTE', 'tRNS', 'zTXt', 'iCCP', 'acTL', 'IDAT').map((t) => ({ what: `extra chunk ${t}`, f: (cs) => cs.splice(1, 0, { type: t, data: new Uint8Array(t === 'PLTE' ? 7 : 3).fill(1) }) })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 32 - 1).map((n) => ({ what: `IDAT length field ${n}`, f: (cs) => { const c = cs.find((x) => x.type === 'IDAT'); if (c) c.length = n; } })) },
  { weight: 1, arbitrary: fc.constant({ what: 'PLTE removed', f: (cs) => cs.splice(0, cs.length, ...cs.filter((c) => c.type !== 'PLTE')) }) },
  { weight: 1, arbitrary: fc.constant({ what: 'PLTE of 1 entry', f: (cs) => { const c = cs.find((x) => x.type === 'PLTE'); if (c) c.data = c.data.slice(0, 3); } }) },
);

const base = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PNGS).map((p) => ({ what: p.split('/').pop(), bytes: () => repoFile(p) })) },
  { weight: 2, arbitrary: validPng.map((v) => ({ what: v.what[0], bytes: v.build, big: v.big, slow: v.slow })) },
);

export const mutatedPng = fc
  .record({
    base,
    edits: few(chunkEdit, 3),
    cut: sometimes(frac, 0.12),
    flips: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(frac, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }) }),
  })
  .map((r) => ({
    big: !!r.base.big,
    slow: !!r.base.slow,
    what: [`PNG from ${r.base.what}`, ...r.edits.map((e) => e.what), ...(r.cut !== null ? [`cut at ${r.cut.toFixed(2)}`] : []), ...(r.flips.length ? [`${r.flips.length} byte flips`] : [])],
    build: () => {
      const cs = pngChunks(r.base.bytes());
      for (const e of r.edits) {
        try {
          e.f(cs);
        } catch {
          /* no such chunk */
        }
      }
      let bytes = cs.length ? pngFromChunks(cs) : concat(PNG_SIGNATURE, pngChunk('IEND', new Uint8Array(0)));
      for (const [at, v] of r.flips) bytes[Math.floor(at * (bytes.length - 1))] = v;
      if (r.cut !== null) bytes = bytes.slice(0, Math.floor(r.cut * bytes.length));
      return bytes;
    },
  }));

export const notPng = fc.constantFrom(
  { what: ['empty file'], build: () => new Uint8Array(0) },
  { what: ['PNG signature only'], build: () => PNG_SIGNATURE },
  { what: ['text file'], build: () => new TextEncoder().encode('not a png\n') },
  { what: ['IHDR only'], build: () => pngFromChunks([{ type: 'IHDR', data: ihdr({ width: 28, height: 28 }) }]) },
);

export const anyPng = fc.oneof({ weight: 2, arbitrary: validPng }, { weight: 5, arbitrary: mutatedPng }, { weight: 1, arbitrary: notPng });
