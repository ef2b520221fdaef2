import { UsageError } from '../errors.js';
import type { Target } from './types.js';

/** The class each of the B samples is explained for, from predictions and labels (docs/explain.md). */
export function resolveTargets(target: Target, predictions: readonly number[], K: number, labels?: ArrayLike<number>): number[] {
  if (target === 'pred') return [...predictions];
  if (target === 'label') {
    if (!labels) throw new UsageError('--target label needs a label for every image (--label K, or a file name like digit-7-0.png)');
    if (labels.length !== predictions.length) throw new UsageError(`${labels.length} labels for ${predictions.length} samples`);
    return Array.from(labels, (y, b) => classIndex(y, K, `the label of sample ${b}`));
  }
  const c = classIndex(target, K, 'the target class');
  return predictions.map(() => c);
}

function classIndex(value: number, K: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= K) throw new UsageError(`${what} is ${value}, not a class from 0 to ${K - 1}`);
  return value;
}
