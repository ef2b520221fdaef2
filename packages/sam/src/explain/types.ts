import type { Surrogate } from '../diff/network.js';
import type { Model } from '../model.js';
import type { NcsMode, NetworkInput } from '../network.js';

/** The class a map explains: the clean input's prediction, the given label, or a class index. */
export type Target = 'pred' | 'label' | number;

/** How Grad-CAM weighs a layer's channels: one weight over all steps (the SAM paper's Eq. 1), or one per step. */
export type GradcamAlpha = 'summed' | 'per-step';

export interface ExplainOptions {
  /** The layer explained (sam, gradcam, random); saliency and input explain the input. */
  readonly layer?: string;
  /** Default 'pred'. */
  readonly target?: Target;
  /** One class index per sample, for `target: 'label'`. */
  readonly labels?: ArrayLike<number>;
  /** Encoder seed (and the seed of random maps). Default 0. */
  readonly seed?: number;
  /** Index of the first sample in a larger input: its random streams' key (default 0). */
  readonly keyOffset?: number;
  /** One key per sample instead (copies of one image keep its streams). */
  readonly keys?: ArrayLike<number>;
  /** Steps (default: a train's length, else the model's). */
  readonly timesteps?: number;
  /** Surrogate derivative of the spike (gradient methods; default atan). */
  readonly surrogate?: Surrogate;
  /** Let gradients flow through the resets too (default false: detached, as in training). */
  readonly keepReset?: boolean;
  /** Grad-CAM's channel weights (default 'summed'). */
  readonly alpha?: GradcamAlpha;
  /** SAM's decay and contribution score. */
  readonly gamma?: number;
  readonly ncs?: NcsMode;
  /** 1 or 2 (sam only: the inference network on both cores). */
  readonly threads?: number;
}

/** What an explainer returns: maps `[T, B, H, W]` (T = 1 for a method without time), non-negative. */
export interface Explanation {
  readonly method: string;
  /** The layer the maps are of, or 'input' (saliency, input). */
  readonly layer: string;
  readonly T: number;
  readonly B: number;
  readonly H: number;
  readonly W: number;
  readonly maps: Float32Array;
  /** The class each sample's map explains (its prediction for a label-free method such as SAM). */
  readonly targets: number[];
  /** The clean input's scores `[B, K]` and predictions. */
  readonly scores: Float32Array;
  readonly predictions: number[];
}

/**
 * One explanation method (docs/explain.md): a short file each, all behind this interface, so the library, the CLI
 * and the page call them alike.
 */
export interface Explainer {
  readonly name: string;
  /** Whether `layer` must be given (and which layers it may be is checked by `check`). */
  readonly needsLayer: boolean;
  /** A one-line description for help texts. */
  readonly about: string;
  /** Refuses what the method cannot do on this model and input (a UsageError), before any work. */
  check(model: Model, input: NetworkInput, options: ExplainOptions): void;
  explain(model: Model, input: NetworkInput, batch: number, options: ExplainOptions): Promise<Explanation>;
}
