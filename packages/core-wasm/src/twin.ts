// Scalar TypeScript twins of every core kernel: the same arguments on typed arrays instead of pointers, written as
// the plainest loops from docs/semantics.md. Tests check each WebAssembly kernel against them; benchmarks use them as the
// plain-TypeScript peer.
export { conv2d, conv2dEvent, conv2dPack, conv2dPackedLen, countNonzero, spikeIndex } from "./twin/conv.js";
export { encode, rngNext, rngSeed } from "./twin/encode.js";
export { affine, cubalif, li, lif, relu } from "./twin/neurons.js";
export { pool2d } from "./twin/pool.js";
export { samStep } from "./twin/sam.js";
export {
  affineBackward, biasBackward, conv2dBackwardInput, conv2dBackwardWeight, expCore, lifBackward, lifForwardTrain,
  liBackward, pool2dBackward, reluBackward, smoothSpike, surrogate,
} from "./twin/backward.js";
