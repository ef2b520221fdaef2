/**
 * Learning-rate schedules, evaluated from the position in training alone (no hidden counter), so a resumed run gets
 * the same rates as an unbroken one. Rates are rounded to float32, the precision the optimizers apply them in.
 */
import { UsageError } from '../errors.js';

interface Common {
  /** The base learning rate. */
  lr: number;
  /**
   * Linear warmup over this many epochs (fractions allowed; counted in batches): the rate is multiplied by
   * (s + 1) / W at global batch s < W = round(warmupEpochs * batchesPerEpoch), like chaining torch's LinearLR.
   */
  warmupEpochs?: number;
}

export type Schedule =
  | ({ kind: 'constant' } & Common)
  | ({
      /**
       * torch StepLR (every `stepSize` epochs) or MultiStepLR (at each epoch in `milestones`): the rate is multiplied
       * by `gamma` (default 0.1) once per boundary passed. Give exactly one of stepSize and milestones.
       */
      kind: 'step';
      gamma?: number;
      stepSize?: number;
      milestones?: number[];
    } & Common)
  | ({
      /**
       * torch CosineAnnealingLR: etaMin + (lr - etaMin) (1 + cos(pi t / T)) / 2 with T = `epochs` (t = epoch), or
       * with `perStep`, T = epochs * batchesPerEpoch (t = global batch). Held at etaMin after T rather than rising
       * again as torch's would.
       */
      kind: 'cosine';
      epochs: number;
      perStep?: boolean;
      etaMin?: number;
    } & Common);

function checkCount(what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UsageError(`${what} must be a whole number of at least ${min}, got ${v}`);
}

function checkRate(what: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new UsageError(`${what} must be a number >= 0, got ${v}`);
}

/** Boundaries passed by `epoch` for a step schedule. */
function boundariesPassed(s: Extract<Schedule, { kind: 'step' }>, epoch: number): number {
  if ((s.stepSize === undefined) === (s.milestones === undefined)) {
    throw new UsageError('a step schedule needs exactly one of stepSize and milestones');
  }
  if (s.stepSize !== undefined) {
    checkCount('the step size', s.stepSize, 1);
    return Math.floor(epoch / s.stepSize);
  }
  let n = 0;
  for (const m of s.milestones!) {
    checkCount('a milestone', m, 1);
    if (epoch >= m) n++;
  }
  return n;
}

function baseRate(s: Schedule, epoch: number, batchInEpoch: number, batchesPerEpoch: number): number {
  switch (s.kind) {
    case 'constant':
      return s.lr;
    case 'step': {
      const gamma = s.gamma ?? 0.1;
      checkRate('gamma', gamma);
      // Repeated multiplication, as torch's chained StepLR does (and not Math.pow, which is loosely specified).
      let lr = s.lr;
      for (let n = boundariesPassed(s, epoch); n > 0; n--) lr *= gamma;
      return lr;
    }
    case 'cosine': {
      checkCount('the number of epochs', s.epochs, 1);
      const etaMin = s.etaMin ?? 0;
      checkRate('etaMin', etaMin);
      const total = s.perStep ? s.epochs * batchesPerEpoch : s.epochs;
      const t = Math.min(s.perStep ? epoch * batchesPerEpoch + batchInEpoch : epoch, total);
      return etaMin + ((s.lr - etaMin) * (1 + Math.cos((Math.PI * t) / total))) / 2;
    }
    default:
      throw new UsageError(`unknown schedule kind '${(s as { kind: string }).kind}'`);
  }
}

/** The learning rate for batch `batchInEpoch` (0-based) of `epoch` (0-based), as a float32 value. */
export function lrAt(schedule: Schedule, epoch: number, batchInEpoch: number, batchesPerEpoch: number): number {
  checkCount('the epoch', epoch, 0);
  checkCount('the batches per epoch', batchesPerEpoch, 1);
  checkCount('the batch', batchInEpoch, 0);
  if (batchInEpoch >= batchesPerEpoch) {
    throw new UsageError(`batch ${batchInEpoch} is past the ${batchesPerEpoch} batches of an epoch`);
  }
  checkRate('the learning rate', schedule.lr);
  let lr = baseRate(schedule, epoch, batchInEpoch, batchesPerEpoch);
  const warmup = schedule.warmupEpochs ?? 0;
  checkRate('the warmup epochs', warmup);
  const warmupSteps = Math.round(warmup * batchesPerEpoch);
  const s = epoch * batchesPerEpoch + batchInEpoch;
  if (s < warmupSteps) lr = (lr * (s + 1)) / warmupSteps;
  return Math.fround(lr);
}
