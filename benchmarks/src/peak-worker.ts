/** One core instance on its own thread running the f32x4 peak loop on request (peak.ts). */
import { parentPort } from 'node:worker_threads';
import { createCore } from '@spikelens/core-wasm';

const core = await createCore();
parentPort!.on('message', (n: number) => {
  const s = performance.now();
  const r = core.exports.simd_peak(n, 1, 1, 1);
  parentPort!.postMessage({ seconds: (performance.now() - s) / 1000, r });
});
parentPort!.postMessage('ready');
