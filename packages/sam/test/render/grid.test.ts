import { describe, expect, it } from 'vitest';
import { createImage, type RgbaImage } from '../../src/render/canvas.js';
import { drawText, textHeight, textWidth } from '../../src/render/font.js';
import { composeGrid } from '../../src/render/grid.js';

const DARK_BG = [18, 20, 26];

function tile(w: number, h: number, rgb: [number, number, number]): RgbaImage {
  return createImage(w, h, rgb);
}

const at = (img: RgbaImage, x: number, y: number) => Array.from(img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

/** Pixels in the rectangle that are not the background colour. */
function inked(img: RgbaImage, x0: number, y0: number, w: number, h: number, bg = DARK_BG): number {
  let n = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const [r, g, b] = at(img, x, y);
      if (r !== bg[0] || g !== bg[1] || b !== bg[2]) n++;
    }
  }
  return n;
}

describe('font', () => {
  it('measures text: 6 px advance, no trailing column, 7 px tall, times the scale', () => {
    expect(textWidth('t=0', 1)).toBe(17);
    expect(textWidth('t=0', 3)).toBe(51);
    expect(textWidth('', 2)).toBe(0);
    expect(textHeight(2)).toBe(14);
  });

  it('draws glyph bits: "." is a 2x2 block at the bottom, scaled', () => {
    const img = createImage(10, 16, [0, 0, 0]);
    drawText(img, '.', 0, 0, 2, [255, 255, 255]);
    const lit: string[] = [];
    for (let y = 0; y < 16; y++) for (let x = 0; x < 10; x++) if (at(img, x, y)[0] === 255) lit.push(`${x},${y}`);
    // column bytes 00 60 60 00 00: rows 5 and 6 of columns 1 and 2, each a 2x2 block at scale 2.
    const expected: string[] = [];
    for (let y = 10; y < 14; y++) for (let x = 2; x < 6; x++) expected.push(`${x},${y}`);
    expect(lit.sort()).toEqual(expected.sort());
  });

  it('draws characters outside printable ASCII as "?"', () => {
    const a = createImage(6, 7, [0, 0, 0]);
    const b = createImage(6, 7, [0, 0, 0]);
    drawText(a, 'é', 0, 0, 1, [255, 255, 255]);
    drawText(b, '?', 0, 0, 1, [255, 255, 255]);
    expect(Array.from(a.rgba)).toEqual(Array.from(b.rgba));
    expect(inked(a, 0, 0, 6, 7, [0, 0, 0])).toBeGreaterThan(0);
  });
});

describe('composeGrid', () => {
  const mnist = Array.from({ length: 20 }, () => tile(28, 28, [200, 40, 40]));

  it('lays 20 MNIST tiles out 5 x 4 at 4x, with title and legend', () => {
    const g = composeGrid(mnist, { title: 'predicted: 7 (label 7)', legend: 'jet' });
    // tiles 112 px, font scale 2: pad 12, gaps 8, caption 4 + 14, title 21 + 8, legend 8 + 4 + 14 + 8.
    expect(g.width).toBe(5 * 112 + 4 * 8 + 2 * 12);
    expect(g.height).toBe(2 * 12 + 29 + 4 * (112 + 4 + 14 + 8) + 34 - 8);
    expect(g.rgba.length).toBe(g.width * g.height * 4);
    expect(at(g, 0, 0)).toEqual([...DARK_BG, 255]);
  });

  it('puts each tile, nearest-neighbour upscaled, in its cell, and a caption under it', () => {
    const tiles = Array.from({ length: 7 }, (_, t) => tile(10, 10, [t * 30, 100, 200]));
    const g = composeGrid(tiles, { columns: 3, tileScale: 3, fontScale: 1 });
    // pad 6, gapX 4, cell 30, row 30 + 2 + 7 + 4.
    const cell = (i: number) => ({ x: 6 + (i % 3) * 34, y: 6 + Math.floor(i / 3) * 43 });
    expect(g.width).toBe(3 * 30 + 2 * 4 + 12);
    expect(g.height).toBe(12 + 3 * 43 - 4);
    for (let i = 0; i < 9; i++) {
      const { x, y } = cell(i);
      const caption = inked(g, x, y + 32, 30, 7);
      if (i < 7) {
        expect(at(g, x, y)).toEqual([i * 30, 100, 200, 255]);
        expect(at(g, x + 29, y + 29)).toEqual([i * 30, 100, 200, 255]);
        expect(caption).toBeGreaterThan(0);
      } else {
        expect(at(g, x + 15, y + 15)).toEqual([...DARK_BG, 255]);
        expect(caption).toBe(0);
      }
    }
  });

  it('draws the given labels, the title above the tiles and the legend below', () => {
    const tiles = [tile(8, 8, [0, 0, 0]), tile(8, 8, [0, 0, 0])];
    const plain = composeGrid(tiles, { tileScale: 4, fontScale: 1 });
    const titled = composeGrid(tiles, { tileScale: 4, fontScale: 1, title: 'lif1', legend: 'viridis' });
    const titleBand = 6 + textHeight(2) + 4;
    expect(titled.height).toBe(plain.height + titleBand - 6 + 4 + 2 + 7 + 4);
    expect(inked(titled, 0, 6, titled.width, textHeight(2))).toBeGreaterThan(0);
    expect(inked(plain, 0, 0, plain.width, 5)).toBe(0); // row 5 holds the tiles' 1 px frame
    const legendTop = titled.height - 6 - 7 - 2 - 4;
    expect(at(titled, Math.floor(titled.width / 2), legendTop + 1)).not.toEqual([...DARK_BG, 255]);
    const a = composeGrid(tiles, { tileScale: 4, fontScale: 1, labels: ['a', 'b'] });
    const b = composeGrid(tiles, { tileScale: 4, fontScale: 1, labels: ['a', 'c'] });
    expect(Array.from(a.rgba)).not.toEqual(Array.from(b.rgba));
  });

  it('widens the picture for a long title', () => {
    const g = composeGrid([tile(4, 4, [9, 9, 9])], { tileScale: 1, fontScale: 1, title: 'a rather long title' });
    expect(g.width).toBe(textWidth('a rather long title', 2) + 12);
  });

  it('light theme uses a white background', () => {
    const g = composeGrid([tile(4, 4, [9, 9, 9])], { theme: 'light' });
    expect(at(g, 0, 0)).toEqual([255, 255, 255, 255]);
  });

  it('rejects no tiles, mixed sizes, wrong label count and bad options', () => {
    expect(() => composeGrid([])).toThrow(RangeError);
    expect(() => composeGrid([tile(4, 4, [0, 0, 0]), tile(4, 5, [0, 0, 0])])).toThrow(/differ/);
    expect(() => composeGrid([tile(4, 4, [0, 0, 0])], { labels: [] })).toThrow(/labels/);
    expect(() => composeGrid([tile(4, 4, [0, 0, 0])], { columns: 0 })).toThrow(/columns/);
    expect(() => composeGrid([tile(4, 4, [0, 0, 0])], { tileScale: 1.5 })).toThrow(/tileScale/);
  });
});
