// The fuzzing half of plan-fuzz.test.ts, in a worker thread so that the test can stop a run that hangs (a plan
// whose records make sl_run loop): mutated plan files, each loaded by a fresh instance of core.wasm with the core's
// own loader (sl_plan_bytes, sl_load), given a valid input and run a few steps. It posts its progress before every
// case ({ at }) and, at the end, the counts and every trap ({ done }).
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { wasm, plans, seed, cases, steps } = workerData;
const module = new WebAssembly.Module(readFileSync(wasm));

/** mulberry32: a small seeded PRNG, so a case is the same on every run (the seed and its index reproduce it). */
function prng(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where the plan's words are: the header, each segment's [offset, length] words, and the program's records' words. */
function layout(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = (i) => v.getInt32(i * 4, true);
  const base = w(4) >>> 0, hdr = w(5), prog = (w(19) >>> 0) - base;
  const segWords = [], segs = [];
  let s = hdr;
  for (let i = 0; i < w(6); i++) {
    const o = v.getUint32(s, true), n = v.getUint32(s + 4, true);
    segWords.push(s, s + 4);
    segs.push([o, n, s + 8]);
    s += 8 + Math.ceil(n / 4) * 4;
  }
  // the file offset of arena byte a, or -1 (a zero byte no segment holds); a segment starts at any byte
  const fileAt = (a) => {
    const g = segs.find(([o, n]) => o <= a && a < o + n);
    return g ? g[2] + (a - g[0]) : -1;
  };
  const arenaWord = (a) => [0, 1, 2, 3].reduce((x, k) => x | ((fileAt(a + k) < 0 ? 0 : bytes[fileAt(a + k)]) << (8 * k)), 0);
  const progWords = [];
  for (let r = prog; progWords.length < 4096;) {
    const op = arenaWord(r), n = arenaWord(r + 4);
    // the words wholly in a segment (a file word is four bytes of the arena in a row)
    for (let k = 0; k < n; k++) if (fileAt(r + 4 * k) >= 0 && fileAt(r + 4 * k + 3) === fileAt(r + 4 * k) + 3) progWords.push(fileAt(r + 4 * k));
    if (op === 0 || n < 2 || n > 64) break;
    r += 4 * n;
  }
  // the values of those words: other records' pointers and dimensions, to alias a buffer with another
  const progValues = progWords.map((at) => v.getInt32(at, true));
  return { hdr, arena: w(3), base, fileBytes: bytes.length, segWords, progWords, progValues };
}

const infos = plans.map((p) => ({ ...p, bytes: new Uint8Array(p.bytes), lay: layout(new Uint8Array(p.bytes)) }));

/** One mutated plan: the bytes and what was done to them. */
function mutate(rand, info) {
  const pick = (n) => Math.floor(rand() * n);
  let b = info.bytes.slice();
  const what = [];
  const rounds = 1 + (rand() < 0.3 ? pick(4) : 0);
  for (let k = 0; k < rounds; k++) {
    const m = rand();
    if (m < 0.25) {
      // a byte flipped (one bit, or all of it), mostly in the header and the program
      const at = rand() < 0.6 ? pick(Math.min(b.length, info.lay.hdr)) : pick(b.length);
      const x = rand() < 0.5 ? 1 << pick(8) : 1 + pick(255);
      b[at] ^= x;
      what.push(`flip byte ${at} ^ ${x}`);
    } else if (m < 0.8) {
      // a word overwritten with a boundary value: a header word, a segment's, or a program record's
      const r = rand();
      const at = r < 0.45 ? 4 * pick(info.lay.hdr / 4) : r < 0.6 && info.lay.segWords.length ? info.lay.segWords[pick(info.lay.segWords.length)]
        : r < 0.95 && info.lay.progWords.length ? info.lay.progWords[pick(info.lay.progWords.length)] : 4 * pick(b.length >> 2);
      if (at + 4 > b.length) continue;
      const dv = new DataView(b.buffer);
      const old = dv.getInt32(at, true);
      const values = [0, -1, 1, 0x7fffffff, -0x80000000, info.lay.arena, info.lay.arena + 1, info.lay.fileBytes, info.lay.base,
        info.lay.base + info.lay.arena, info.lay.base + info.lay.arena - 4, old + 1, old - 1, old + 4, old - 4, old * 2, 16, 64, 4096, 65536,
        0x01000000, 0x01000001, (rand() * 2 ** 32) | 0, ...Array.from({ length: 6 }, () => info.lay.progValues[pick(info.lay.progValues.length)] ?? 0)];
      const val = values[pick(values.length)];
      dv.setInt32(at, val, true);
      what.push(`word at ${at}: ${old} -> ${val | 0}`);
    } else if (m < 0.9) {
      // a splice: bytes cut out, or a run repeated
      const at = pick(b.length), n = Math.min(1 + pick(64), b.length - at);
      if (rand() < 0.5) {
        const c = new Uint8Array(b.length - n);
        c.set(b.subarray(0, at));
        c.set(b.subarray(at + n), at);
        b = c;
        what.push(`cut ${n} bytes at ${at}`);
      } else {
        const c = new Uint8Array(b.length + n);
        c.set(b.subarray(0, at + n));
        c.set(b.subarray(at), at + n);
        b = c;
        what.push(`repeat ${n} bytes at ${at}`);
      }
    } else {
      // a truncation (with the header's length fixed to match half the time, so the segments are what is checked)
      const len = pick(b.length);
      b = b.slice(0, len);
      if (rand() < 0.5 && len >= 12) new DataView(b.buffer).setInt32(8, len, true);
      what.push(`truncate to ${len}${len >= 12 && new DataView(b.buffer).getInt32(8, true) === len ? ' (length word fixed)' : ''}`);
    }
  }
  return { bytes: b, what: what.join('; ') };
}

const rand = prng(seed);
const counts = { cases: 0, loaded: 0, ran: 0, byCode: {}, runCodes: {}, maxMs: 0, maxCase: '' };
const traps = [];

/** Loads `bytes` (a mutation of plan `info`) into a fresh core; when it loads, runs it a few steps on a valid input. */
function runCase(info, bytes, desc, i) {
  parentPort.postMessage({ at: desc });
  const t0 = performance.now();
  try {
    const inst = new WebAssembly.Instance(module, {});
    const ex = inst.exports;
    const mem = ex.memory;
    const heap = ex.heap_base();
    const file = heap;
    const grow = (end) => {
      if (end > mem.buffer.byteLength) mem.grow(Math.ceil((end - mem.buffer.byteLength) / 65536));
    };
    grow(file + bytes.length + 64);
    new Uint8Array(mem.buffer).set(bytes, file);
    const need = ex.sl_plan_bytes(file, bytes.length);
    const arena = Math.ceil((file + bytes.length) / 64) * 64;
    // a plan asking for far more arena than it was compiled with gets the memory it has: the loader says 17
    if (need > 0 && need <= 4 * info.lay.arena + (1 << 20)) grow(arena + need);
    const e = ex.sl_load(file, bytes.length, arena);
    if (need < 0 && e !== -need) throw new Error(`sl_plan_bytes said ${need} but sl_load ${e}`);
    counts.cases++;
    if (e !== 0) {
      counts.byCode[e] = (counts.byCode[e] ?? 0) + 1;
    } else {
      counts.loaded++;
      // a valid input for what the loaded header says (pixels in [0, 1), or a train of 0/1 bytes)
      const H = ex.sl_header();
      const hv = new Int32Array(mem.buffer, H, 32);
      const B = hv[7], T = hv[8], N = hv[14];
      const kind = info.train ? 1 : 0;
      const count = kind ? Math.min(T, steps) * B * N : B * N;
      const win = ex.sl_input();
      // the loader keeps every window 4-aligned: a host reads them as float32
      for (const [name, p] of [['input', win], ['scores', ex.sl_scores()], ...Array.from({ length: hv[28] }, (_, o) => [`output ${o}`, ex.sl_output(o)])])
        if (p % 4) throw new Error(`${name} window at ${p}, not 4-aligned`);
      const size = kind ? 1 : 4;
      if (win + count * size <= mem.buffer.byteLength) {
        if (kind) {
          const u = new Uint8Array(mem.buffer, win, count);
          for (let k = 0; k < count; k++) u[k] = rand() < 0.3 ? 1 : 0;
        } else {
          const f = new Float32Array(mem.buffer, win, count);
          for (let k = 0; k < count; k++) f[k] = rand();
        }
      }
      const si = ex.sl_set_input(kind, win, count, i);
      if (si === 0) {
        const r = ex.sl_run(Math.min(T, steps));
        counts.ran++;
        counts.runCodes[r] = (counts.runCodes[r] ?? 0) + 1;
        if (r === 0) {
          // what a host reads next must stay inside the memory
          const end = mem.buffer.byteLength;
          if (ex.sl_scores() + 4 * B * hv[26] > end) throw new Error('scores outside the memory');
          for (let o = 0; o < hv[28]; o++) if (ex.sl_output(o) > end) throw new Error(`output ${o} outside the memory`);
        }
      } else counts.runCodes[`set_input ${si}`] = (counts.runCodes[`set_input ${si}`] ?? 0) + 1;
    }
  } catch (err) {
    traps.push({ desc, error: `${err?.constructor?.name}: ${err?.message}` });
  }
  const ms = performance.now() - t0;
  if (ms > counts.maxMs) {
    counts.maxMs = ms;
    counts.maxCase = desc;
  }
}

if (workerData.sweep) {
  // every word of every record (past op and length) of the given plans set to each boundary value in turn
  for (const info of infos) {
    const dv = new DataView(info.bytes.buffer, info.bytes.byteOffset, info.bytes.byteLength);
    for (const at of info.lay.progWords) {
      const old = dv.getInt32(at, true);
      for (const val of [0, 1, 2, -1, old + 1, old - 1, old * 2, 3, 15, 17, 4096, 65536, 0x01000000]) {
        if (val === old) continue;
        const b = info.bytes.slice();
        new DataView(b.buffer).setInt32(at, val, true);
        runCase(info, b, `sweep (${info.name}): word at ${at}: ${old} -> ${val}`, counts.cases);
      }
    }
  }
} else {
  for (let i = 0; i < cases; i++) {
    const info = infos[i % infos.length];
    const { bytes, what } = mutate(rand, info);
    runCase(info, bytes, `case ${i} (${info.name}): ${what}`, i);
  }
}
parentPort.postMessage({ done: { counts, traps } });
