import { relativeChange } from './maps.js';
import { spearman } from './rank.js';

/**
 * Robustness of an explanation under attack (docs/explain.md): `shift = ||A(x) - A(x')||_F / ||A(x)||_F` of the
 * image-level maps, each divided by its maximum first, and their Spearman rank correlation; null where undefined
 * (an all-zero clean map, a constant map).
 */
export function mapShift(clean: ArrayLike<number>, attacked: ArrayLike<number>): { shift: number | null; rank: number | null } {
  return { shift: relativeChange(clean, attacked), rank: spearman(clean, attacked) };
}
