import { LoadedPlan, formatBytes, sizeOf } from '@spikelens/sam';
import { readBytes } from '@spikelens/sam/node';
import type { Io } from './io.js';

/** `spikelens info PLAN.slplan`: what a plan file holds, after the core's own loader has checked it. */
export async function planInfo(file: string, json: boolean, io: Io): Promise<number> {
  const plan = await LoadedPlan.load(await readBytes(file), file);
  const h = plan.header;
  const outputs = h.outputs.map((o) => ({
    name: o.name, kind: o.kind, shape: [h.timesteps, h.batch, ...o.shape], file: o.file,
  }));
  if (json) {
    io.out(JSON.stringify({
      file, version: h.version, bytes: h.fileBytes, arenaBytes: h.arenaBytes, segments: h.segments, batch: h.batch,
      timesteps: h.timesteps, input: { shape: h.inputShape, encoding: h.encoder }, readout: h.readout, classes: h.classes,
      sam: { gamma: h.gamma, ncs: h.ncs }, seed: h.seed, outputs,
    }));
    return 0;
  }
  io.out(`plan ${file}  (version ${h.version}, ${formatBytes(h.fileBytes)} in ${h.segments} segments; checked by the core's loader)`);
  io.out(`arena ${formatBytes(h.arenaBytes)} (${h.arenaBytes} bytes)`);
  io.out(`batch ${h.batch}, ${h.timesteps} steps; input [${h.inputShape.join(',')}] ${h.encoder} (${sizeOf(h.inputShape)} values a sample), or a spike train of at most ${h.timesteps} steps`);
  io.out(`readout ${h.readout}, ${h.classes} classes -> output.npy [${h.batch},${h.classes}]; default seed ${h.seed}`);
  for (const o of outputs) io.out(`  ${o.file.padEnd(24)} ${o.kind.padEnd(6)} [${o.shape.join(',')}]${o.kind === 'sam' ? `  gamma ${h.gamma}, ${h.ncs}` : ''}`);
  return 0;
}
