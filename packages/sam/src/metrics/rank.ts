/**
 * Pixel rankings and rank correlation (docs/metrics.md). Pixels are ranked by a map, highest first, ties broken by
 * the lower index i*W + j.
 */

/** The pixel indices of `map` from highest to lowest value; equal values keep index order. */
export function rankPixels(map: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: map.length }, (_, i) => i);
  order.sort((a, b) => (map[b] !== map[a] ? (map[b] > map[a] ? 1 : -1) : a - b));
  return Int32Array.from(order);
}

/** Average ranks (1-based; ties get the mean of the ranks they span), the convention of Spearman's rho. */
function averageRanks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  const ranks = new Float64Array(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation of two maps of the same size (float64): the Pearson correlation of their average
 * ranks. Null when either map is constant (the correlation is undefined then).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length) throw new RangeError(`spearman: ${a.length} and ${b.length} values`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += ra[i];
    mb += rb[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i] - ma;
    const db = rb[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return null;
  return sab / Math.sqrt(saa * sbb);
}
