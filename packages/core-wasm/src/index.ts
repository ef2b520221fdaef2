export { createCore, createThreadsCore, instantiateOn, threadsSupported, type Core, type ThreadsCore } from "./core.js";
export { wasmByteLength, embeddedWasm, embeddedThreadsWasm } from "./embedded.js";
export type { CoreExports } from "./exports.js";
export { loadCore, type CoreSource } from "./module.js";
export { RowsHelper, CTL_BYTES, DENSE_ROWS, EVENT_ROWS, LINEAR_COLS, serveRows, type HelperInit, type HelperThread } from "./rows.js";
