/**
 * A rough per-layer profile. The Network cannot be timed from outside per layer, so each stage of the model (the
 * layers between two spike trains: [pool,] conv, lif; or pool, flatten, linear, li) is rebuilt as a model of its own
 * and fed the spike train its input layer produced in the full network on the benchmark input. The stage then does
 * exactly the work it does inside the full network (same inputs, same path choices), plus one copy of its input per
 * step.
 */
import { Network, denseMacsPerStep, type Model } from '@spikelens/sam';
import { alternate, counted, stats, type Contender, type Stats } from './measure.js';
import { buildModel, recordTrains, stageGraph, stagesOf } from './model-build.js';
import { TwinNetwork } from './twin-network.js';
import type { Workload } from './workloads.js';

export interface StageProfile {
  readonly stage: string; // e.g. "pool1+conv3+lif3"
  readonly weighted: string;
  /** Mean fraction of nonzero inputs to the weighted layer. */
  readonly inputDensity: number;
  /** Steps the default core took the event path, of T. */
  readonly eventSteps: number;
  readonly sopsPerImage: number;
  readonly denseMacsPerImage: number;
  /** Milliseconds per image (T steps), per system. */
  readonly ms: Record<string, Stats>;
  /** Every counted run, milliseconds per image. */
  readonly runsMs: Record<string, number[]>;
}

/** Systems of the profile: the two of the main table plus the core forced onto the event path wherever allowed. */
export const PROFILE_SYSTEMS = ['spikelens', 'spikelens-dense', 'spikelens-event', 'twin'] as const;

export async function profileStages(
  w: Workload,
  warmups: number,
  runs: number,
  systems: readonly (typeof PROFILE_SYSTEMS)[number][] = PROFILE_SYSTEMS,
): Promise<StageProfile[]> {
  const T = w.timesteps;
  const stages = stagesOf(w.model);
  const full = await Network.create(w.model, { batch: w.batch, seed: w.seed });
  full.setInput({ kind: 'pixels', data: w.pixels });
  const trains = recordTrains(full, [...new Set(stages.map((s) => s.source))], T);
  const profiles: StageProfile[] = [];
  for (const stage of stages) {
    const graph = stageGraph(w.graph, stage);
    const model: Model = buildModel(graph, w.tensors, graph.name);
    const weighted = model.layers.find((l) => l.op === 'conv2d' || l.op === 'linear')!;
    const input = { kind: 'train', data: trains.get(stage.source)!, timesteps: T } as const;
    const opts = { batch: w.batch };
    const make: Record<(typeof PROFILE_SYSTEMS)[number], () => Promise<Contender>> = {
      spikelens: async () => ({ name: 'spikelens', sys: await Network.create(model, opts), steps: T }),
      'spikelens-dense': async () => ({ name: 'spikelens-dense', sys: await Network.create(model, { ...opts, eventThreshold: 0 }), steps: T }),
      'spikelens-event': async () => ({ name: 'spikelens-event', sys: await Network.create(model, { ...opts, eventThreshold: 4 }), steps: T }),
      twin: async () => ({ name: 'twin', sys: new TwinNetwork(model, opts), steps: T }),
    };
    const contenders: Contender[] = [];
    for (const s of systems) contenders.push(await make[s]());
    const all = alternate(contenders, input, T, warmups, runs);
    const counter = await Network.create(model, { ...opts, countSops: true });
    counter.setInput(input);
    counter.run(T);
    // The stage's input after any pool: the weighted layer's input, where the path is chosen.
    let nonzero = 0;
    const probe = await Network.create(model, opts);
    probe.setInput(input);
    const before = model.layers[model.layers.indexOf(weighted) - 1];
    for (let t = 0; t < T; t++) {
      probe.step();
      const x = before ? probe.output(before.name) : probe.output('input');
      for (let i = 0; i < x.length; i++) if (x[i] !== 0) nonzero++;
    }
    const inSize = before ? probe.output(before.name).length : probe.output('input').length;
    const ms: Record<string, Stats> = {};
    const runsMs: Record<string, number[]> = {};
    for (const c of contenders) {
      runsMs[c.name] = counted(all, c.name).map((s) => s * 1e3);
      ms[c.name] = stats(runsMs[c.name]);
    }
    profiles.push({
      stage: model.layers.map((l) => l.name).join('+'),
      weighted: weighted.name,
      inputDensity: nonzero / (inSize * T),
      eventSteps: counter.eventSteps.get(weighted.name) ?? 0,
      sopsPerImage: counter.sops / w.batch,
      denseMacsPerImage: denseMacsPerStep(model) * T,
      ms,
      runsMs,
    });
  }
  return profiles;
}
