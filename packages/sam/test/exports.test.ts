import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = join(import.meta.dirname, '..', 'dist');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.js') ? [p] : [];
  });
}

describe('the built package', () => {
  it('keeps its main entry isomorphic: no node: imports outside dist/node', () => {
    const offenders = files(dist)
      .filter((f) => !f.startsWith(join(dist, 'node')))
      .filter((f) => /from ['"]node:|import\(['"]node:|require\(/.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('exports exactly its public surface (an API change shows up here)', async () => {
    const main = await import(join(dist, 'index.js'));
    expect(Object.keys(main).sort()).toMatchInlineSnapshot(`
      [
        "ADVANCE",
        "COLORMAPS",
        "GLYPH_HEIGHT",
        "GLYPH_WIDTH",
        "InputError",
        "MAX_HEADER_BYTES",
        "MODEL_FORMAT",
        "NCS_MODE",
        "NORMALIZE_MODES",
        "Network",
        "Recorder",
        "SamObserver",
        "UsageError",
        "baseImage",
        "blit",
        "colorize",
        "colormapBytes",
        "colormapIndex",
        "colormapTable",
        "composeGrid",
        "convFanout",
        "createImage",
        "denseMacs",
        "denseMacsPerStep",
        "drawText",
        "exitCodeOf",
        "fillRect",
        "imageToPixels",
        "isColormapName",
        "isNormalizeMode",
        "isSpiking",
        "legendStrip",
        "modelToSafetensors",
        "normalizeMap",
        "normalizeSequence",
        "overlay",
        "parseModel",
        "pixelsToRgba",
        "preprocess",
        "readNpy",
        "readSafetensors",
        "resizeBilinear",
        "resizeBilinearInterleaved",
        "resizeBilinearPlanar",
        "rgbaToRgb",
        "sequenceRange",
        "sizeOf",
        "textHeight",
        "textWidth",
        "valueRange",
        "writeNpy",
        "writeSafetensors",
      ]
    `);
    const node = await import(join(dist, 'node', 'index.js'));
    expect(Object.keys(node).sort()).toMatchInlineSnapshot(`
      [
        "MAX_FILE_BYTES",
        "MAX_PNG_PIXELS",
        "MAX_PNG_SIDE",
        "decodePng",
        "encodePng",
        "ensureDir",
        "readBytes",
        "writeFilesAtomic",
      ]
    `);
  });
});
