/**
 * Charts as PNG, drawn in Node without a browser: a Vega-Lite spec compiled by vega-lite, rendered to SVG by vega's
 * headless view, rasterised by resvg (a prebuilt binary inside its npm package) with the system's fonts. Vega-Lite
 * gives axes, titles and legends from a few lines of data description; the report and `evaluate` use it.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export type ChartSpec = Record<string, unknown>;

/** The SVG of a Vega-Lite spec. */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  // Legends show their labels whole (Vega-Lite cuts them at 160 px: "Grad-CAM (ANN, mni…").
  const config = { ...(spec.config as Record<string, unknown> | undefined), legend: { labelLimit: 0, ...((spec.config as { legend?: object } | undefined)?.legend) } };
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec, config } as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The PNG of a Vega-Lite spec at twice its size, on white. */
export async function chartPng(spec: ChartSpec): Promise<Uint8Array> {
  const svg = await chartSvg(spec);
  const png = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Mean curves per method (deletion or insertion): p_c against the share of pixels changed. */
export function curveChart(title: string, xTitle: string, curves: Record<string, number[]>): ChartSpec {
  const values: Array<{ x: number; p: number; method: string }> = [];
  for (const [method, c] of Object.entries(curves)) c.forEach((p, k) => values.push({ x: k / (c.length - 1), p, method }));
  return {
    title, width: 420, height: 260, data: { values }, mark: { type: 'line', point: false },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle, axis: { format: '%' } },
      y: { field: 'p', type: 'quantitative', title: 'probability of the class', scale: { domain: [0, 1] } },
      color: { field: 'method', type: 'nominal', title: 'method' },
    },
  };
}
