export { createImage, fillRect, blit, type RgbaImage, type Rgb } from './canvas.js';
export {
  COLORMAPS,
  isColormapName,
  colormapTable,
  colormapBytes,
  colormapIndex,
  colorize,
  legendStrip,
  type ColormapName,
} from './colormaps.js';
export { drawText, textWidth, textHeight, GLYPH_WIDTH, GLYPH_HEIGHT, ADVANCE } from './font.js';
export { composeGrid, type GridOptions, type GridTheme } from './grid.js';
export {
  NORMALIZE_MODES,
  isNormalizeMode,
  valueRange,
  sequenceRange,
  normalizeMap,
  normalizeSequence,
  type NormalizeMode,
  type NormalizeOptions,
  type Range,
} from './normalize.js';
export { overlay } from './overlay.js';
export { resizeBilinear, resizeBilinearInterleaved, resizeBilinearPlanar } from './resize.js';
export { mapOverlays, eachMapOverlay, mapGrid, gridSteps, fitPicture, fittedSize, MAX_TILE, MAX_GRID_STEPS, type MapStyle, type BasePicture } from './maps.js';
