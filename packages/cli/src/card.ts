import type { Evaluation } from '@spikelens/sam';

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
