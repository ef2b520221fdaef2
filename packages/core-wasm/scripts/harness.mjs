// The harness (issue 16): build/harness.wasm (assembly/harness.ts) with a plan and its input added as one active data
// segment, so an engine with no host functions at all runs the plan: `run(): i64` returns the FNV-1a 64 hash of the
// scores and of every output window as float32 bytes, in the plan header's order (hashOutputs in @spikelens/sam), or
// minus an error code. wabt's interpreter runs it with `wasm-interp --run-all-exports FILE`.
//
//   node scripts/harness.mjs PLAN INPUT.npy OUT.wasm [--seed S] [--run]
//
// writes OUT.wasm and, with --run, prints the hash from wasm-interp and from this Node's engine. As a module it
// exports the pieces (scripts/harness.d.mts) for tests and examples.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where harness.ts reads its header: [planLen, inputBytes, kind, count, seed, steps, 0, 0] as u32, then the plan. */
export const DATA = 0x100000;
export const HARNESS_WASM = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "harness.wasm");

// ---- LEB128 -------------------------------------------------------------------------------------------------------

/** Unsigned LEB128 of a non-negative integer: 7 bits a byte, low first, the high bit set on all but the last. */
export function uleb(n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`uleb: ${n}`);
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Signed LEB128 (i32.const's immediate): as uleb, but stops once the rest is the sign extension of bit 6. */
export function sleb(n) {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`sleb: ${n}`);
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7; // arithmetic shift: keeps the sign
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Reads an unsigned LEB128 at `p`: [value, position after it]. */
function readUleb(bytes, p) {
  let v = 0, scale = 1, b;
  do {
    if (p >= bytes.length) throw new Error("harness: truncated LEB128 in the module");
    b = bytes[p++];
    v += (b & 0x7f) * scale;
    scale *= 128;
  } while (b & 0x80);
  return [v, p];
}

// ---- the module ----------------------------------------------------------------------------------------------------

const SEC_MEMORY = 5, SEC_CODE = 10, SEC_DATA = 11, SEC_DATACOUNT = 12;

/** The module's sections in order: { id, body } (body without the id and size bytes). */
function sections(wasm) {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d || wasm[4] !== 1)
    throw new Error("harness: not a version 1 wasm module");
  const out = [];
  let p = 8;
  while (p < wasm.length) {
    const id = wasm[p];
    const [size, q] = readUleb(wasm, p + 1);
    if (q + size > wasm.length) throw new Error("harness: a section runs past the module's end");
    out.push({ id, body: wasm.subarray(q, q + size) });
    p = q + size;
  }
  return out;
}

/**
 * `wasm` (harness.wasm) with `payload` as one more active data segment at `at` in memory 0:
 * - the data section gets the segment (count + 1), or is created after the code section when there is none;
 * - the data count section (present when the module uses bulk memory), if any, counts it;
 * - the memory's initial pages cover at + payload (an active segment past the memory fails instantiation); the
 *   plan's arena is grown by run() itself.
 */
