/** A mean over images with its 95 % confidence interval, 1.96 standard errors (sample standard deviation). */
export interface MeanCI {
  readonly mean: number;
  readonly ci95: number;
  readonly n: number;
}

/** Mean and 95 % interval of the values that are numbers (nulls, for undefined per-image values, are left out). */
export function meanCI(values: ReadonlyArray<number | null>): MeanCI {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { mean: NaN, ci95: NaN, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: 0, n };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: (1.96 * Math.sqrt(variance)) / Math.sqrt(n), n };
}
