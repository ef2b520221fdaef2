/**
 * Timing: peers run alternately (A B C A B C ...) so that a noisy neighbour hurts all of them alike, warm-up rounds
 * first (V8 tiers up both the WebAssembly and the plain TypeScript), and every run is kept for the JSON file.
 * Only the simulation is timed: setInput (preprocess + reset of state) and the T steps, never model building.
 */
import type { NetworkInput } from '@spikelens/sam';

export interface Runnable {
  setInput(input: NetworkInput): void;
  run(steps?: number): void;
}

export interface Contender {
  readonly name: string;
  readonly sys: Runnable;
  /**
   * Steps actually timed per image; when below the run length the time is scaled by T/steps (per-step cost times T),
   * which the table says. Equal to T for every row measured here unless noted.
   */
  readonly steps: number;
}

export interface Run {
  readonly system: string;
  readonly round: number;
  readonly warmup: boolean;
  /** Seconds per image (scaled to T steps when fewer were timed). */
  readonly seconds: number;
  readonly stepsTimed: number;
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** Seconds for one image of `contender`, scaled to T steps. */
export function timeImage(contender: Contender, input: NetworkInput, T: number): number {
  const started = performance.now();
  contender.sys.setInput(input);
  contender.sys.run(contender.steps);
  const seconds = (performance.now() - started) / 1000;
  return (seconds * T) / contender.steps;
}

export function alternate(
  contenders: readonly Contender[], input: NetworkInput, T: number, warmups: number, runs: number,
  onRun?: (run: Run) => void,
): Run[] {
  const all: Run[] = [];
  for (let round = 0; round < warmups + runs; round++) {
    for (const c of contenders) {
      const run = { system: c.name, round, warmup: round < warmups, seconds: timeImage(c, input, T), stepsTimed: c.steps };
      all.push(run);
      onRun?.(run);
    }
  }
  return all;
}

/** Seconds per image of the counted runs of one system. */
export function counted(runs: readonly Run[], system: string): number[] {
  return runs.filter((r) => r.system === system && !r.warmup).map((r) => r.seconds);
}

/** system-a time / system-b time per counted round: the paired ratio, robust to drift between rounds. */
export function pairedRatios(runs: readonly Run[], slow: string, fast: string): number[] {
  const rounds = new Set(runs.filter((r) => !r.warmup).map((r) => r.round));
  const ratios: number[] = [];
  for (const round of rounds) {
    const a = runs.find((r) => r.round === round && r.system === slow);
    const b = runs.find((r) => r.round === round && r.system === fast);
    if (a && b) ratios.push(a.seconds / b.seconds);
  }
  return ratios;
}
