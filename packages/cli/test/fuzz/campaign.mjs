// A fuzzing campaign: cases `start .. start+cases-1` of seed `seed`, each built in its own folder, run, checked against
// the contract, and (on failure) written again as a reproducer; a summary grouped by class at the end.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN } from './bases.mjs';
import { fileURLToPath } from 'node:url';
import { FAMILIES, caseAt, materialize } from './cases.mjs';

export { epipeCases } from './cases.mjs';

/** A main() that breaks the contract on request, to check that the harness notices. */
export const STUB_MAIN = join(fileURLToPath(import.meta.url), '..', 'stub-main.mjs');
import { pattern, snapshot, violations } from './contract.mjs';
import { Pool, runBin } from './pool.mjs';

const sizeOfFiles = (dir, files) =>
  files.reduce((a, f) => {
    try {
      const st = statSync(join(dir, f.path));
      return a + (st.isFile() ? st.size : 0);
    } catch {
      return a;
    }
  }, 0);

const shellQuote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command that reruns a case from its folder. */
export const commandLine = (argv) => `node ${CLI_BIN} ${argv.map(shellQuote).join(' ')}`;

/** Writes case `c` again into `dir` with its argv, a script to rerun it and what was seen. */
export async function writeReproducer(c, dir, record) {
  rmSync(dir, { recursive: true, force: true });
  await materialize(c, dir);
  const script = `#!/bin/sh\n# spikelens fuzz: seed ${c.seed}, case ${c.index} (${c.family})\ncd "$(dirname "$0")" && exec ${commandLine(c.argv)}\n`;
  writeFileSync(join(dir, '.fuzz-repro.sh'), script, { mode: 0o755 });
  writeFileSync(join(dir, '.fuzz-case.json'), JSON.stringify({ seed: c.seed, index: c.index, family: c.family, what: c.what, argv: c.argv, mode: c.mode, result: record.result, violations: record.violations }, null, 2) + '\n');
}

/**
 * Runs a campaign. Options: seed, cases, start, families (a subset of FAMILIES), workers, wallMs, killMb, heapMb,
 * binEvery (every n-th pool case runs as a real process instead), quick (no slow cases), mainFile and binFile (another
 * build of the CLI), workDir, reproDir (failures are written there),
 * log(line), onCase(record).
 */
export async function campaign(o) {
  const seed = o.seed ?? 1;
  const count = o.cases ?? 100;
  const start = o.start ?? 0;
  const workers = o.workers ?? 2;
  const wallMs = o.wallMs ?? 20_000;
  const killMb = o.killMb ?? 2048;
  const families = o.families ? Object.fromEntries(Object.entries(FAMILIES).filter(([k]) => o.families.includes(k))) : FAMILIES;
  const ownWork = !o.workDir;
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'spikelens-fuzz-'));
  const casesDir = join(workDir, 'cases');
  mkdirSync(casesDir, { recursive: true });
  const log = o.log ?? (() => {});
  const records = [];
  const byId = new Map();
  const pool = new Pool({
    size: workers,
    wallMs,
    killMb,
    heapMb: o.heapMb ?? 2048,
    ...(o.mainFile ? { mainFile: o.mainFile } : {}),
    onLate: (id, what) => {
      const rec = byId.get(id);
      if (rec) {
        rec.violations.push({ cls: 'error after the command ended', detail: what.split('\n')[0].slice(0, 300) });
        rec.late = true;
      }
    },
  });
  await pool.start();
  const t0 = performance.now();
  let next = start;
  const end = start + count;

  const one = async (index) => {
    const c = o.caseAt ? o.caseAt(index) : caseAt(seed, index, families, { quick: !!o.quick });
    if (o.binEvery && c.mode === 'pool' && !c.hangProne && index % o.binEvery === o.binEvery - 1) c.mode = 'bin';
    const dir = join(casesDir, `c${index}`);
    let record;
    try {
      await materialize(c, dir);
    } catch (err) {
      record = { index, family: c.family, what: c.what, argv: c.argv, mode: c.mode, result: null, violations: [{ cls: 'harness: could not build the case', detail: String(err?.message ?? err).slice(0, 300) }] };
      records.push(record);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const inputBytes = sizeOfFiles(dir, c.files);
    const before = snapshot(dir);
    let r;
    if (c.mode === 'pool') r = await pool.run(c.argv, dir);
    else r = await runBin(c.argv, dir, { wallMs, killMb, ...(o.binFile ? { bin: o.binFile } : {}), stdout: c.mode === 'epipe-closed' ? 'closed' : c.mode === 'epipe-head' ? 'head' : 'keep' });
    const after = snapshot(dir);
    const v = violations(c, r, { before, after, inputBytes });
    // Hangs, memory and crashes group by what was asked (the command and the family), the rest by message.
    const command = c.argv.find((a) => !a.startsWith('-')) ?? c.argv[0] ?? '';
    for (const x of v) x.pattern = /^(hang|memory|crash)/.test(x.cls) ? `${command.length > 20 ? 'other' : command} (${c.family})` : pattern(x.detail, dir);
    record = {
      index,
      family: c.family,
      what: c.what,
      argv: c.argv,
      mode: c.mode,
      heavy: !!c.heavy,
      inputBytes,
      result: { kind: r.kind, code: r.code, err: (r.err ?? []).slice(0, 3).map((l) => l.slice(0, 400)), errLines: r.errLines, ms: Math.round(r.wallMs ?? r.ms ?? 0), peakMb: r.peakMb },
      violations: v,
      c,
    };
    if (r.id !== undefined) byId.set(r.id, record);
    records.push(record);
    o.onCase?.(record);
    rmSync(dir, { recursive: true, force: true });
  };

  const workersLoop = async () => {
    while (next < end) {
      const i = next++;
      await one(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: workers + 1 }, workersLoop));
  } finally {
    await pool.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  // Anything a case wrote outside its own folder (a layer name like "../x" would).
  const strays = readdirSync(casesDir);
  records.sort((a, b) => a.index - b.index);
  const failures = records.filter((r) => r.violations.length > 0);
  if (o.reproDir) {
    for (const f of failures) await writeReproducer(f.c, join(o.reproDir, `seed-${seed}-case-${f.index}`), f);
  }
  if (ownWork && !o.keepWork) rmSync(workDir, { recursive: true, force: true });
  log(`ran ${records.length} cases in ${seconds.toFixed(1)} s; ${failures.length} with violations; ${pool.restarts} runner restarts`);
  return { seed, start, count, seconds, records, failures, strays, restarts: pool.restarts, workDir };
}

