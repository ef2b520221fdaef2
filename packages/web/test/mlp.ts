/** A small model for the tests of flat-input models and of models without maps. */
import { modelToSafetensors } from '@spikelens/sam';
import { buildArch } from '@spikelens/sam/train';

/**
 * The `mlp` architecture of `spikelens train` (input [1,28,28], flatten, linear 784->256, lif, linear, li), freshly
 * initialised, or the same network with a flat input [784] and no flatten layer: the two compute the same thing.
 */
export function mlp(flatInput: boolean): Uint8Array {
  const labels = Array.from({ length: 10 }, (_, k) => String(k));
  const { graph, tensors } = buildArch('mlp', { neuron: 'lif', analog: false, encoding: 'direct', timesteps: 6, labels, name: 'mlp' }, 7);
  if (!flatInput) return modelToSafetensors(graph, tensors);
  const g = graph as { input: Record<string, unknown>; layers: { op: string }[] };
  return modelToSafetensors({ ...g, input: { ...g.input, shape: [784] }, layers: g.layers.filter((l) => l.op !== 'flatten') }, tensors);
}
