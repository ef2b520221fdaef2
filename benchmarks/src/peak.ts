/**
 * PEAK: the WebAssembly f32x4 peak of this machine as BENCHMARKS.md defines it (register-resident chains of f32x4
 * mul and add, no memory traffic, one core instance per thread, on 1 and on 2 threads at once), and the core's dense
 * SIMD convolution on B1's layer shapes against it: the issue's "dense path >= 50 % of peak", printed, not asserted.
 */
import { Worker } from 'node:worker_threads';
import { createCore, type Core } from '@spikelens/core-wasm';
import { stats, type Stats } from './measure.js';
import { Prng } from './prng.js';
import { range, table } from './report.js';

const FLOPS_PER_ITER = 40;

export interface DenseFigure {
  readonly layer: string;
  readonly gflops: Stats;
  /** Median dense GFLOP/s over the median one-thread peak. */
  readonly ofPeak: number;
}

export interface PeakResult {
  readonly id: 'PEAK';
  /** GFLOP/s of the peak loop, one thread and two threads at once (sum). */
  readonly oneThread: Stats;
  readonly twoThreads: Stats;
  readonly dense: readonly DenseFigure[];
  readonly seconds: number;
}

/** Iterations of simd_peak that take about `ms` on this core. */
function calibrateIters(core: Core, ms: number): number {
  let n = 1 << 16;
  for (;;) {
    const s = performance.now();
    core.exports.simd_peak(n, 1, 1, 1);
    const t = performance.now() - s;
    if (t > ms / 4 || n > 2 ** 30) return Math.max(1, Math.round((n * ms) / Math.max(t, 1e-3)));
    n *= 4;
  }
}

async function twoThreads(n: number, rounds: number): Promise<number[]> {
  const url = new URL('./peak-worker.js', import.meta.url);
  const workers = [new Worker(url), new Worker(url)];
  try {
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    const out: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      const s = performance.now();
      await Promise.all(workers.map((w) => new Promise((res) => (w.once('message', res), w.postMessage(n)))));
      const seconds = (performance.now() - s) / 1000;
      if (r > 0) out.push((2 * n * FLOPS_PER_ITER) / seconds / 1e9);
    }
    return out;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** conv2d_dense of one B1 layer (3x3, padding 1, batch 1) on 0/1 input at 15 %: GFLOP/s (2 flops per MAC) per run. */
function denseConv(core: Core, Cin: number, Cout: number, H: number, rounds: number): number[] {
  const e = core.exports;
  const HW = H * H;
  const rng = new Prng(0xd3e5e);
  let top = core.heapBase;
  const alloc = (floats: number): number => {
    const p = top;
    top += Math.ceil((floats * 4) / 16) * 16;
    return p;
  };
  const wlen = e.conv2d_packed_len(Cout, Cin, 3, 3, 1);
  const [src, wp, x, y] = [alloc(Cout * Cin * 9), alloc(wlen), alloc(Cin * HW), alloc(Cout * HW)];
  core.reserve(top - core.heapBase);
  const mem = new Float32Array(core.memory.buffer);
  for (let i = 0; i < Cout * Cin * 9; i++) mem[src / 4 + i] = Math.round((rng.uniform() - 0.5) * 64) / 1024;
  e.conv2d_pack(src, wp, Cout, Cin, 3, 3, 1);
  for (let i = 0; i < Cin * HW; i++) mem[x / 4 + i] = rng.uniform() < 0.15 ? 1 : 0;
  const macs = Cin * Cout * 9 * HW;
  const reps = Math.max(1, Math.round(2e9 / 10 / macs)); // about 0.2 G MAC per timed run
  const out: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const s = performance.now();
    for (let k = 0; k < reps; k++) e.conv2d_dense(x, wp, 0, y, 1, Cin, H, H, Cout, H, H, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    const seconds = (performance.now() - s) / 1000;
    if (r > 0) out.push((2 * macs * reps) / seconds / 1e9);
  }
  return out;
}

export async function peak(rounds: number, log: (s: string) => void): Promise<PeakResult> {
  const started = performance.now();
  const core = await createCore();
  const n = calibrateIters(core, 200);
  log(`PEAK: f32x4 peak loop, ${n} iterations per run (about 200 ms), 1 thread then 2 threads at once ...`);
  const one: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const s = performance.now();
    core.exports.simd_peak(n, 1, 1, 1);
    if (r > 0) one.push((n * FLOPS_PER_ITER) / ((performance.now() - s) / 1000) / 1e9);
  }
  const two = await twoThreads(n, rounds);
  const oneThread = stats(one);
  log('PEAK: the dense SIMD convolution on B1 layer shapes ...');
  const layers: [string, number, number, number][] = [
    ['conv1 3->64 @32x32', 3, 64, 32],
    ['conv2 64->64 @32x32', 64, 64, 32],
    ['conv3 64->128 @16x16', 64, 128, 16],
    ['conv4 128->128 @16x16', 128, 128, 16],
  ];
  const dense = layers.map(([layer, Cin, Cout, H]) => {
    const g = stats(denseConv(core, Cin, Cout, H, rounds));
    return { layer, gflops: g, ofPeak: g.median / oneThread.median };
  });
  return { id: 'PEAK', oneThread, twoThreads: stats(two), dense, seconds: (performance.now() - started) / 1000 };
}

export function formatPeak(p: PeakResult): string {
  const g = (s: Stats) => range(s.median, s.min, s.max);
  return [
    '',
    'PEAK: the WebAssembly f32x4 peak (5 mul + 5 add chains in registers, no memory traffic) and the dense conv path',
    `peak, one thread: ${g(p.oneThread)} GFLOP/s; two threads at once (one core instance each): ${g(p.twoThreads)} GFLOP/s`,
    '',
    table(
      ['dense conv2d_dense, batch 1, one thread', 'GFLOP/s', '% of one-thread peak'],
      p.dense.map((d) => [d.layer, g(d.gflops), `${(d.ofPeak * 100).toFixed(0)} %`]),
    ),
    '',
    `target: the dense SIMD path >= 50 % of peak: holds on ${p.dense.filter((d) => d.ofPeak >= 0.5).length} of ${p.dense.length} layer shapes ` +
      `(${(Math.min(...p.dense.map((d) => d.ofPeak)) * 100).toFixed(0)}-${(Math.max(...p.dense.map((d) => d.ofPeak)) * 100).toFixed(0)} %)`,
    `PEAK took ${p.seconds.toFixed(1)} s`,
  ].join('\n');
}
