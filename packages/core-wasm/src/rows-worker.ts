/// <reference types="node" />
/** The Node helper thread of rows.ts: an instance of the threads build on the caller's shared memory. */
import { workerData } from "node:worker_threads";
import { instantiateOn } from "./core.js";
import type { CoreExports } from "./exports.js";
import { serveRows, type HelperInit } from "./rows.js";

const init = workerData as HelperInit;
const instance = await instantiateOn(init.module, init.memory);
const ex = instance.exports as unknown as CoreExports;
ex.set_scratch(init.scratch);
serveRows(ex, init.memory, init.ctl);
