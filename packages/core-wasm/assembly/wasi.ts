// The WASI command (build/spikelens.wasi.wasm): `spikelens.wasi.wasm PLAN INPUT.npy OUTDIR [--seed S]` runs a plan file
// (docs/plan-file.md) on a .npy input with the core's own loader and kernels, and writes what `spikelens run` writes
// for what the plan records: OUTDIR/output.npy, <layer>.spikes.npy, <layer>.sam.npy. No JavaScript: any WASI
// runtime (wasmtime, WAMR, wasmer, Node's node:wasi) runs it. Bad input gives one line on stderr naming the file and
// the exit code of the CLI (docs/cli.md): 2 usage, 3 a file (missing, malformed, not fitting the plan, memory).
import {
  fd_close, fd_filestat_get, prestat, filestat, fd_prestat_dir_name, fd_prestat_get, fd_read, fd_write, path_create_directory, path_open,
} from "@assemblyscript/wasi-shim/assembly/bindings/wasi_snapshot_preview1";
import { sl_header, sl_input, sl_load, sl_output, sl_plan_bytes, sl_run, sl_scores, sl_set_input, sl_error_at } from "./slplan";

const USAGE = "usage: spikelens.wasi.wasm PLAN INPUT.npy OUTDIR [--seed S]";
const ERRORS: string[] = [
  "", "a record has an unknown op", "a per-step affine has no row for this step", "a SAM record has no decay for this step", "", "", "", "", "", "",
  "truncated: the file is shorter or longer than its header says", "not a plan file (bad magic)", "a plan file of another version",
  "a header field is out of range", "an offset or size is outside the file or the arena, or crosses the header or the program",
  "a record has a bad op, length or dimension", "the program does not end inside the arena",
  "the memory is too small for the arena", "the input does not match the plan", "no plan loaded or no input set",
];

function die(code: i32, msg: string): void {
  process.stderr.write("spikelens.wasi.wasm: " + msg + "\n");
  process.exit(code);
  unreachable();
}

// scratch for WASI calls' results
const scratch = heap.alloc(64);

// ----- preopened directories: a path is opened from the preopen whose name is its longest prefix -----
const preNames: string[] = [];
const preFds: u32[] = [];
for (let fd: u32 = 3; fd < 64; fd++) {
  if (fd_prestat_get(fd, changetype<prestat>(scratch)) != 0) break;
  const len = load<u32>(scratch, 4);
  const buf = heap.alloc(len + 1);
  if (fd_prestat_dir_name(fd, buf, len) != 0) continue;
  let name = String.UTF8.decodeUnsafe(buf, len, true);
  while (name.length > 1 && name.endsWith("/")) name = name.slice(0, name.length - 1);
  preNames.push(name);
  preFds.push(fd);
}

// The preopen to open `path` from (-1: none) and the path relative to it, in `rel`.
let rel = "";
function dirOf(path: string): i32 {
  let best = -1, bestLen = -1;
  for (let i = 0; i < preNames.length; i++) {
    const d = preNames[i];
    let r: string | null = null;
    if (d == "." || d == "./") r = path.startsWith("/") ? null : path.startsWith("./") ? path.slice(2) : path;
    else if (d == "/") r = path.startsWith("/") ? path.slice(1) : null;
    else if (path == d) r = ".";
    else if (path.startsWith(d + "/")) r = path.slice(d.length + 1);
    if (r !== null && d.length > bestLen) {
      best = i;
      bestLen = d.length;
      rel = r.length ? r : ".";
    }
  }
  return best < 0 ? -1 : <i32>preFds[best];
}

// Opens `path` (read, or created/truncated for write); the fd, or minus the errno (-1000: no preopen reaches it).
function open(path: string, write: bool): i32 {
  const dir = dirOf(path);
  if (dir < 0) return -1000;
  const p = String.UTF8.encode(rel);
  const rights: u64 = write ? 64 | 4 | 32 : 2 | 4 | 32 | (1 << 21);
  const e = path_open(<u32>dir, 1, changetype<usize>(p), p.byteLength, write ? 1 | 8 : 0, rights, 0, 0, changetype<usize>(scratch));
  return e ? -<i32>e : <i32>load<u32>(scratch);
}

