#!/usr/bin/env node
// `pnpm fuzz -- [options]`: a longer fuzzing campaign against the built CLI (packages/cli/dist). See docs/fuzzing.md.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_MAIN } from '../test/fuzz/bases.mjs';
import { campaign, commandLine, describeRecheck, recheck, report, writeReproducer } from '../test/fuzz/campaign.mjs';
import { FAMILIES, caseAt } from '../test/fuzz/cases.mjs';
import { snapshotBuild } from '../test/fuzz/snapshot-build.mjs';

const HELP = `Usage: pnpm fuzz -- [options]

  --cases N        number of cases (default 1000)
  --seed S         campaign seed (default: random; printed at the start)
  --start I        first case index (default 0)
  --case I         run case I alone and print it in full (with --seed)
  --families A,B   only these families: ${Object.keys(FAMILIES).join(', ')}
  --workers W      child processes running cases (default 2)
  --wall S         seconds a case may take before it is a hang (default 20)
  --kill-mb M      resident MiB at which a case is killed (default 2048)
  --bin-every N    every N-th case runs as a real process of the bin (default 20; 0 = never)
  --repro DIR      where reproducers of failing cases go (default $TMPDIR/spikelens-fuzz-<seed>)
  --json FILE      also write every case's record as JSON lines
  --quick          leave out slow cases (big valid inputs, long valid runs, datasets), as CI does
  --snapshot       run a frozen copy of the current build (for a tree that is being rebuilt meanwhile)
  --recheck S      afterwards, rerun each hang and memory failure alone with a wall of S seconds (default 60; 0 = no)
  --list           print the cases without running them`;

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    cases: { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string' },
    case: { type: 'string' },
    families: { type: 'string' },
    workers: { type: 'string' },
    wall: { type: 'string' },
    'kill-mb': { type: 'string' },
    'bin-every': { type: 'string' },
    repro: { type: 'string' },
    json: { type: 'string' },
    list: { type: 'boolean' },
    quick: { type: 'boolean' },
    snapshot: { type: 'boolean' },
    recheck: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
if (!existsSync(CLI_MAIN)) {
  console.error(`fuzz: ${CLI_MAIN} is missing: build first (pnpm build)`);
  process.exit(2);
}

const seed = values.seed !== undefined ? Number(values.seed) | 0 : (Math.random() * 2 ** 31) | 0;
const families = values.families?.split(',');
for (const f of families ?? []) if (!FAMILIES[f]) throw new Error(`unknown family ${f}`);
const chosen = families ? Object.fromEntries(Object.entries(FAMILIES).filter(([k]) => families.includes(k))) : FAMILIES;
const reproDir = values.repro ?? join(tmpdir(), `spikelens-fuzz-${seed}`);
console.log(`spikelens fuzz: seed ${seed}`);

if (values.list) {
  const start = Number(values.start ?? 0);
  for (let i = start; i < start + Number(values.cases ?? 20); i++) {
    const c = caseAt(seed, i, chosen, { quick: !!values.quick });
    console.log(`${i} [${c.family}] ${c.what.join('; ').slice(0, 200)}\n    ${commandLine(c.argv).slice(0, 300)}`);
  }
  process.exit(0);
}

let build = {};
if (values.snapshot) {
  const snap = await snapshotBuild(join(tmpdir(), `spikelens-fuzz-build-${seed}`));
  console.log(`running a copy of the build in ${snap.dir}`);
  build = { mainFile: snap.main, binFile: snap.bin };
}

const options = {
  ...build,
  seed,
  workers: Number(values.workers ?? 2),
  wallMs: Number(values.wall ?? 20) * 1000,
  killMb: Number(values['kill-mb'] ?? 2048),
  binEvery: Number(values['bin-every'] ?? 20),
  families,
  quick: !!values.quick,
};

if (values.case !== undefined) {
  const index = Number(values.case);
  const result = await campaign({ ...options, start: index, cases: 1, workers: 1, binEvery: 0 });
  const r = result.records[0];
  const dir = join(reproDir, `seed-${seed}-case-${index}`);
  mkdirSync(reproDir, { recursive: true });
  await writeReproducer(r.c, dir, r);
  console.log(JSON.stringify({ index, family: r.family, what: r.what, argv: r.argv, result: r.result, violations: r.violations }, null, 2));
  console.log(`files in ${dir}; rerun: sh ${join(dir, '.fuzz-repro.sh')}`);
  process.exit(r.violations.length ? 1 : 0);
}

const cases = Number(values.cases ?? 1000);
let done = 0;
let failed = 0;
const jsonLines = [];
const t0 = Date.now();
const result = await campaign({
  ...options,
  start: Number(values.start ?? 0),
  cases,
  reproDir,
  log: (l) => console.log(l),
  onCase: (r) => {
    done++;
    if (values.json) jsonLines.push(JSON.stringify({ index: r.index, family: r.family, what: r.what, argv: r.argv, mode: r.mode, result: r.result, violations: r.violations }));
    if (r.violations.length) {
      failed++;
      const v = r.violations[0];
      console.log(`FAIL case ${r.index} [${r.family}] ${v.cls}: ${v.detail.slice(0, 200)}${r.violations.length > 1 ? ` (+${r.violations.length - 1} more)` : ''}`);
      console.log(`     reproduce: pnpm fuzz -- --seed ${seed} --case ${r.index}   (writes the files to ${join(reproDir, `seed-${seed}-case-${r.index}`)})`);
    }
    if (done % 250 === 0) console.log(`... ${done}/${cases} cases, ${failed} failing, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  },
});
if (values.json) writeFileSync(values.json, jsonLines.join('\n') + '\n');
const recheckSeconds = Number(values.recheck ?? 60);
const heavy = result.failures.filter((r) => r.violations.some((v) => /^(hang|memory)/.test(v.cls)));
if (recheckSeconds > 0 && heavy.length) {
  console.log('');
  console.log(`rechecking ${heavy.length} hang and memory failures alone, one at a time, with a wall of ${recheckSeconds} s:`);
  for (const r of heavy) {
    const x = await recheck(r, { wallMs: recheckSeconds * 1000, binFile: build.binFile });
    r.recheck = { ...x, wallSeconds: recheckSeconds };
    console.log(`  case ${r.index} [${r.family}] ${r.violations[0].cls}: ${describeRecheck(x, recheckSeconds)}`);
  }
}
console.log('');
console.log(report(result, { reproDir }));
console.log('');
console.log(`seed ${seed}: reproducers of the ${result.failures.length} failing cases in ${reproDir}`);
process.exit(result.failures.length ? 1 : 0);
