import { sl_header, sl_input, sl_load, sl_output, sl_run, sl_scores, sl_set_input } from "./slplan";

// The harness module (build/harness.wasm; scripts/harness.mjs): the core's kernels and plan loader with one export,
// `run`, for engines with no WASI and no host functions (wabt's wasm-interp). scripts/harness.mjs adds one data
// segment at DATA: [plan bytes, input bytes, input kind, input values, seed, steps, 0, 0] as u32, then the plan
// (at DATA + 32) and the input (16-aligned after it). `run` loads the plan, sets the input, runs it, and returns the
// FNV-1a 64 hash of the scores and of every output window (steps frames each) as float32 bytes, in the header's
// order; or minus an error code.
const DATA: usize = 0x100000;

function fnv(h: u64, p: usize, n: usize): u64 {
  for (let i: usize = 0; i < n; i++) h = (h ^ <u64>load<u8>(p + i)) * 0x100000001b3;
  return h;
}

export function run(): i64 {
  const planLen = load<u32>(DATA), inputBytes = load<u32>(DATA, 4), kind = load<i32>(DATA, 8), count = load<i32>(DATA, 12);
  const seed = load<u32>(DATA, 16), steps = load<i32>(DATA, 20);
  const plan = DATA + 32, input = plan + ((<usize>planLen + 15) & ~15);
  const arena = (input + <usize>inputBytes + 65535) & ~65535;
  const need = load<i32>(plan, 12); // header word 3: arena bytes
  const pages = <i32>((arena + <usize>need + 65535) >> 16) - memory.size();
  if (need < 0 || (pages > 0 && memory.grow(pages) < 0)) return -17;
  let e = sl_load(plan, planLen, arena);
  if (e) return -e;
  memory.copy(sl_input(), input, inputBytes);
  e = sl_set_input(kind, sl_input(), count, seed);
  if (e) return -e;
  e = sl_run(steps);
  if (e) return -e;
  const H = sl_header();
  const B = load<i32>(H, 28), K = load<i32>(H, 104), M = load<i32>(H, 112);
  let h: u64 = 0xcbf29ce484222325;
  h = fnv(h, sl_scores(), <usize>(B * K) << 2);
  for (let i = 0; i < M; i++) h = fnv(h, sl_output(i), <usize>(steps * load<i32>(H + <usize>(128 + i * 64), 8)) << 2);
  return <i64>h;
}