function why(e: i32): string {
  if (e == -1000) return "not under a directory the runtime gives this module (e.g. wasmtime --dir .)";
  if (e == -44) return "no such file";
  if (e == -2) return "permission denied";
  if (e == -54) return "is not a folder";
  if (e == -31) return "is a folder";
  return "error " + (-e).toString() + " (WASI errno)";
}

// The whole file at `path`, with its length in `fileLen`.
let fileLen = 0;
function readAll(path: string): usize {
  const fd = open(path, false);
  if (fd < 0) die(3, path + ": cannot read: " + why(fd));
  if (fd_filestat_get(<u32>fd, changetype<filestat>(scratch)) != 0) die(3, path + ": cannot read its size");
  const size = load<u64>(scratch, 32);
  if (size > 0x7ff00000) die(3, path + ": too large (" + size.toString() + " bytes)");
  const n = <i32>size;
  const buf = grow(n);
  if (!buf) die(3, path + ": " + n.toString() + " bytes do not fit in memory");
  let got = 0;
  while (got < n) {
    store<u32>(scratch, buf + got);
    store<u32>(scratch, n - got, 4);
    if (fd_read(<u32>fd, changetype<usize>(scratch), 1, changetype<usize>(scratch) + 8) != 0) die(3, path + ": cannot read");
    const k = <i32>load<u32>(scratch, 8);
    if (k == 0) break;
    got += k;
  }
  fd_close(<u32>fd);
  fileLen = got;
  return buf;
}

// `bytes` of fresh memory (16-aligned), or 0 when the runtime gives no more.
function grow(bytes: i32): usize {
  const need = <u64>memory.size() * 65536 + <u64>bytes + 65536;
  const have = <u64>memory.size() * 65536;
  // the stub allocator grows the memory itself and traps when it cannot: ask first, and say so instead
  if (need > have && memory.grow(<i32>((need - have + 65535) >> 16)) < 0) return 0;
  return heap.alloc(<usize>bytes);
}

function writeFile(path: string, head: Uint8Array, data: usize, bytes: i32): void {
  const fd = open(path, true);
  if (fd < 0) die(3, path + ": cannot write: " + why(fd));
  const iov = heap.alloc(16);
  store<u32>(iov, changetype<usize>(head.buffer));
  store<u32>(iov, head.byteLength, 4);
  store<u32>(iov, data, 8);
  store<u32>(iov, bytes, 12);
  let left = head.byteLength + bytes;
  while (left > 0) {
    if (fd_write(<u32>fd, iov, 2, changetype<usize>(scratch)) != 0) die(3, path + ": cannot write");
    const k = <i32>load<u32>(scratch);
    left -= k;
    // advance the vectors past what was written
    let k1 = min(k, <i32>load<u32>(iov, 4));
    store<u32>(iov, load<u32>(iov) + k1);
    store<u32>(iov, load<u32>(iov, 4) - k1, 4);
    const k2 = k - k1;
    store<u32>(iov, load<u32>(iov, 8) + k2, 8);
    store<u32>(iov, load<u32>(iov, 12) - k2, 12);
    if (k == 0) die(3, path + ": cannot write");
  }
  fd_close(<u32>fd);
}

// A .npy header as spikelens writes it (packages/sam npyHeader): version 1, padded to 64 bytes.
function npyHeader(descr: string, shape: i32[]): Uint8Array {
  let tuple = "(";
  for (let i = 0; i < shape.length; i++) tuple += (i ? ", " : "") + shape[i].toString();
  tuple += shape.length == 1 ? ",)" : ")";
  const dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + tuple + ", }";
  const hl = ((10 + dict.length + 1 + 63) / 64) * 64 - 10;
  const out = new Uint8Array(10 + hl);
  out[0] = 0x93;
  const magic = "NUMPY";
  for (let i = 0; i < 5; i++) out[1 + i] = <u8>magic.charCodeAt(i);
  out[6] = 1;
  out[8] = <u8>(hl & 255);
  out[9] = <u8>(hl >> 8);
  for (let i = 0; i < dict.length; i++) out[10 + i] = <u8>dict.charCodeAt(i);
  for (let i = 10 + dict.length; i < 10 + hl - 1; i++) out[i] = 0x20;
  out[10 + hl - 1] = 0x0a;
  return out;
}