export function addDataSegment(wasm, payload, at = DATA) {
  const secs = sections(wasm);
  // segment: flags 0 (active, memory 0), offset expression `i32.const at; end`, length, bytes
  const seg = [0, 0x41, ...sleb(at), 0x0b, ...uleb(payload.length)];
  const pages = Math.ceil((at + payload.length) / 65536);
  let hasData = false, hasMemory = false;
  const bodies = [];
  for (const s of secs) {
    if (s.id === SEC_MEMORY) {
      hasMemory = true;
      // vec of limits: count (1), flags (0: min; 1: min and max), min, [max]
      let [n, p] = readUleb(s.body, 0);
      if (n !== 1) throw new Error(`harness: expected one memory, found ${n}`);
      const flags = s.body[p++];
      if (flags > 1) throw new Error(`harness: memory flags ${flags} (shared or 64-bit) are not supported`);
      let min, max;
      [min, p] = readUleb(s.body, p);
      if (flags === 1) [max, p] = readUleb(s.body, p);
      min = Math.max(min, pages);
      if (max !== undefined && max < min) throw new Error(`harness: the memory's maximum (${max} pages) is under the ${min} the data needs`);
      bodies.push({ id: s.id, body: Uint8Array.from([1, flags, ...uleb(min), ...(max !== undefined ? uleb(max) : [])]) });
    } else if (s.id === SEC_DATACOUNT) {
      const [n] = readUleb(s.body, 0);
      bodies.push({ id: s.id, body: Uint8Array.from(uleb(n + 1)) });
    } else if (s.id === SEC_DATA) {
      hasData = true;
      const [n, p] = readUleb(s.body, 0);
      bodies.push({ id: s.id, body: concat([Uint8Array.from(uleb(n + 1)), s.body.subarray(p), Uint8Array.from(seg), payload]) });
    } else {
      bodies.push(s);
      if (s.id === SEC_CODE && !secs.some((t) => t.id === SEC_DATA))
        bodies.push({ id: SEC_DATA, body: concat([Uint8Array.from([1, ...seg]), payload]) }), (hasData = true);
    }
  }
  if (!hasMemory) throw new Error("harness: the module defines no memory");
  if (!hasData) throw new Error("harness: the module has no code section to put the data after");
  const parts = [wasm.subarray(0, 8)];
  for (const s of bodies) parts.push(Uint8Array.from([s.id, ...uleb(s.body.length)]), s.body);
  return concat(parts);
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}

// ---- plans and inputs ---------------------------------------------------------------------------------------------

/** The header words the harness needs: batch (word 7), steps (8), input rank (10) and dims (11..13), values (14). */
export function planWords(plan) {
  if (plan.length < 128) throw new Error("harness: a plan is at least 128 bytes");
  const v = new DataView(plan.buffer, plan.byteOffset, plan.byteLength);
  const w = (i) => v.getInt32(i * 4, true);
  return { batch: w(7), timesteps: w(8), rank: w(10), dims: [w(11), w(12), w(13)].slice(0, w(10)), values: w(14) };
}

/**
 * The input as sl_set_input takes it: kind 0 pixels (float32 [B, ...]), 1 a uint8, 2 an int8, 3 a float32 spike
 * train [T', B, ...]; its bytes, its count of values, and the steps to run (the plan's T for pixels, else T').
 * `data` is a Float32Array, Uint8Array or Int8Array; `train` says whether a Float32Array is a train.
 */
export function harnessInput(plan, data, train = !(data instanceof Float32Array)) {
  const h = planWords(plan);
  const kind = !train ? 0 : data instanceof Uint8Array ? 1 : data instanceof Int8Array ? 2 : 3;
  if (kind === 0 && !(data instanceof Float32Array)) throw new Error("harness: pixels are float32");
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const steps = kind === 0 ? h.timesteps : Math.floor(data.length / (h.batch * h.values));
  return { kind, bytes, count: data.length, steps };
}

/**
 * The harness module for `plan` (bytes) and `input` (harnessInput's result, or a Float32Array of pixels / a
 * Uint8Array, Int8Array train), run with `seed`: harness.wasm plus the data segment
 * [planLen, inputBytes, kind, count, seed, steps, 0, 0] (u32), the plan at DATA + 32, the input 16-aligned after it.
 */
export function buildHarness(plan, input, seed = 0, harness = readFileSync(HARNESS_WASM)) {
  const inp = ArrayBuffer.isView(input) ? harnessInput(plan, input) : input;
  const planPadded = (plan.length + 15) & ~15;
  const payload = new Uint8Array(32 + planPadded + inp.bytes.length);
  const v = new DataView(payload.buffer);
  [plan.length, inp.bytes.length, inp.kind, inp.count, seed >>> 0, inp.steps].forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  payload.set(plan, 32);
  payload.set(inp.bytes, 32 + planPadded);
  return addDataSegment(new Uint8Array(harness.buffer, harness.byteOffset, harness.byteLength), payload, DATA);
}

