/**
 * Counting work (SPEC §6), written here independently of the core so that its SOP count can be cross-checked.
 */
import { sizeOf, type Model } from '@spikelens/sam';

/**
 * For each input pixel of a conv, how many (output channel, output position) pairs it reaches, borders included:
 * every input spike at that pixel costs this many SOPs.
 */
export function convFanout(
  H: number, W: number, Ho: number, Wo: number, kH: number, kW: number,
  s: readonly [number, number], p: readonly [number, number], d: readonly [number, number], coutPerGroup: number,
): Float64Array {
  const fan = new Float64Array(H * W);
  for (let oy = 0; oy < Ho; oy++)
    for (let ox = 0; ox < Wo; ox++)
      for (let ky = 0; ky < kH; ky++)
        for (let kx = 0; kx < kW; kx++) {
          const iy = oy * s[0] - p[0] + ky * d[0];
          const ix = ox * s[1] - p[1] + kx * d[1];
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) fan[iy * W + ix] += coutPerGroup;
        }
  return fan;
}

/** Dense MACs of one sample and one step: sum over conv/linear layers of outSize * Cin/groups * kH * kW. */
export function denseMacsPerStep(model: Model): number {
  let macs = 0;
  for (const layer of model.layers) {
    if (layer.op === 'conv2d') {
      const [, cinG, kH, kW] = layer.weight.shape;
      macs += sizeOf(layer.outShape) * cinG * kH * kW;
    } else if (layer.op === 'linear') {
      macs += sizeOf(layer.outShape) * sizeOf(layer.inShape);
    }
  }
  return macs;
}
