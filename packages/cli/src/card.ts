import os from 'node:os';
import type { Evaluation } from '@spikelens/sam/train';

/**
 * The machine a card's figures (training time above all) were measured on: the CPU model and the cores Node may use
 * (os.availableParallelism), and the Node version, e.g. "AMD EPYC 7B13, 2 cores, Node 20.20.2".
 */
export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() || 'unknown CPU';
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length;
  return `${model}, ${cores} core${cores === 1 ? '' : 's'}, Node ${process.versions.node}`;
}

/** The figures of a model card that `eval` measures: written by `train`, refreshed by `eval --update-card`. */
export function measuredFields(ev: Evaluation) {
  return {
    testAccuracy: ev.accuracy,
    testImages: ev.images,
    accuracyFirst1000: ev.accuracyFirst1000,
    perClass: ev.perClass,
    firingRates: ev.firingRates,
    sopsPerImage: ev.sopsPerImage,
  };
}
