import { evaluateChunk, type ChunkResult, type EvaluateImages, type EvaluateOptions, type Model } from '@spikelens/sam';
import type { SecondCore, loadDataset } from '@spikelens/sam/node';

/** The images `indices` of a data set (held from image `offset`) as one chunk, with labels and boxes. */
export function chunkOf(
  data: Awaited<ReturnType<typeof loadDataset>>, indices: number[], offset: number, n: number,
): EvaluateImages {
  const pixels = new Float32Array(indices.length * n);
  indices.forEach((i, k) => {
    for (let p = 0; p < n; p++) pixels[k * n + p] = data.pixels[(i - offset) * n + p];
  });
  const labels = indices.map((i) => data.labels[i - offset]);
  const boxed = 'boxes' in data ? (data as unknown as { boxes: Int16Array; boxClasses: Uint8Array; boxesPerImage: number }) : null;
  const boxes = boxed
    ? indices.map((i) =>
        Array.from({ length: boxed.boxesPerImage }, (_, j) => {
          const at = ((i - offset) * boxed.boxesPerImage + j) * 4;
          const b = boxed.boxes;
          return { box: [b[at], b[at + 1], b[at + 2], b[at + 3]] as const, label: boxed.boxClasses[(i - offset) * boxed.boxesPerImage + j] };
        }),
      )
    : undefined;
  return { pixels, indices, labels, boxes };
}

/** One chunk of `evaluateChunk` on one or two cores: the second half in the worker thread, the results put back in image order. */
export async function evaluateOnCores(model: Model, x: EvaluateImages, o: EvaluateOptions, second: SecondCore | null): Promise<ChunkResult> {
  const B = x.indices.length;
  if (!second || B < 2) return evaluateChunk(model, x, o);
  const h = Math.ceil(B / 2);
  const n = x.pixels.length / B;
  const half = (a: number, b: number): EvaluateImages => ({
    pixels: x.pixels.slice(a * n, b * n), indices: x.indices.slice(a, b), labels: x.labels.slice(a, b), boxes: x.boxes?.slice(a, b),
  });
  const [p, q] = await Promise.all([evaluateChunk(model, half(0, h), o), second.run<ChunkResult>({ job: 'evaluate', args: [half(h, B), o] })]);
  const cat = <T extends Float32Array | Int32Array>(u: T, v: T): T => {
    const out = new (u.constructor as new (k: number) => T)(u.length + v.length);
    out.set(u);
    out.set(v, u.length);
    return out;
  };
  const rows = o.methods.flatMap((m) => [...p.rows.filter((r) => r.method === m), ...q.rows.filter((r) => r.method === m)]);
  return {
    rows,
    maps: new Map(o.methods.map((m) => [m, cat(p.maps.get(m)!, q.maps.get(m)!)])),
    ranks: new Map(o.methods.map((m) => [m, cat(p.ranks.get(m)!, q.ranks.get(m)!)])),
    randomised: p.randomised,
  };
}

