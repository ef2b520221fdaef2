/** Main-thread drawing of the small charts: cheap canvas calls on data the worker sent. */
import { colormapBytes, type ColormapName } from '@spikelens/sam';

/** Ten distinguishable class colours (matplotlib's tab10). */
export const CLASS_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const INK = '#d9dce3';
const DIM = '#6b7280';
const GRID = '#2a2f3a';

function fit(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d')!;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  return ctx;
}

/** Scores [t][k] as one line per class; `T` sets the x range so the chart does not rescale while streaming. */
export function drawScores(canvas: HTMLCanvasElement, scores: readonly ArrayLike<number>[], T: number, highlight: number): void {
  const ctx = fit(canvas);
  const { width: w, height: h } = canvas;
  const pad = { l: 34, r: 8, t: 8, b: 20 };
  let lo = 0;
  let hi = 0;
  for (const s of scores) for (let k = 0; k < s.length; k++) (lo = Math.min(lo, s[k])), (hi = Math.max(hi, s[k]));
  if (hi === lo) hi = lo + 1;
  const x = (t: number) => pad.l + ((w - pad.l - pad.r) * t) / Math.max(1, T - 1);
  const y = (v: number) => h - pad.b - ((h - pad.t - pad.b) * (v - lo)) / (hi - lo);
  ctx.strokeStyle = GRID;
  ctx.fillStyle = DIM;
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath();
    ctx.moveTo(pad.l, y(v));
    ctx.lineTo(w - pad.r, y(v));
    ctx.stroke();
    ctx.fillText(formatNumber(v), 2, y(v) + 4);
  }
  ctx.fillText('step 0', pad.l, h - 5);
  ctx.fillText(`${T - 1}`, w - pad.r - 14, h - 5);
  const K = scores.length ? scores[0].length : 0;
  for (let pass = 0; pass < 2; pass++)
    for (let k = 0; k < K; k++) {
      if ((k === highlight) !== (pass === 1)) continue;
      ctx.strokeStyle = CLASS_COLORS[k % CLASS_COLORS.length];
      ctx.globalAlpha = k === highlight ? 1 : 0.55;
      ctx.lineWidth = k === highlight ? 2.5 : 1.2;
      ctx.beginPath();
      scores.forEach((s, t) => (t === 0 ? ctx.moveTo(x(t), y(s[k])) : ctx.lineTo(x(t), y(s[k]))));
      if (scores.length === 1) ctx.arc(x(0), y(scores[0][k]), 1.5, 0, 2 * Math.PI);
      ctx.stroke();
    }
  ctx.globalAlpha = 1;
}

/** One horizontal bar per spiking layer, its firing rate in percent. */
export function drawRates(canvas: HTMLCanvasElement, rates: Record<string, number>): void {
  const entries = Object.entries(rates);
  const rowH = 18;
  const wantH = Math.max(30, entries.length * rowH + 8);
  if (canvas.height !== wantH) canvas.height = wantH;
  const ctx = fit(canvas);
  const labelW = 70;
  const max = Math.max(0.05, ...entries.map(([, r]) => r));
  ctx.font = '11px system-ui, sans-serif';
  entries.forEach(([name, r], i) => {
    const y = 4 + i * rowH;
    ctx.fillStyle = INK;
    ctx.fillText(name, 2, y + 12);
    const bw = ((canvas.width - labelW - 60) * r) / max;
    ctx.fillStyle = '#ffb000';
    ctx.fillRect(labelW, y + 3, Math.max(1, bw), rowH - 7);
    ctx.fillStyle = INK;
    ctx.fillText(`${(r * 100).toFixed(1)} %`, labelW + bw + 6, y + 12);
  });
}

/** Raster [T, rows] of spike fractions, time on x, neuron groups on y. */
export function drawRaster(canvas: HTMLCanvasElement, data: Float32Array, rows: number, T: number, current: number): void {
  const ctx = fit(canvas);
  const { width: w, height: h } = canvas;
  if (rows < 1) {
    // No spiking layer chosen: an empty panel.
    ctx.fillStyle = 'rgb(12, 12, 16)';
    ctx.fillRect(0, 0, w, h);
    return;
  }
  const img = ctx.createImageData(w, h);
  const steps = Math.max(1, T);
  for (let py = 0; py < h; py++) {
    const r = Math.min(rows - 1, Math.floor((py * rows) / h));
    for (let px = 0; px < w; px++) {
      const t = Math.min(steps - 1, Math.floor((px * steps) / w));
      const o = (py * w + px) * 4;
      const have = (t + 1) * rows <= data.length;
      const v = have ? data[t * rows + r] : 0;
      const g = have ? Math.round(24 + 231 * Math.sqrt(v)) : 12;
      img.data[o] = g;
      img.data[o + 1] = have ? Math.round(g * 0.85) : 12;
      img.data[o + 2] = have ? Math.round(g * 0.4) : 16;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  if (current >= 0 && current < T) {
    ctx.strokeStyle = '#4da3ff';
    ctx.lineWidth = 2;
    ctx.strokeRect((current * w) / steps + 1, 1, w / steps - 2, h - 2);
  }
}

/** The colour bar of the map's colormap, left to right from 0 to 1. */
export function drawLegend(canvas: HTMLCanvasElement, cmap: ColormapName): void {
  const ctx = fit(canvas);
  const table = colormapBytes(cmap);
  const entries = table.length / 3;
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let x = 0; x < canvas.width; x++) {
    const e = Math.min(entries - 1, Math.floor((x * entries) / canvas.width));
    for (let y = 0; y < canvas.height; y++) {
      const o = (y * canvas.width + x) * 4;
      img.data.set(table.subarray(e * 3, e * 3 + 3), o);
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  return v.toPrecision(2);
}

/** Draws opaque RGBA into a canvas of the same size. */
export function putPicture(canvas: HTMLCanvasElement, p: { width: number; height: number; rgba: Uint8Array }): void {
  if (canvas.width !== p.width) canvas.width = p.width;
  if (canvas.height !== p.height) canvas.height = p.height;
  const ctx = canvas.getContext('2d')!;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(p.rgba.buffer as ArrayBuffer, p.rgba.byteOffset, p.rgba.byteLength), p.width, p.height), 0, 0);
}
