/**
 * Off the clock, before any timing: the peers must compute the same thing. Runs the core (default path choice,
 * counting SOPs), the core forced dense, and the twin side by side on the benchmark input, and compares every layer's
 * output at every step bit for bit (spiking layers are the requirement; the analog layers come for free).
 * A mismatch throws: a peer that computes something else is not a peer.
 */
import { Network, isSpiking, type Model, type NetworkInput } from '@spikelens/sam';
import { TwinNetwork } from './twin-network.js';

export interface Verified {
  readonly steps: number;
  /** Values compared per system pair, over all layers and steps. */
  readonly valuesCompared: number;
  readonly spikingLayers: readonly string[];
  /** SOPs per image (sum over the batch / batch), counted by the core and by this package. */
  readonly sopsPerImage: { readonly core: number; readonly twin: number };
  /** Steps each conv/linear layer took the event path, per system. */
  readonly eventSteps: { readonly core: Record<string, number>; readonly twin: Record<string, number> };
  readonly firingRates: Record<string, number>;
  /** Fraction of the encoder's outputs that are spikes, over all steps (BENCHMARKS: about 50 %). */
  readonly inputRate: number;
  readonly scores: readonly number[];
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

function count(x: Float32Array): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) n++;
  return n;
}

export async function verifyBitExact(
  model: Model, input: NetworkInput, options: { batch: number; seed: number; steps: number },
): Promise<Verified> {
  const { batch, seed, steps } = options;
  const core = await Network.create(model, { batch, seed, countSops: true });
  const dense = await Network.create(model, { batch, seed, eventThreshold: 0 });
  const peer = new TwinNetwork(model, { batch, seed, countSops: true });
  const systems = [
    { name: 'spikelens', out: (n: string) => core.output(n) },
    { name: 'spikelens-dense', out: (n: string) => dense.output(n) },
    { name: 'twin', out: (n: string) => peer.output(n) },
  ];
  core.setInput(input);
  dense.setInput(input);
  peer.setInput(input);
  const names = ['input', ...model.layers.filter((l) => l.op !== 'flatten').map((l) => l.name)];
  let compared = 0;
  let inputSpikes = 0;
  for (let t = 0; t < steps; t++) {
    core.step();
    dense.step();
    peer.step();
    inputSpikes += count(core.output('input'));
    for (const name of names) {
      const ref = systems[0].out(name);
      for (const other of systems.slice(1)) {
        const got = other.out(name);
        const i = got.length === ref.length ? firstDifference(ref, got) : 0;
        if (i >= 0) {
          throw new Error(
            `bit-exact check failed: layer "${name}" at step ${t}: ${systems[0].name} and ${other.name} differ ` +
              `first at index ${i} (${ref[i]} vs ${got[i]}); nonzero values ${count(ref)} vs ${count(got)}`,
          );
        }
        compared += ref.length;
      }
    }
  }
  const a = core.scores();
  const b = peer.scores();
  if (firstDifference(a, b) >= 0) throw new Error(`bit-exact check failed: scores ${[...a]} vs ${[...b]}`);
  if (core.sops !== peer.sops) {
    throw new Error(`SOP counts differ: the core counts ${core.sops}, this package's docs/semantics.md §10 count is ${peer.sops}`);
  }
  return {
    steps,
    valuesCompared: compared,
    spikingLayers: model.layers.filter(isSpiking).map((l) => l.name),
    sopsPerImage: { core: core.sops / batch, twin: peer.sops / batch },
    eventSteps: { core: Object.fromEntries(core.eventSteps), twin: Object.fromEntries(peer.eventSteps) },
    firingRates: core.firingRates(),
    inputRate: inputSpikes / (core.output('input').length * steps),
    scores: [...a],
  };
}
