export { createCore, type Core } from "./core.js";
export { wasmByteLength } from "./embedded.js";
export type { CoreExports } from "./exports.js";
export { loadCore, type CoreSource } from "./module.js";
