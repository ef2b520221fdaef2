export { main, HELP } from './main.js';
export type { Io } from './io.js';