function showShape(s: i32[]): string {
  let t = "[";
  for (let i = 0; i < s.length; i++) t += (i ? "," : "") + s[i].toString();
  return t + "]";
}

// ----- arguments -----
const argv = process.argv;
const pos: string[] = [];
let seed: u64 = 0;
let seedGiven = false;
for (let i = 1; i < argv.length; i++) {
  const a = argv[i];
  if (a == "--seed") {
    if (i + 1 >= argv.length) die(2, "--seed needs a value (" + USAGE + ")");
    const v = argv[++i];
    let ok = v.length > 0 && v.length <= 10;
    seed = 0;
    for (let k = 0; k < v.length; k++) {
      const c = v.charCodeAt(k) - 48;
      if (c < 0 || c > 9) ok = false;
      seed = seed * 10 + <u64>c;
    }
    if (!ok || seed > 0xffffffff) die(2, "--seed must be an integer from 0 to 4294967295, not \"" + v.slice(0, 40) + "\"");
    seedGiven = true;
  } else if (a == "-h" || a == "--help") {
    process.stdout.write(USAGE + "\n\nRuns a plan file (spikelens compile) on a .npy input and writes output.npy, <layer>.spikes.npy and\n<layer>.sam.npy into OUTDIR, as spikelens run does. Exit codes: 0 success, 2 usage, 3 a bad or unfitting file.\n");
    process.exit(0);
  } else if (a.startsWith("-") && a.length > 1) die(2, "unknown option " + a.slice(0, 40) + " (" + USAGE + ")");
  else pos.push(a);
}
if (pos.length != 3) die(2, (pos.length < 3 ? "missing arguments" : "too many arguments") + " (" + USAGE + ")");
const planPath = pos[0], inputPath = pos[1], outDir = pos[2];

// ----- the plan -----
const plan = readAll(planPath);
const planLen = fileLen;
const need = sl_plan_bytes(plan, planLen);
if (need < 0) die(3, planPath + ": " + ERRORS[-need]);
const arena = grow(need + 64);
if (!arena) die(3, planPath + ": the plan needs " + need.toString() + " bytes of arena; the runtime gives no more memory");
const e0 = sl_load(plan, planLen, (arena + 15) & ~15);
if (e0) die(3, planPath + ": " + ERRORS[e0] + " (byte " + sl_error_at().toString() + ")");
const H = sl_header();
@inline function hw(i: i32): i32 {
  return load<i32>(H + (<usize>i << 2));
}
const B = hw(7), T = hw(8), R = hw(10), N = hw(14), K = hw(26), M = hw(28);
if (!seedGiven) seed = <u64>(<u32>hw(31));
const inShape: i32[] = [];
for (let i = 0; i < R; i++) inShape.push(hw(11 + i));

// ----- the input: float32 [B, ...] pixels, or uint8/int8/float32 [T', B, ...] spikes -----
const x = readAll(inputPath);
const xLen = fileLen;
function bad(msg: string): void {
  die(3, inputPath + ": " + msg);
}
if (xLen < 10 || load<u8>(x) != 0x93 || load<u8>(x, 1) != 0x4e) bad("not a .npy file");
const ver = load<u8>(x, 6);
const hl = ver == 1 ? <i32>load<u16>(x, 8) : <i32>load<u32>(x, 8);
const h0 = ver == 1 ? 10 : 12;
if (h0 + hl > xLen) bad("truncated .npy header");
const dict = String.UTF8.decodeUnsafe(x + h0, hl);
function field(key: string): string {
  const i = dict.indexOf("'" + key + "':");
  if (i < 0) return "";
  let j = i + key.length + 3;
  while (j < dict.length && dict.charAt(j) == " ") j++;
  if (dict.charAt(j) == "'") {
    const e = dict.indexOf("'", j + 1);
    return e < 0 ? "" : dict.slice(j + 1, e);
  }
  if (dict.charAt(j) == "(") {
    const e = dict.indexOf(")", j);
    return e < 0 ? "" : dict.slice(j + 1, e);
  }
  return dict.slice(j, j + 5);
}
const descr = field("descr");
const kind = descr == "<f4" ? 3 : descr == "|u1" ? 1 : descr == "|i1" ? 2 : 0;
if (!kind) bad("dtype " + descr.slice(0, 20) + ": expected float32 (pixels or a train), uint8 or int8 (a spike train)");
if (field("fortran_order") != "False") bad("a Fortran-order array: write it in C order");
const dims: i32[] = [];
const parts = field("shape").split(",");
for (let i = 0; i < parts.length; i++) {
  const t = parts[i].trim();
  if (!t.length) continue;
  let v: i64 = 0;
  for (let k = 0; k < t.length; k++) {
    const c = t.charCodeAt(k) - 48;
    if (c < 0 || c > 9 || v > 0x7fffffff) bad("shape (" + field("shape").slice(0, 40) + ") is not a shape");
    v = v * 10 + c;
  }
  dims.push(<i32>v);
}
const train = kind != 3 || dims.length == R + 2;
let fits = dims.length == R + (train ? 2 : 1) && dims[train ? 1 : 0] == B;
for (let i = 0; fits && i < R; i++) fits = dims[i + (train ? 2 : 1)] == inShape[i];
if (fits && train) fits = dims[0] >= 1 && dims[0] <= T;
if (!fits)
  bad((kind == 3 ? "float32" : descr == "|u1" ? "uint8" : "int8") + " array of shape " + showShape(dims) + " does not fit the plan: expected float32 [" +
    B.toString() + "," + showShape(inShape).slice(1) + " (pixel values), or uint8/int8/float32 [T," + B.toString() + "," + showShape(inShape).slice(1) +
    " with T at most " + T.toString() + " (spikes per step)");
