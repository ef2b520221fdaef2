// Types of scripts/harness.mjs (the harness module builder), for the TypeScript tests that import it.
export declare const DATA: number;
export declare const HARNESS_WASM: string;
export declare function uleb(n: number): number[];
export declare function sleb(n: number): number[];
export declare function addDataSegment(wasm: Uint8Array, payload: Uint8Array, at?: number): Uint8Array<ArrayBuffer>;
export declare function planWords(plan: Uint8Array): { batch: number; timesteps: number; rank: number; dims: number[]; values: number };
export interface HarnessInput {
  /** sl_set_input's kind: 0 pixels (f32), 1 uint8, 2 int8, 3 float32 spike train. */
  readonly kind: number;
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly steps: number;
}
export declare function harnessInput(plan: Uint8Array, data: Float32Array | Uint8Array | Int8Array, train?: boolean): HarnessInput;
export declare function buildHarness(plan: Uint8Array, input: HarnessInput | Float32Array | Uint8Array | Int8Array, seed?: number, harness?: Uint8Array): Uint8Array<ArrayBuffer>;
export declare function runInNode(module: Uint8Array | WebAssembly.Module): bigint;
export declare function runInInterp(file: string, interp?: string): Promise<{ hash: bigint; ms: number }>;
export declare function hasInterp(interp?: string): Promise<boolean>;
export declare function showHash(h: bigint): string;
export declare function readNpySimple(bytes: Uint8Array): { data: Float32Array | Uint8Array | Int8Array; shape: number[] };
