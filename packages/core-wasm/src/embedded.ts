import { coreWasmBase64, coreWasmByteLength } from "../build/core-bytes.js";
import { coreThreadsWasmBase64 } from "../build/core-threads-bytes.js";
import { decodeBase64 } from "./base64.js";

/** Size in bytes of the WebAssembly module embedded in this package. */
export const wasmByteLength: number = coreWasmByteLength;

export function embeddedWasm(): Uint8Array<ArrayBuffer> {
  return decodeBase64(coreWasmBase64);
}

/** The threads build: the same kernels on an imported shared memory. */
export function embeddedThreadsWasm(): Uint8Array<ArrayBuffer> {
  return decodeBase64(coreThreadsWasmBase64);
}