/**
 * Runs a failing case again, alone, as a real process with a longer wall: how long it really takes (a hang on a
 * loaded machine may be a slow case), its exit code and peak memory.
 */
export async function recheck(record, { wallMs = 60_000, killMb = 4096, binFile } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'spikelens-fuzz-recheck-'));
  try {
    await materialize(record.c, dir);
    const r = await runBin(record.c.argv, dir, { wallMs, killMb, ...(binFile ? { bin: binFile } : {}) });
    return { kind: r.kind, code: r.code, seconds: (r.wallMs ?? r.ms) / 1000, peakMb: r.peakMb, err: r.err?.[0] ?? r.detail ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line on a recheck's outcome. */
export function describeRecheck(x, wallSeconds) {
  const took = x.kind === 'hang' ? `still running after ${wallSeconds} s` : x.kind === 'memory-kill' ? `killed: ${x.err}` : `exit ${x.code} after ${x.seconds.toFixed(1)} s`;
  return `alone: ${took}, peak ${x.peakMb} MiB${x.kind === 'done' && x.err ? `: ${x.err.slice(0, 160)}` : ''}`;
}

/** Failures grouped by class and message pattern, most frequent first, each with its first case. */
export function summarize(result) {
  const groups = new Map();
  for (const r of result.failures) {
    const seen = new Set();
    for (const v of r.violations) {
      const key = `${v.cls} :: ${v.pattern}`;
      if (seen.has(key)) continue;
      seen.add(key);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { cls: v.cls, pattern: v.pattern, count: 0, families: {}, first: r, detail: v.detail, cases: [] }));
      g.count++;
      g.cases.push(r.index);
      g.families[r.family] = (g.families[r.family] ?? 0) + 1;
    }
  }
  const byClass = new Map();
  for (const g of groups.values()) {
    const c = byClass.get(g.cls) ?? { cls: g.cls, cases: 0, groups: [] };
    c.groups.push(g);
    byClass.set(g.cls, c);
  }
  for (const c of byClass.values()) {
    c.cases = result.failures.filter((r) => r.violations.some((v) => v.cls === c.cls)).length;
    c.groups.sort((a, b) => b.count - a.count);
  }
  return [...byClass.values()].sort((a, b) => b.cases - a.cases);
}

/** A readable report of a campaign's failures; `reproDir` given when reproducers were written. */
export function report(result, { reproDir, maxGroups = 12 } = {}) {
  const lines = [];
  const famCount = {};
  for (const r of result.records) famCount[r.family] = (famCount[r.family] ?? 0) + 1;
  lines.push(`seed ${result.seed}, cases ${result.start}..${result.start + result.count - 1}: ${result.records.length} run in ${result.seconds.toFixed(1)} s, ${result.failures.length} with violations`);
  lines.push(`cases by family: ${Object.entries(famCount).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (result.strays.some((s) => !/^c\d+$/.test(s))) lines.push(`files written outside their case folder: ${result.strays.filter((s) => !/^c\d+$/.test(s)).join(', ')}`);
  for (const c of summarize(result)) {
    lines.push('');
    lines.push(`== ${c.cls}: ${c.cases} cases`);
    for (const g of c.groups.slice(0, maxGroups)) {
      const r = g.first;
      lines.push(`  ${g.count} x  ${g.pattern || '(no message)'}   [${Object.entries(g.families).map(([k, v]) => `${k} ${v}`).join(', ')}]`);
      lines.push(`      e.g. case ${r.index} (${r.what.slice(0, 4).join('; ').slice(0, 200)})${g.cases.length > 1 ? `; also cases ${g.cases.slice(1, 9).join(', ')}${g.cases.length > 9 ? ', ...' : ''}` : ''}`);
      lines.push(`      seen: ${g.detail.slice(0, 300)}`);
      if (r.recheck) lines.push(`      ${describeRecheck(r.recheck, Math.round(r.recheck.wallSeconds ?? 0))}`);
      if (reproDir) lines.push(`      rerun: sh ${join(reproDir, `seed-${result.seed}-case-${r.index}`, '.fuzz-repro.sh')}`);
      else lines.push(`      argv: ${r.argv.map((a) => (a.length > 60 ? `${a.slice(0, 40)}...(${a.length} chars)` : a)).map((a) => JSON.stringify(a)).join(' ')}`);
    }
    if (c.groups.length > maxGroups) lines.push(`  ... and ${c.groups.length - maxGroups} more patterns`);
  }
  return lines.join('\n');
}
