import { blit, createImage, fillRect, type Rgb, type RgbaImage } from './canvas.js';
import { legendStrip, type ColormapName } from './colormaps.js';
import { drawText, textHeight, textWidth } from './font.js';

export type GridTheme = 'dark' | 'light';

export interface GridOptions {
  /** Tiles per row; default ceil(sqrt(T)). */
  readonly columns?: number;
  /** Integer nearest-neighbour upscale of every tile; default the smallest making its longer side >= minTileSize. */
  readonly tileScale?: number;
  /** Default 96 px, so a 28x28 MNIST map is shown at 4x. */
  readonly minTileSize?: number;
  /** One caption per tile; default "t=0", "t=1", ... */
  readonly labels?: readonly string[];
  /** A line above the grid, e.g. "predicted: 7 (label 7)". */
  readonly title?: string;
  /** Draw this colormap's bar under the grid, with "0" and "1" at its ends. */
  readonly legend?: ColormapName;
  /** Integer size of the captions' font pixels; default from the tile size. The title is one step larger. */
  readonly fontScale?: number;
  /** Default 'dark': it reads on both light and dark README backgrounds and frames bright maps well. */
  readonly theme?: GridTheme;
}

interface Palette {
  readonly background: Rgb;
  readonly frame: Rgb;
  readonly title: Rgb;
  readonly caption: Rgb;
}

const PALETTES: Record<GridTheme, Palette> = {
  dark: { background: [18, 20, 26], frame: [58, 63, 74], title: [236, 238, 242], caption: [160, 166, 178] },
  light: { background: [255, 255, 255], frame: [205, 208, 214], title: [24, 26, 32], caption: [92, 97, 108] },
};

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`grid: ${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Lay T equally sized tiles (e.g. one overlay per time step) out in rows, captions under each, an optional title
 * above and colour bar below. Returns an opaque RGBA picture.
 */
export function composeGrid(tiles: readonly RgbaImage[], opts: GridOptions = {}): RgbaImage {
  if (tiles.length === 0) throw new RangeError('grid: no tiles');
  const { width: tw, height: th } = tiles[0];
  for (const t of tiles) {
    if (t.width !== tw || t.height !== th || t.rgba.length !== tw * th * 4) {
      throw new RangeError(`grid: tiles differ in size (${tw}x${th} and ${t.width}x${t.height})`);
    }
  }
  const labels = opts.labels ?? tiles.map((_, t) => `t=${t}`);
  if (labels.length !== tiles.length) throw new RangeError(`grid: ${labels.length} labels for ${tiles.length} tiles`);
  const columns = Math.min(tiles.length, positiveInt('columns', opts.columns ?? Math.ceil(Math.sqrt(tiles.length))));
  const rows = Math.ceil(tiles.length / columns);
  const scale = positiveInt(
    'tileScale',
    opts.tileScale ?? Math.max(1, Math.ceil((opts.minTileSize ?? 96) / Math.max(tw, th))),
  );
  const cellW = tw * scale;
  const cellH = th * scale;
  const u = positiveInt('fontScale', opts.fontScale ?? Math.min(3, Math.max(1, Math.floor(cellW / 48))));
  const palette = PALETTES[opts.theme ?? 'dark'];

  // Spacing is in font pixels, so the picture keeps its proportions at any font scale.
  const pad = 6 * u;
  const gapX = 4 * u;
  const captionGap = 2 * u;
  const rowGap = 4 * u;
  const titleScale = u + 1;
  const title = opts.title ?? '';
  const titleH = title ? textHeight(titleScale) + 4 * u : 0;
  const rowH = cellH + captionGap + textHeight(u) + rowGap;
  const gridW = columns * cellW + (columns - 1) * gapX;
  const barW = Math.min(gridW, 256);
  const barH = 4 * u;
  const legendH = opts.legend ? barH + captionGap + textHeight(u) + rowGap : 0;

  const width = Math.max(gridW, textWidth(title, titleScale)) + 2 * pad;
  // Every row and the legend end with a rowGap; the last one gives way to the bottom padding.
  const height = 2 * pad + titleH + rows * rowH + legendH - rowGap;
  const img = createImage(width, height, palette.background);

  if (title) drawText(img, title, Math.floor((width - textWidth(title, titleScale)) / 2), pad, titleScale, palette.title);

  const left = Math.floor((width - gridW) / 2);
  const top = pad + titleH;
  tiles.forEach((tile, i) => {
    const x = left + (i % columns) * (cellW + gapX);
    const y = top + Math.floor(i / columns) * rowH;
    fillRect(img, x - 1, y - 1, cellW + 2, cellH + 2, palette.frame);
    blit(img, tile, x, y, scale);
    const label = labels[i];
    drawText(img, label, x + Math.floor((cellW - textWidth(label, u)) / 2), y + cellH + captionGap, u, palette.caption);
  });

  if (opts.legend) {
    const y = top + rows * rowH;
    const x = Math.floor((width - barW) / 2);
    fillRect(img, x - 1, y - 1, barW + 2, barH + 2, palette.frame);
    blit(img, { width: barW, height: barH, rgba: legendStrip(opts.legend, barW, barH) }, x, y);
    const textY = y + barH + captionGap;
    drawText(img, '0', x, textY, u, palette.caption);
    drawText(img, '1', x + barW - textWidth('1', u), textY, u, palette.caption);
  }
  return img;
}
