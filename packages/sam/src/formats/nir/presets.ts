/**
 * How a NIR graph's continuous-time neurons become spikelens' discrete ones. NIR stores time constants but no time
 * step, no reset timing and no reliable reset rule, and every library discretises differently; a preset is one
 * library's reading, taken from its own NIR export and import code (docs/nir.md gives the formulas and sources).
 */
import type { ResetRule } from '../../model.js';

export { below } from '../../model.js';

export type Integration = 'euler' | 'exp';

/**
 * The factor on a LIF/LI/CubaLIF node's input current. `nir`: NIR's own, r*dt/tau (euler) or r*(1 - beta) (exp);
 * `unit`: none (the library ignores r); `unit-checked`: none, and a warning when NIR's would not be 1 (the
 * library's exporter writes r so that it is 1, as snnTorch's r = tau/dt).
 */
export type GainRule = 'nir' | 'unit' | 'unit-checked';

/** The factor on an IF node's input: `r`, `r*dt` (NIR's dv/dt = R*I stepped by dt) or none. */
export type IfGainRule = 'r' | 'r*dt' | 'unit';

export interface Discretisation {
  /** Time step, in the unit of the file's time constants (seconds for snnTorch, Norse, SpikingJelly; steps for Sinabs). */
  readonly dt: number;
  /** `euler`: beta = 1 - dt/tau. `exp`: beta = exp(-dt/tau). */
  readonly integration: Integration;
  /**
   * How Euler's step s = dt/tau is formed: `float64`, rounded once where it is stored; or `float32`, as a PyTorch
   * library computes it from the stored float32 tau, fl(fl(dt) * fl(1/tau)) (Norse's `dt * tau_mem_inv`).
   */
  readonly step: 'float64' | 'float32';
  readonly gain: GainRule;
  readonly ifGain: IfGainRule;
  readonly reset: ResetRule;
  readonly resetDelay: boolean;
  /**
   * The library fires at v >= threshold (spikelens' default: v > threshold): its spiking layers get the model's
   * `fireAtThreshold` with the real threshold, exact for every reset (docs/nir.md).
   */
  readonly fireAtThreshold: boolean;
  /** What this reading cannot express, said as a warning whenever a graph has neurons. */
  readonly caveats: readonly string[];
}

export type PresetName = 'snntorch' | 'spikingjelly' | 'norse' | 'sinabs';

export const PRESET_NAMES: readonly PresetName[] = ['snntorch', 'spikingjelly', 'norse', 'sinabs'];

export const PRESETS: Record<PresetName, Discretisation> = {
  // snntorch/export_nir.py: Leaky -> LIF(tau = dt/(1-beta), r = tau/dt, v_leak 0, v_reset 0), dt = 1e-4 fixed;
  // Synaptic -> CubaLIF(tau_syn = dt/(1-alpha), tau_mem = dt/(1-beta), r = tau_mem/dt, w_in = tau_syn/dt).
  // Reading it back as the network was trained: beta = 1 - dt/tau, no input gain, and Leaky's defaults
  // (subtract reset, reset_delay=True), which the file does not record.
  snntorch: {
    dt: 1e-4, integration: 'euler', step: 'float64', gain: 'unit-checked', ifGain: 'unit', reset: 'subtract', resetDelay: true,
    fireAtThreshold: false, caveats: [],
  },
  // spikingjelly/activation_based/nir_exchange: LIFNode -> LIF(tau = tau_steps*dt, r = 1 (decay_input) or tau_steps,
  // v_leak = v_reset), IFNode -> IF(r = 1/dt), dt = 1e-4; its neurons fire at v >= v_threshold and reset hard to
  // v_reset in the same step.
  spikingjelly: {
    dt: 1e-4, integration: 'euler', step: 'float64', gain: 'nir', ifGain: 'r*dt', reset: 'zero', resetDelay: false,
    fireAtThreshold: true, caveats: [],
  },
  // norse/torch/utils/import_nir.py: LIFBoxCell(tau_mem_inv = 1/tau as a float32 tensor), forward Euler at
  // dt = 1e-3: v + dt*tau_mem_inv*(x + v_leak - v) in float32, so the step is fl(fl(dt) * fl(1/tau)); IF gain 1,
  // reset to the reset value in the same step, strict threshold.
  norse: {
    dt: 1e-3, integration: 'euler', step: 'float32', gain: 'nir', ifGain: 'unit', reset: 'zero', resetDelay: false,
    fireAtThreshold: false,
    caveats: [
      'Norse starts the membrane at v_leak and its default LIFCell feeds the synaptic current to the membrane one step later; spikelens starts at v_reset with no such delay',
    ],
  },
  // sinabs/nir.py: tau is counted in steps (alpha = exp(-1/tau), so dt = 1), no input gain (norm_input=False on
  // import), subtract reset in the same step, spikes at v >= threshold.
  sinabs: {
    dt: 1, integration: 'exp', step: 'float64', gain: 'unit', ifGain: 'unit', reset: 'subtract', resetDelay: false,
    fireAtThreshold: true,
    caveats: [
      'Sinabs neurons emit several spikes in one step when v reaches several thresholds (MultiSpike), and its IF import clamps v at -threshold (min_v_mem); spikelens emits at most one spike per step and has no floor, so spike counts differ for strongly driven neurons',
    ],
  },
};

/**
 * Euler's decay 1 - dt/tau in float64, rounded once to float32. A tau within rounding of dt gives a tiny negative
 * number; it is 0 (a float32 tau cannot equal a dt like 1e-4 exactly).
 */
export function eulerBeta(dt: number, tau: number, step: 'float64' | 'float32' = 'float64'): number {
  const b = Math.fround(1 - eulerStep(dt, tau, step));
  return b < 0 && b > -1e-6 ? 0 : b;
}

/** Euler's step dt/tau: in float64, or as a float32 library forms it, fl(fl(dt) * fl(1/tau)). */
export function eulerStep(dt: number, tau: number, step: 'float64' | 'float32' = 'float64'): number {
  const f32 = Math.fround;
  return step === 'float32' ? f32(f32(dt) * f32(1 / tau)) : dt / tau;
}