/**
 * run()'s i64 as the hash (unsigned 64 bits) or, for -255 .. -1, minus an error code. wasm-interp prints the i64 as
 * unsigned and V8 gives it signed; both read the same here. (A true hash in the top 255 values: odds 2^-56.)
 */
function result(r) {
  const s = BigInt.asIntN(64, r);
  return s < 0n && s > -256n ? s : BigInt.asUintN(64, r);
}

/** run() of a harness module in this engine (V8 under Node): the hash as an unsigned 64-bit bigint, or minus a code. */
export function runInNode(module) {
  const m = module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module);
  return result(new WebAssembly.Instance(m, {}).exports.run());
}

/**
 * run() of a harness module file under wabt's wasm-interp: the hash as an unsigned 64-bit bigint, or minus an error
 * code (run()'s small negative results), and the interpreter's wall time in ms. Rejects if wasm-interp fails.
 */
export function runInInterp(file, interp = "wasm-interp") {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile(interp, ["--run-all-exports", file], { maxBuffer: 1 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      const ms = performance.now() - t0;
      if (err) return reject(new Error(`${interp} ${file}: ${err.message}\n${stderr}`));
      const m = /^run\(\) => i64:(-?\d+)\s*$/m.exec(stdout);
      if (!m) return reject(new Error(`${interp} ${file}: no "run() => i64:N" in its output: ${stdout}${stderr}`));
      resolve({ hash: result(BigInt(m[1])), ms });
    });
  });
}

/** Whether wasm-interp (or `interp`) runs here. */
export function hasInterp(interp = "wasm-interp") {
  return new Promise((resolve) => execFile(interp, ["--version"], (err) => resolve(!err)));
}

/** A hash as 16 hex digits, or "error N" for run()'s negative codes. */
export function showHash(h) {
  return h < 0n ? `error ${-h}` : h.toString(16).padStart(16, "0");
}

// ---- a .npy, minimally (the command below; the CLI and library have the full reader) ------------------------------

/** A little-endian .npy's data as Float32Array, Uint8Array or Int8Array, and its shape. */
export function readNpySimple(bytes) {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") throw new Error("not a .npy file");
  const major = bytes[6];
  const hlen = major === 1 ? bytes[8] | (bytes[9] << 8) : new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(".npy in Fortran order");
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.slice(start + hlen);
  const data = descr === "<f4" ? new Float32Array(body.buffer, 0, body.length >> 2) : descr === "|u1" ? new Uint8Array(body.buffer) : descr === "|i1" ? new Int8Array(body.buffer) : null;
  if (!data) throw new Error(`.npy dtype ${descr}: expected <f4, |u1 or |i1`);
  return { data, shape };
}

// ---- the command ---------------------------------------------------------------------------------------------------

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const pos = [];
  let seed = 0, run = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--seed") seed = Number(args[++i]);
    else if (args[i] === "--run") run = true;
    else pos.push(args[i]);
  }
  if (pos.length !== 3 || !Number.isInteger(seed) || seed < 0) {
    console.error("usage: node scripts/harness.mjs PLAN INPUT.npy OUT.wasm [--seed S] [--run]");
    process.exit(2);
  }
  const plan = new Uint8Array(readFileSync(pos[0]));
  const x = readNpySimple(new Uint8Array(readFileSync(pos[1])));
  const train = !(x.data instanceof Float32Array) || x.shape.length === planWords(plan).rank + 2;
  const wasm = buildHarness(plan, harnessInput(plan, x.data, train), seed);
  writeFileSync(pos[2], wasm);
  console.log(`${pos[2]}: ${wasm.length} bytes`);
  if (run) {
    console.log(`node:        ${showHash(runInNode(wasm))}`);
    if (await hasInterp()) {
      const r = await runInInterp(pos[2]);
      console.log(`wasm-interp: ${showHash(r.hash)} (${r.ms.toFixed(0)} ms)`);
    } else console.log("wasm-interp: not found (apt-get install wabt)");
  }
}
