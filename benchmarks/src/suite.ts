/**
 * The peer suite of benchmarks/README.md: B1 at batch 1 and 16, B2 (inference plus SAM), B3, B4, each against
 * PyTorch (and, for B1, the plain TypeScript twin), alternated run by run after a check that every peer computes the
 * same spikes. Prints a table per workload with the ratios of the same run; returns every run for the JSON file.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Network, Recorder, SamObserver, denseMacsPerStep, isSpiking, parseModel, readNpy, type Model } from '@spikelens/sam';
import { stats, type Stats } from './measure.js';
import { b2, b3, type SuiteWorkload } from './suite-workloads.js';
import { TorchPeer, torchAvailable, type TorchLoad } from './torch-peer.js';
import { TwinNetwork } from './twin-network.js';
import { ParallelBatch } from './parallel.js';
import { TfjsNetwork } from './tfjs-peer.js';
import { OrtNetwork } from './ort-peer.js';
import { browserSteps } from './b4-browser.js';
import type { JsPeer } from './js-peer.js';
import { b1, type Calibration } from './workloads.js';
import { profileStages, type StageProfile } from './profile.js';

export interface SuiteRow {
  readonly system: string;
  readonly description: string;
  readonly imagesPerSecond: Stats;
  /** Per counted round: the best PyTorch time / this system's time (images/s ratio); null without PyTorch. */
  readonly vsTorch: Stats | null;
  readonly arenaBytes: number | null;
}

export interface SuiteResult {
  readonly id: string;
  readonly name: string;
  readonly batch: number;
  readonly timesteps: number;
  readonly firingRates: Record<string, number>;
  readonly inputRate: number;
  readonly sopsPerImage: number;
  readonly denseMacsPerImage: number;
  readonly verified: { readonly torch: string; readonly valuesCompared: number } | null;
  readonly rows: SuiteRow[];
  readonly runs: { system: string; round: number; warmup: boolean; seconds: number }[];
  readonly notes: string[];
  readonly maxRssKiB: number;
  readonly buildSeconds: number;
  /** spikelens on one thread stage by stage (the full run's B1 and B2), or empty. */
  readonly profile: readonly StageProfile[];
  /** The weight scales of the workload and the rates they gave (fitted or taken from FITTED and checked). */
  readonly calibration: readonly Calibration[];
  readonly scales: SuiteWorkload['scales'] | null;
  readonly seconds: number;
}

export interface SuiteOptions {
  readonly warmups: number;
  readonly runs: number;
  readonly quick: boolean;
  readonly log: (line: string) => void;
}

interface Contender {
  readonly name: string;
  readonly description: string;
  /** Seconds for one batch. */
  time(): Promise<number>;
  readonly arena?: number;
  /** False for peers whose bit-exact check run just warmed them up: they skip the warm-up rounds. */
  readonly warm?: boolean;
  /** At most this many counted rounds (all by default). */
  readonly counted?: number;
}

const sha = (a: ArrayBufferView) => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');

/** B1 at a batch size, named by it. */
async function b1Suite(batch: number): Promise<SuiteWorkload> {
  return { ...(await b1(batch)), id: batch === 1 ? 'B1' : `B1x${batch}` };
}

/** Our spikes and scores on the workload's own input (pixels through spikelens' encoder). */
async function ours(
  w: SuiteWorkload,
  given?: Network,
): Promise<{ hashes: Record<string, string>; rates: Record<string, number>; scores: Float32Array; sops: number; values: number; inputRate: number; maps: Map<string, Float32Array> }> {
  const net = given ?? (await Network.create(w.model, { batch: w.batch, seed: w.seed, countSops: true }));
  net.setInput({ kind: 'pixels', data: w.pixels });
  const names = w.model.layers.filter(isSpiking).map((l) => l.name);
  const recs = names.map((n) => new Recorder(net, n));
  recs.forEach((r) => net.observe(r));
  const sams = w.sam.map((l) => new SamObserver(net, l, { gamma: w.gamma, ncs: 'inclusive' }));
  sams.forEach((s) => net.observe(s));
  net.run(w.timesteps);
  recs.forEach((r) => net.unobserve(r));
  sams.forEach((x) => net.unobserve(x));
  let values = 0;
  const hashes: Record<string, string> = {};
  for (const r of recs) {
    hashes[r.layer] = sha(r.spikes!.data());
    values += r.spikes!.data().length;
  }
  let active = 0;
  for (const v of w.inputTrain) if (v !== 0) active++;
  return {
    hashes, rates: net.firingRates(), scores: net.scores(), sops: net.sops / w.batch, values, inputRate: active / w.inputTrain.length,
    maps: new Map(sams.map((s) => [s.layer, s.maps.data().slice()])),
  };
}

