/** One worker of the batch split: its own core instance, its slice of the batch, its samples' own PRNG keys. */
import { parentPort, workerData } from 'node:worker_threads';
import { Network, Recorder, isSpiking, parseModel } from '@spikelens/sam';

interface Init {
  readonly model: Uint8Array;
  readonly pixels: Float32Array;
  readonly batch: number;
  readonly keyOffset: number;
  readonly seed: number;
  readonly T: number;
}

const init = workerData as Init;
const model = parseModel(init.model, 'parallel');
const net = await Network.create(model, { batch: init.batch, seed: init.seed, keyOffset: init.keyOffset });
const input = { kind: 'pixels' as const, data: init.pixels };

parentPort!.on('message', (msg: { cmd: 'run' | 'record' }) => {
  if (msg.cmd === 'run') {
    const s = performance.now();
    net.setInput(input);
    net.run(init.T);
    parentPort!.postMessage({ seconds: (performance.now() - s) / 1000 });
    return;
  }
  const recs = model.layers.filter(isSpiking).map((l) => new Recorder(net, l.name));
  recs.forEach((r) => net.observe(r));
  net.setInput(input);
  net.run(init.T);
  recs.forEach((r) => net.unobserve(r));
  parentPort!.postMessage({ spikes: Object.fromEntries(recs.map((r) => [r.layer, r.spikes!.data().slice()])), scores: net.scores() });
});
parentPort!.postMessage({ ready: true });
