import { coreWasmBase64, coreWasmByteLength } from "../build/core-bytes.js";
import { decodeBase64 } from "./base64.js";

/** Size in bytes of the WebAssembly module embedded in this package. */
export const wasmByteLength: number = coreWasmByteLength;

export function embeddedWasm(): Uint8Array<ArrayBuffer> {
  return decodeBase64(coreWasmBase64);
}
