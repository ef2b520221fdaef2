/**
 * E1's spikelens side (src/explain-bench.ts): a worker thread, so a fresh V8 isolate with only @spikelens/sam loaded,
 * as in a user's process. It loads the model and the image once, then answers:
 *   { cmd: 'check' }              the input pixels, our Grad-CAM map of the layer, the prediction, each spiking
 *                                 layer's spikes (sha256), for the check against PyTorch (off the clock)
 *   { cmd: 'time', method }       seconds of one call of the library's explain(method, ...), measured here
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Network, Recorder, explain, imageInput, isSpiking, parseModel } from '@spikelens/sam';
import { decodePng } from '@spikelens/sam/node';

export interface ExplainWorkerData {
  readonly model: string;
  readonly image: string;
  readonly layer: string;
}

const { model: file, image, layer } = workerData as ExplainWorkerData;
const model = parseModel(new Uint8Array(readFileSync(file)), file);
const png = decodePng(new Uint8Array(readFileSync(image)), image);
const pixels = imageInput(model, png.rgba, png.width, png.height, image);
const input = { kind: 'pixels' as const, data: pixels };
const T = model.timesteps ?? 8;

parentPort!.on('message', async (msg: { cmd: string; method?: string }) => {
  try {
    if (msg.cmd === 'check') {
      const net = await Network.create(model, {});
      const recs = model.layers.filter(isSpiking).map((l) => new Recorder(net, l.name));
      recs.forEach((r) => net.observe(r));
      net.setInput(input);
      net.run(T);
      const spikes = Object.fromEntries(recs.map((r) => [r.layer, createHash('sha256').update(Uint8Array.from(r.spikes!.data())).digest('hex')]));
      net.close();
      const e = await explain('gradcam', model, input, 1, { layer });
      parentPort!.postMessage({ pixels, maps: e.maps, prediction: e.predictions[0], spikes, timesteps: T });
    } else if (msg.cmd === 'time') {
      const s = performance.now();
      await explain(msg.method!, model, input, 1, msg.method === 'saliency' ? {} : { layer });
      parentPort!.postMessage({ seconds: (performance.now() - s) / 1000 });
    } else throw new Error(`unknown command ${msg.cmd}`);
  } catch (err) {
    parentPort!.postMessage({ error: String(err) });
  }
});
parentPort!.postMessage({ ready: true });