const count = train ? dims[0] * B * N : B * N;
const item = kind == 3 ? 4 : 1;
if (h0 + hl + count * item != xLen) bad("data is " + (xLen - h0 - hl).toString() + " bytes, expected " + (count * item).toString() + " for shape " + showShape(dims));
// the input goes into the plan's input window, which the core widens to float32 in place
memory.copy(sl_input(), x + h0 + hl, <usize>(count * item));
const e1 = sl_set_input(train ? kind : 0, sl_input(), count, <u32>seed);
if (e1) bad(ERRORS[e1]);
const steps = train ? dims[0] : T;
const e2 = sl_run(steps);
if (e2) die(3, planPath + ": the run failed: " + ERRORS[e2]);

// ----- the outputs -----
const outFd = dirOf(outDir);
if (outFd < 0) die(3, outDir + ": cannot write output here: " + why(-1000));
const e3 = path_create_directory(<u32>outFd, changetype<usize>(String.UTF8.encode(rel)), String.UTF8.byteLength(rel));
if (e3 != 0 && e3 != 20) die(3, outDir + ": cannot write output here: " + why(-<i32>e3));
const base = outDir.endsWith("/") ? outDir : outDir + "/";
writeFile(base + "output.npy", npyHeader("<f4", [B, K]), sl_scores(), B * K * 4);
const signed = train ? kind == 2 : hw(9) == 2;
for (let i = 0; i < M; i++) {
  const q = H + <usize>(128 + i * 64);
  const okind = load<i32>(q), n = load<i32>(q, 8), rank = load<i32>(q, 12);
  const name = String.UTF8.decodeUnsafe(H + <usize>load<i32>(q, 28), <usize>load<i32>(q, 32));
  if (name.includes("/") || name.includes("\\") || name.startsWith(".")) die(3, planPath + ": output \"" + name.slice(0, 40) + "\" is not a file name");
  const shape: i32[] = [steps, B];
  for (let k = 0; k < rank; k++) shape.push(load<i32>(q + 16 + <usize>(k * 4)));
  const total = steps * n;
  const win = sl_output(i);
  if (okind == 2 || (okind == 3 && kind == 3 && train)) {
    writeFile(base + name + (okind == 2 ? ".sam.npy" : ".spikes.npy"), npyHeader("<f4", shape), win, total * 4);
    continue;
  }
  // spikes: uint8 (int8 for signed input spikes), from the window's float32 0/1 (-1/0/1)
  const buf = heap.alloc(<usize>total);
  for (let k = 0; k < total; k++) store<i8>(buf + <usize>k, <i8>load<f32>(win + (<usize>k << 2)));
  writeFile(base + name + ".spikes.npy", npyHeader(okind == 3 && signed ? "|i1" : "|u1", shape), buf, total);
}
