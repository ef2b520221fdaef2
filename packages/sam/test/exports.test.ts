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
        "ARCH_NAMES",
        "Adam",
        "COLORMAPS",
        "DEFAULT_EVENT_THRESHOLD",
        "FASHION_CLASSES",
        "FASHION_TEST_PER_CLASS",
        "GLYPH_HEIGHT",
        "GLYPH_WIDTH",
        "IDX_IMAGES_MAGIC",
        "IDX_LABELS_MAGIC",
        "IMAGE_HEIGHT",
        "IMAGE_PIXELS",
        "IMAGE_WIDTH",
        "InputError",
        "MAX_HEADER_BYTES",
        "MAX_TILE",
        "MODEL_FORMAT",
        "NCS_MODE",
        "NIR_TYPES",
        "NORMALIZE_MODES",
        "Network",
        "PRESETS",
        "PRESET_NAMES",
        "Recorder",
        "SURROGATES",
        "SamObserver",
        "Sgd",
        "TrainGraph",
        "UsageError",
        "accuracy",
        "baseImage",
        "batches",
        "blit",
        "buildArch",
        "colorize",
        "colormapBytes",
        "colormapIndex",
        "colormapTable",
        "composeGrid",
        "convFanout",
        "convGeometry",
        "convertToSnn",
        "countCorrect",
        "createImage",
        "denseMacs",
        "denseMacsPerStep",
        "describeArch",
        "detExp",
        "detLog",
        "dims",
        "discretisation",
        "drawText",
        "evaluate",
        "exitCodeOf",
        "expandParam",
        "fillRect",
        "fitPicture",
        "flatLength",
        "gatherPixels",
        "imageInput",
        "imageShape",
        "imageToPixels",
        "isColormapName",
        "isNormalizeMode",
        "isSpiking",
        "layerEventThreshold",
        "legendStrip",
        "lrAt",
        "makeDataset",
        "modelToSafetensors",
        "nirToModel",
        "normalizeMap",
        "normalizeSequence",
        "overlay",
        "parseFashionClass",
        "parseIdxImages",
        "parseIdxLabels",
        "parseModel",
        "pixelsToRgba",
        "poolGeometry",
        "preprocess",
        "readGrads",
        "readNir",
        "readNpy",
        "readSafetensors",
        "readWeights",
        "resizeBilinear",
        "resizeBilinearInterleaved",
        "resizeBilinearPlanar",
        "rgbaToRgb",
        "samFromSpikes",
        "samGrid",
        "samOverlays",
        "sequenceRange",
        "shardStep",
        "shuffle",
        "sizeOf",
        "softmaxCrossEntropy",
        "splitFashion",
        "subset",
        "summarize",
        "textHeight",
        "textWidth",
        "valueRange",
        "writeNir",
        "writeNpy",
        "writeSafetensors",
        "writeWeights",
      ]
    `);
    const node = await import(join(dist, 'node', 'index.js'));
    expect(Object.keys(node).sort()).toMatchInlineSnapshot(`
      [
        "DATASET_NAMES",
        "MAX_FILE_BYTES",
        "MAX_PNG_PIXELS",
        "MAX_PNG_SIDE",
        "MNIST_CLASSES",
        "decodePng",
        "encodePng",
        "ensureDir",
        "initialModel",
        "loadDataset",
        "loadFashionMnist",
        "readBytes",
        "trainModel",
        "writeFilesAtomic",
      ]
    `);
  });
});
