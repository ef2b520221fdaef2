export { main, HELP } from './main.js';
export { simulate, recordAll, resolveTimesteps } from './simulate.js';
export type { SimulateOptions, SimulateResult } from './simulate.js';
export type { Io } from './io.js';
export type { Summary } from './summary.js';
