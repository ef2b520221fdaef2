/**
 * One graph layer (docs/model-format.md) from its JSON fields and the file's tensors: defaults applied, tensors checked against
 * the layer's input shape, output shape inferred (per sample, no batch axis). Each op's rules live in its spec (ops/).
 */
import type { Layer, Op, Shape } from '../model.js';
import type { Fields } from './json.js';
import { OPS, opSpec } from '../ops/index.js';
import type { TensorTable } from '../ops/types.js';

export { OPS };
export type { TensorTable };

export function parseLayer(f: Fields, name: string, op: Op, inShape: Shape, tensors: TensorTable): Layer {
  const spec = opSpec(op);
  f.only(['name', 'op', ...spec.fields(op)], `op ${op}`);
  return spec.parse(f, { name, inShape }, op, tensors);
}