/** The arena bound of the issue for B2: 1.5 x (weights + every layer's activations for one step + neuron state). */
function arenaBound(model: Model, batch: number, samLayers: readonly string[]): number {
  let floats = 0;
  for (const l of model.layers) {
    const out = l.outShape.reduce((a, b) => a * b, 1) * batch;
    floats += out;
    if (l.op === 'conv2d' || l.op === 'linear') floats += l.weight.data.length + (l.bias?.data.length ?? 0);
    if (l.op === 'affine') floats += l.scale.data.length + l.shift.data.length;
    if (isSpiking(l) || l.op === 'li') floats += out; // membrane
    if (samLayers.includes(l.name)) floats += out + batch * l.outShape[1] * l.outShape[2]; // trace + map
  }
  return 1.5 * floats * 4;
}

/** Pause before each timed run (see the round loop). */
const SETTLE_MS = 250;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

/** A JS peer once created: its spikes, or why it cannot run the workload. */
type JsPeerLike = Pick<JsPeer, 'run'> & { readonly supported: boolean; readonly why: string };

export async function runSuiteWorkload(id: string, o: SuiteOptions, torch: TorchPeer | null, torchVersion: string | null): Promise<SuiteResult> {
  const started = performance.now();
  o.log(`${id}: generating and calibrating the workload (off the clock) ...`);
  const w = id === 'B1' ? await b1Suite(1) : id === 'B1x16' ? await b1Suite(16) : id === 'B2' ? await b2() : await b3(id === 'B3-8192' ? 8192 : 4096);
  // B3 at N 8192: four times B3's work; the JavaScript peers (30-60 s a run there) are timed at N 4096 only.
  const jsPeersHere = id !== 'B3-8192';
  const T = w.timesteps;
  const notes: string[] = [];
  /** Runs timed before the rounds (--quick: the JavaScript peers' check runs). */
  const quickRuns: SuiteResult['runs'] = [];
  o.log(`${id}: built in ${w.buildSeconds.toFixed(1)} s; computing our spikes for the check ...`);
  const mine = await ours(w);
  /** The spiking layers on which another system's spikes (sha256 per layer, undefined if missing) are not ours. */
  const disagree = (hashOf: (layer: string) => string | undefined): string[] => Object.keys(mine.hashes).filter((n) => hashOf(n) !== mine.hashes[n]);
  let verified: SuiteResult['verified'] = null;
  let torchOk = false;
  let torchStepwise = false;
  if (torch) {
    const dir = mkdtempSync(join(tmpdir(), `spikelens-bench-${id}-`));
    try {
      const t: TorchLoad = await torch.load(w, dir);
      const stepwise = t.stepwise;
      const bad = disagree((n) => (stepwise === null || t.layerwise[n] === stepwise[n] ? t.layerwise[n] : undefined));
      if (stepwise === null) {
        const { layerwise, stepwiseProjected, probeSteps } = t.seconds;
        notes.push(
          `torch-stepwise: its first ${probeSteps} of ${T} steps project ${stepwiseProjected.toFixed(1)} s a batch, ` +
            `${(stepwiseProjected / layerwise).toFixed(1)}x the layerwise mode's ${layerwise.toFixed(1)} s: neither checked nor timed further`,
        );
      }
      torchStepwise = stepwise !== null;
      const worst = t.scores.reduce((m, s, i) => Math.max(m, Math.abs(s - mine.scores[i]) / Math.max(1e-6, Math.abs(mine.scores[i]))), 0);
      if (bad.length) {
        notes.push(`PyTorch computes other spikes in ${bad.join(', ')}: not a peer, not timed`);
        o.log(`${id}: PyTorch DISAGREES on ${bad.join(', ')} (rates ${JSON.stringify(t.rates)})`);
      } else {
        torchOk = true;
        verified = { torch: `${t.torch} (${t.threads} threads)`, valuesCompared: mine.values };
        o.log(`${id}: PyTorch ${t.torch} agrees bit for bit on every spiking layer (${mine.values} spikes), scores within ${worst.toExponential(1)}`);
      }
      if (w.sam.length && torchOk) {
        await torch.sam(dir);
        const worstMap = compareMaps(dir, mine.maps);
        notes.push(`SAM maps of the paper's O(T^2) computation in PyTorch equal ours within ${worstMap.toExponential(1)} (relative)`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const input = { kind: 'pixels' as const, data: w.pixels };
  const plain = await Network.create(w.model, { batch: w.batch, seed: w.seed });
  /** One batch through a Network: setInput (preprocess, encode, reset) and T steps. */
  const networkContender = (name: string, description: string, net: Network): Contender => ({
    name,
    description,
    arena: net.arena.size,
    async time() {
      const s = performance.now();
      net.setInput(input);
      net.run(T);
      return (performance.now() - s) / 1000;
    },
  });
  const contenders: Contender[] = [networkContender('spikelens', 'WebAssembly core, one thread, event path below 60 % input density (20 % under 64 inputs per output)', plain)];
  // The JavaScript peers, each checked bit-exact on every spiking layer before it is timed.
  const jsPeers: [string, string, string, () => Promise<JsPeerLike | string>][] = [
    ['tfjs-wasm', '@tensorflow/tfjs-backend-wasm 4.22, XNNPACK SIMD, one thread', 'tfjs WebAssembly backend step by step, LIF in JavaScript', () => TfjsNetwork.create(w)],
    ['onnxruntime', `onnxruntime-node, CPU execution provider, 2 threads`, 'onnxruntime-node (CPU, 2 threads) step by step, LIF in JavaScript', () => OrtNetwork.create(w, 2)],
  ];
  if (!jsPeersHere) notes.push('tfjs-wasm and onnxruntime are timed on B3 at N 4096 only (the suite\'s time budget)');
  for (const [name, what, description, make] of jsPeersHere ? jsPeers : []) {
    const peer = await make();
    if (typeof peer === 'string') {
      notes.push(`${name} peer skipped: ${peer}`);
      continue;
    }
    if (!peer.supported) {
      notes.push(`${name} peer: ${peer.why}`);
      continue;
    }
    await settle();
    const started = performance.now();
    const theirs = await peer.run(true);
    const checkSeconds = (performance.now() - started) / 1000;
    const bad = disagree((n) => (theirs.has(n) ? sha(theirs.get(n)!) : undefined));
    if (bad.length) {
      notes.push(`${name} computes other spikes in ${bad.join(', ')}: not a peer, not timed`);
      continue;
    }
    notes.push(`${name} (${what}, neurons in JS) computes the same spikes, checked`);
    // --quick times a JavaScript peer (6-18 s a run on B1x16 and B3) on its check run only, recording included.
    if (o.quick) quickRuns.push({ system: name, round: o.warmups, warmup: false, seconds: checkSeconds });
    contenders.push({
      name,
      description: o.quick ? `${description}; timed on its check run (recording its spikes)` : description,
      warm: false,
      counted: o.quick ? 0 : undefined,
      async time() {
        const s = performance.now();
        await peer.run(false);
        return (performance.now() - s) / 1000;
      },
    });
  }
  let parallel: ParallelBatch | null = null;
  const threaded: Network[] = [];
  if (w.batch === 1) {
    // Batch 1 on both cores: a helper thread on the shared memory computes half the output rows of every conv.
    const two = await Network.create(w.model, { batch: 1, seed: w.seed, threads: 2 });
    threaded.push(two);
    const theirs = await ours(w, two);
    const bad = disagree((n) => theirs.hashes[n]);
    if (bad.length) throw new Error(`${id}: two threads give other spikes in ${bad.join(', ')}`);
    notes.push('spikelens x2: two threads on one shared memory (each conv split by output rows) give the same spikes, checked');
    const label = w.sam.length ? 'spikelens+SAM x2' : 'spikelens x2';
    w.sam.forEach((l) => two.observe(new SamObserver(two, l, { gamma: w.gamma })));
    contenders.push(networkContender(label, `the same${w.sam.length ? ' with SAM' : ''} on both CPU cores: a helper thread computes half the output rows of every convolution`, two));
  }
  if (w.batch >= 2) {
    parallel = await ParallelBatch.create(w, 2);
    const merged = await parallel.spikes();
    const bad = disagree((n) => (merged[n] ? sha(merged[n]) : undefined));
    if (bad.length) throw new Error(`${id}: the batch split over 2 workers gives other spikes in ${bad.join(', ')}`);
    notes.push('spikelens x2: the batch split over 2 worker threads (one core instance each) gives the same spikes, checked');
    const p = parallel;
    contenders.push({
      name: 'spikelens x2',
      description: 'the same core on both CPU cores: the batch split over 2 worker threads',
      time: () => p.time(),
    });
  }
  let samNet: Network | null = null;
  /** Seconds spent inside the SAM observers of the one-thread spikelens+SAM network, over all its runs. */
  let samSeconds = 0;
  if (w.sam.length) {
    samNet = await Network.create(w.model, { batch: w.batch, seed: w.seed });
    const net = samNet;
    // Each SAM observer is timed where it runs (after every step), so SAM's own cost is measured directly too.
    w.sam.forEach((l) => {
      const sam = new SamObserver(net, l, { gamma: w.gamma });
      net.observe({
        onReset: (n) => sam.onReset(n),
        onStep(n, t) {
          const s = performance.now();
          sam.onStep(n, t);
          samSeconds += (performance.now() - s) / 1000;
        },
      });
    });
    contenders.push(networkContender('spikelens+SAM', `the same, plus SAM (inclusive, gamma ${w.gamma}) of ${w.sam.join(', ')}`, net));
  }
  if (torchOk && torch) {
    contenders.push({ name: 'torch-layerwise', description: 'PyTorch, all T through each layer at once, neuron loop over T', warm: !o.quick, time: () => torch.time('layerwise') });
    if (torchStepwise)
      contenders.push({ name: 'torch-stepwise', description: 'PyTorch, one step at a time through every layer', warm: !o.quick, time: () => torch.time('stepwise') });
    if (w.sam.length)
      contenders.push(
        { name: 'torch+paperSAM', description: "PyTorch layerwise, then the SAM paper's O(T^2) maps of the same layers", warm: !o.quick, time: () => torch.time('layerwise+sam') },
      );
  }
  if (id === 'B1') {
    const twin = new TwinNetwork(w.model, { batch: w.batch, seed: w.seed });
    const steps = o.quick ? 2 : 8;
    contenders.push({
      name: 'twin',
      description: `plain TypeScript twins of the kernels (timed on ${steps} steps, scaled to ${T})`,
      warm: !o.quick,
      counted: o.quick ? 1 : undefined,
      async time() {
        const s = performance.now();
        twin.setInput(input);
        twin.run(steps);
        return ((performance.now() - s) / 1000) * (T / steps);
      },
    });
  }

  o.log(`${id}: timing ${contenders.map((c) => c.name).join(', ')} alternately: ${o.warmups} warm-up + ${o.runs} counted rounds`);
  const runs: SuiteResult['runs'] = [...quickRuns];
  let active = contenders;
  for (let round = 0; round < o.warmups + o.runs; round++) {
    if (round === o.warmups && torchOk) {
      // Quote the faster PyTorch mode: one that took over twice as long as the other in the warm-up is dropped.
      const warm = (n: string) => runs.find((r) => r.system === n && r.warmup)?.seconds ?? Infinity;
      const [a, b] = [warm('torch-layerwise'), warm('torch-stepwise')];
      const slow = !Number.isFinite(a) || !Number.isFinite(b) ? null : a > 2 * b ? 'torch-layerwise' : b > 2 * a ? 'torch-stepwise' : null;
      if (slow) {
        active = active.filter((c) => c.name !== slow);
        notes.push(`${slow} took ${(Math.max(a, b) / Math.min(a, b)).toFixed(1)}x as long as the other PyTorch mode in the warm-up: not timed further`);
      }
    }
    for (const c of active) {
      if (round < o.warmups && c.warm === false) continue;
      if (c.counted !== undefined && round >= o.warmups + c.counted) continue;
      // A pause first: the thread pools of the previous contender (PyTorch's OpenMP, onnxruntime's) spin for a while
      // after their work, and on two cores that would steal the second core from whoever runs next.
      await settle();
      const seconds = await c.time();
      runs.push({ system: c.name, round, warmup: round < o.warmups, seconds });
      o.log(`  round ${round}${round < o.warmups ? ' (warm-up)' : ''} ${c.name}: ${(seconds * 1000).toFixed(1)} ms per batch of ${w.batch}`);
    }
  }
  parallel?.close();
  threaded.forEach((n) => n.close());
  // Where the time goes: each stage (the layers between two spike trains) rebuilt alone and fed its recorded input.
  let profile: StageProfile[] = [];
  if (!o.quick && (id === 'B1' || id === 'B2')) {
    o.log(`${id}: per-stage profile of spikelens on one thread (1 warm-up + 3 counted rounds) ...`);
    profile = await profileStages(w, 1, 3, ['spikelens']);
  }
  const counted = (name: string) => runs.filter((r) => r.system === name && !r.warmup);
  const torchBest = (round: number): number | null => {
    const t = runs.filter((r) => r.round === round && (r.system === 'torch-layerwise' || r.system === 'torch-stepwise')).map((r) => r.seconds);
    return t.length ? Math.min(...t) : null;
  };
  const rows: SuiteRow[] = active.map((c) => {
    const mine = counted(c.name);
    const ratios = mine.map((r) => torchBest(r.round)).every((x) => x !== null) && torchOk ? mine.map((r) => torchBest(r.round)! / r.seconds) : null;
    return {
      system: c.name,
      description: c.description,
      imagesPerSecond: stats(mine.map((r) => w.batch / r.seconds)),
      vsTorch: ratios ? stats(ratios) : null,
      arenaBytes: c.arena ?? null,
    };
  });
  for (const [name] of jsPeers) {
    const theirs = counted(name);
    if (!theirs.length) continue;
    const ours = counted(w.sam.length ? 'spikelens+SAM' : 'spikelens');
    const two = counted(w.sam.length ? 'spikelens+SAM x2' : 'spikelens x2');
    notes.push(
      `spikelens${w.sam.length ? '+SAM' : ''} vs ${name} inference (paired): ${stats(theirs.map((r, i) => r.seconds / ours[i].seconds)).median.toFixed(2)}x on one thread` +
        (two.length ? `, ${stats(theirs.map((r, i) => r.seconds / two[i].seconds)).median.toFixed(2)}x on both cores` : ''),
    );
  }
  if (w.sam.length) {
    const base = counted('spikelens');
    const withSam = counted('spikelens+SAM');
    const cost = stats(withSam.map((r, i) => r.seconds / base[i].seconds - 1));
    const all = runs.filter((r) => r.system === 'spikelens+SAM').reduce((a, r) => a + r.seconds, 0);
    notes.push(
      `SAM's own cost: ${((samSeconds / (all - samSeconds)) * 100).toFixed(2)} % of spikelens' inference time measured inside the SAM ` +
        `observers; ${(cost.median * 100).toFixed(1)} % as the difference of paired rounds with and without SAM (median, machine noise included); target <= 5 %`,
    );
    const paper = counted('torch+paperSAM');
    const withSam2 = counted('spikelens+SAM x2');
    if (paper.length)
      notes.push(
        `spikelens+SAM vs PyTorch + the paper's SAM: ${stats(paper.map((r, i) => r.seconds / withSam[i].seconds)).median.toFixed(2)}x on one thread` +
          (withSam2.length ? `, ${stats(paper.map((r, i) => r.seconds / withSam2[i].seconds)).median.toFixed(2)}x on both cores` : '') +
          ' (target >= 20x)',
      );
    const bound = arenaBound(w.model, w.batch, w.sam);
    const arena = samNet!.arena.size;
    notes.push(`arena with SAM ${(arena / 2 ** 20).toFixed(1)} MiB vs the bound 1.5 x (weights + one step's activations + neuron state) = ${(bound / 2 ** 20).toFixed(1)} MiB: ${arena <= bound ? 'within' : 'OVER'}`);
  }
  return {
    id,
    name: w.name,
    batch: w.batch,
    timesteps: T,
    firingRates: mine.rates,
    inputRate: mine.inputRate,
    sopsPerImage: mine.sops,
    denseMacsPerImage: denseMacsPerStep(w.model) * T,
    verified,
    rows,
    runs,
    notes,
    maxRssKiB: process.resourceUsage().maxRSS,
    buildSeconds: w.buildSeconds,
    profile,
    calibration: w.calibration,
    scales: w.scales,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Largest relative difference between the paper-style maps PyTorch saved (`<layer>.sam.npy` in dir) and ours. */
function compareMaps(dir: string, maps: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, ours] of maps) {
    const file = join(dir, `${name}.sam.npy`);
    const theirs = readNpy(new Uint8Array(readFileSync(file)), file).data;
    if (theirs.length !== ours.length) throw new Error(`${file}: ${theirs.length} values, ours ${ours.length}`);
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(theirs[i] - ours[i]) / Math.max(1, Math.abs(ours[i])));
  }
  return worst;
}

/** Steps per second from seconds per step: the min and max swap. */
const perSecond = (s: Stats): Stats => ({ median: 1 / s.median, min: 1 / s.max, max: 1 / s.min, n: s.n });

/** B4: one step of a bundled MNIST model with SAM of one layer, batch 1, in Node: latency per step. */
export async function b4(o: SuiteOptions): Promise<SuiteResult> {
  const started = performance.now();
  const file = fileURLToPath(new URL('../../models/mnist-lif-bptt.safetensors', import.meta.url));
  const model = parseModel(new Uint8Array(readFileSync(file)), file);
  const img = new Float32Array(784);
  const digit = fileURLToPath(new URL('../../samples/mnist/digit-7-0.png', import.meta.url));
  const { decodePng } = await import('@spikelens/sam/node');
  const png = decodePng(new Uint8Array(readFileSync(digit)), digit);
  for (let i = 0; i < 784; i++) img[i] = png.rgba[i * 4];
  const net = await Network.create(model, { seed: 0 });
  net.observe(new SamObserver(net, 'lif2', { gamma: 0.5 }));
  const T = model.timesteps ?? 8;
  const perStep: number[] = [];
  const rounds = o.warmups + o.runs * 20;
  for (let r = 0; r < rounds; r++) {
    net.setInput({ kind: 'pixels', data: img });
    for (let t = 0; t < T; t++) {
      const s = performance.now();
      net.step();
      if (r >= o.warmups) perStep.push((performance.now() - s) / 1000);
    }
  }
  const s = stats(perStep);
  const rows: SuiteRow[] = [{ system: 'spikelens (Node)', description: `one step of mnist-lif-bptt with SAM of lif2, median of ${perStep.length} steps`, imagesPerSecond: perSecond(s), vsTorch: null, arenaBytes: net.arena.size }];
  const notes = [`one step with SAM in Node: ${(s.median * 1000).toFixed(3)} ms median [${(s.min * 1000).toFixed(3)}-${(s.max * 1000).toFixed(3)}] (target < 1 ms)`];
  o.log('B4: the web page in Chromium (its worker times each step) ...');
  const web = await browserSteps(o.runs * 3);
  if (typeof web === 'string') notes.push(`B4 in a browser worker skipped: ${web}`);
  else {
    const b = stats(web.stepMs.map((ms) => ms / 1000));
    rows.push({ system: 'spikelens (browser worker)', description: `the web page's worker in ${web.browser}: ${web.model}, SAM of the shown layer, recording every layer; median of ${web.stepMs.length} steps`, imagesPerSecond: perSecond(b), vsTorch: null, arenaBytes: null });
    notes.push(`one step with SAM in the web page's worker (${web.browser}): ${(b.median * 1000).toFixed(3)} ms median [${(b.min * 1000).toFixed(3)}-${(b.max * 1000).toFixed(3)}]`);
  }
  return {
    id: 'B4',
    name: 'mnist-step',
    batch: 1,
    timesteps: T,
    firingRates: net.firingRates(),
    inputRate: 1,
    sopsPerImage: 0,
    denseMacsPerImage: denseMacsPerStep(model) * T,
    verified: null,
    rows,
    runs: [],
    notes,
    maxRssKiB: process.resourceUsage().maxRSS,
    buildSeconds: 0,
    profile: [],
    calibration: [],
    scales: null,
    seconds: (performance.now() - started) / 1000,
  };
}

export { torchAvailable, TorchPeer };
