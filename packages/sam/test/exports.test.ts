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
        "DEFAULT_EVENT_THRESHOLD",
        "DiffNetwork",
        "GLYPH_HEIGHT",
        "GLYPH_WIDTH",
        "InputError",
        "LIMITS",
        "MAX_GRID_STEPS",
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
        "SUMMARY_SCORES",
        "SURROGATES",
        "SamObserver",
        "UsageError",
        "argmaxRows",
        "baseImage",
        "blit",
        "boundedProduct",
        "checkRequest",
        "colorize",
        "colormapBytes",
        "colormapIndex",
        "colormapTable",
        "composeGrid",
        "convFanout",
        "convGeometry",
        "createImage",
        "denseMacs",
        "denseMacsPerStep",
        "dims",
        "discretisation",
        "drawText",
        "eachSamOverlay",
        "exitCodeOf",
        "expandParam",
        "fillRect",
        "fitPicture",
        "formatBytes",
        "gridSteps",
        "imageInput",
        "imageShape",
        "imageToPixels",
        "isColormapName",
        "isNormalizeMode",
        "isSpiking",
        "layerEventThreshold",
        "legendStrip",
        "memoryInput",
        "modelToSafetensors",
        "nirToModel",
        "normalizeMap",
        "normalizeSequence",
        "npyHeader",
        "overlay",
        "parseJson",
        "parseModel",
        "pixelsToRgba",
        "poolGeometry",
        "preprocess",
        "readNir",
        "readNpy",
        "readNpyHeader",
        "readSafetensors",
        "recordAll",
        "resizeBilinear",
        "resizeBilinearInterleaved",
        "resizeBilinearPlanar",
        "resolveTimesteps",
        "rgbaToRgb",
        "samFromSpikes",
        "samGrid",
        "samOverlays",
        "sequenceRange",
        "simulate",
        "sizeOf",
        "sniffFormat",
        "spikeComparison",
        "summarize",
        "summaryScores",
        "textHeight",
        "textWidth",
        "valueRange",
        "writeNir",
        "writeNpy",
        "writeSafetensors",
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
        "NpyReader",
        "NpyWriter",
        "OutputDir",
        "checkOutputDir",
        "decodePng",
        "encodePng",
        "ensureDir",
        "initialModel",
        "loadDataset",
        "loadFashionMnist",
        "readBytes",
        "regularFile",
        "trainModel",
        "withOutputDir",
        "writeFilesAtomic",
      ]
    `);
    const train = await import(join(dist, 'train', 'index.js'));
    expect(Object.keys(train).sort()).toMatchInlineSnapshot(`
      [
        "ARCH_NAMES",
        "Adam",
        "FASHION_CLASSES",
        "FASHION_TEST_PER_CLASS",
        "IDX_IMAGES_MAGIC",
        "IDX_LABELS_MAGIC",
        "IMAGE_HEIGHT",
        "IMAGE_PIXELS",
        "IMAGE_WIDTH",
        "Sgd",
        "accuracy",
        "batches",
        "buildArch",
        "convertToSnn",
        "countCorrect",
        "describeArch",
        "detExp",
        "detLog",
        "evaluate",
        "flatLength",
        "gatherPixels",
        "lrAt",
        "makeDataset",
        "parseFashionClass",
        "parseIdxImages",
        "parseIdxLabels",
        "readGrads",
        "readWeights",
        "shardStep",
        "shuffle",
        "softmaxCrossEntropy",
        "splitFashion",
        "subset",
        "writeWeights",
      ]
    `);
  });
});
