import type { Layer, Op } from '../model.js';
import { affineSpec } from './affine.js';
import { convSpec } from './conv.js';
import { liSpec, neuronSpec } from './neuron.js';
import { poolSpec } from './pool.js';
import { flattenSpec, reluSpec } from './shape.js';
import type { OpSpec } from './types.js';

/** Every op's spec (ops/types.ts); the order is docs/model-format.md's. */
const SPECS: readonly OpSpec<any>[] = [convSpec, poolSpec, flattenSpec, affineSpec, neuronSpec, liSpec, reluSpec];

const BY_OP = new Map<Op, OpSpec<any>>(SPECS.flatMap((s) => s.ops.map((op) => [op, s] as const)));

/** The ops a graph may use. */
export const OPS: readonly Op[] = ['conv2d', 'linear', 'avgpool2d', 'sumpool2d', 'maxpool2d', 'flatten', 'affine', 'lif', 'if', 'cubalif', 'li', 'relu'];

/** The spec of an op. */
export function opSpec<L extends Layer>(op: L['op']): OpSpec<L> {
  const spec = BY_OP.get(op);
  if (!spec) throw new Error(`spikelens: no spec for op "${op}"`);
  return spec as OpSpec<L>;
}

export type { OpSpec, LayerSlot, PlanContext, DiffContext, DiffPlan, DiffInput, LayerBase, TensorTable } from './types.js';
