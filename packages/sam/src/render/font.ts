import { fillRect, type Rgb, type RgbaImage } from './canvas.js';

/**
 * A 5x7 bitmap font for printable ASCII (0x20..0x7E), the classic LCD one: 5 columns per glyph, left to right,
 * one byte each as two hex digits, bit 0 the top row. Characters outside the range draw as '?'.
 */
const GLYPHS =
  '000000000000005F00000007000700147F147F14242A7F2A12231308646236495522500005030000001C2241000041221C00' +
  '082A1C2A0808083E080800503000000808080808006060000020100804023E5149453E00427F400042615149462141454B31' +
  '1814127F1027454545393C4A49493001710905033649494936064949291E0036360000005636000000081422411414141414' +
  '41221408000201510906324979413E7E1111117E7F494949363E414141227F4141221C7F494949417F090901013E41415132' +
  '7F0808087F00417F41002040413F017F081422417F404040407F0204027F7F0408107F3E4141413E7F090909063E4151215E' +
  '7F09192946464949493101017F01013F4040403F1F2040201F7F2018207F631408146303047804036151494543007F414100' +
  '02040810200041417F0004020102044040404040000102040020545454787F484444383844444420384444487F3854545418' +
  '087E090102085454543C7F0804047800447D40002040443D00007F10284400417F40007C041804787C080404783844444438' +
  '7C14141408081414187C7C080404084854545420043F4440203C4040207C1C2040201C3C4030403C44281028440C5050503C' +
  '4464544C44000836410000007F000000413608000804081008';

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal advance per character in font pixels: the glyph and one column of spacing. */
export const ADVANCE = GLYPH_WIDTH + 1;

function glyphColumn(code: number, col: number): number {
  const index = code >= 0x20 && code <= 0x7e ? code - 0x20 : 0x3f - 0x20;
  const at = (index * GLYPH_WIDTH + col) * 2;
  return parseInt(GLYPHS.slice(at, at + 2), 16);
}

/** Width in pixels of `text` drawn at `scale` (no trailing spacing column). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale;
}

export function textHeight(scale: number): number {
  return GLYPH_HEIGHT * scale;
}

/** Draw `text` with its top-left corner at (x, y), each font pixel a `scale` x `scale` block. */
export function drawText(img: RgbaImage, text: string, x: number, y: number, scale: number, color: Rgb): void {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    for (let col = 0; col < GLYPH_WIDTH; col++) {
      const bits = glyphColumn(code, col);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        if (bits & (1 << row)) {
          fillRect(img, x + (i * ADVANCE + col) * scale, y + row * scale, scale, scale, color);
        }
      }
    }
  }
}
