import { embeddedWasm } from "./embedded.js";

/**
 * Where the core's WebAssembly module comes from: its bytes, a (promised) fetch `Response`, or an already compiled
 * module (as Node or a bundler may provide).
 */
export type CoreSource = ArrayBuffer | ArrayBufferView | Response | PromiseLike<Response> | WebAssembly.Module;

let shared: Promise<WebAssembly.Module> | undefined;

/**
 * Compiles the core module. Without a source, returns one shared promise: the module of the first `loadCore` call
 * (the embedded bytes if that call had no source either), so an app can point the core at its own `.wasm` URL once and
 * every later `createCore()` uses it. A call with a source always compiles that source. A failed load is forgotten,
 * so a later call can retry.
 */
export function loadCore(source?: CoreSource): Promise<WebAssembly.Module> {
  if (source === undefined) return shared ?? share(compile(embeddedWasm()));
  const loading = compile(source);
  return shared === undefined ? share(loading) : loading;
}

function share(loading: Promise<WebAssembly.Module>): Promise<WebAssembly.Module> {
  shared = loading;
  loading.catch(() => {
    if (shared === loading) shared = undefined;
  });
  return loading;
}

async function compile(source: CoreSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source as BufferSource);
  const response = await source;
  if (!response.ok) {
    throw new Error(`@spikelens/core-wasm: fetching ${response.url || "the core module"} failed with HTTP ${response.status}`);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}
