// The contract every CLI call keeps, whatever its input: exit 0, 2 or 3; on failure one short stderr line and no stack;
// no hang; bounded memory; a failed command changes no file; a successful one leaves no temporary files.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';

export const LIMITS = { messageChars: 300, memoryMb: 1024, smallInputBytes: 1 << 20 };

/** Every entry under `dir` (not following links): path -> a fingerprint of its type, size and content. */
export function snapshot(dir) {
  const out = new Map();
  const walk = (d, rel) => {
    let names;
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) out.set(r, `link:${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(r, 'dir');
        walk(p, r);
      } else if (st.isFile()) {
        const hash = st.size <= 64 << 20 ? createHash('sha1').update(readFileSync(p)).digest('hex').slice(0, 12) : `mtime ${st.mtimeMs}`;
        out.set(r, `file:${st.size}:${hash}`);
      } else out.set(r, 'special');
    }
  };
  walk(dir, '');
  return out;
}

function diff(before, after) {
  const added = [];
  const removed = [];
  const changed = [];
  for (const [k, v] of after) {
    if (!before.has(k)) added.push(k);
    else if (before.get(k) !== v) changed.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) removed.push(k);
  return { added, removed, changed };
}

const STACK = /^\s+at\s.+(\(.*:\d+:\d+\)|:\d+:\d+|<anonymous>|native)\s*$/m;
const temporary = (path) => path.split('/').some((part) => (part.startsWith('.') && part !== '.' && part !== '..') || /\.tmp$|staging|\.partial$/i.test(part));

const short = (s, n = 160) => (s.length > n ? `${s.slice(0, n)}...(${s.length} chars)` : s);

/**
 * The violations of one case: [{ cls, detail }]. `cls` names the class (for the summary); `detail` says what was seen.
 */
export function violations(c, r, { before, after, inputBytes }) {
  const v = [];
  const add = (cls, detail) => v.push({ cls, detail });
  const small = inputBytes < LIMITS.smallInputBytes;
  if (r.kind === 'hang') add(c.heavy ? 'hang (a valid heavy request)' : 'hang', `no exit within ${Math.round(r.ms / 1000)} s (resident memory had reached ${r.peakMb} MiB)${r.raw ? `; stderr: ${short(r.raw.trim(), 300)}` : ''}`);
  else if (r.kind === 'memory-kill') add(small ? 'memory' : 'memory (input of 1 MB or more)', `killed: ${r.detail} (input ${inputBytes} bytes)`);
  else if (r.kind === 'harness-error') add('harness error', r.detail);
  else if (r.kind === 'crash') add('crash', `the process died (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`}): ${short((r.raw ?? '').trim().split('\n').slice(-3).join(' | '), 300)}`);
  if (r.kind !== 'done') return v;

  const failed = r.code !== 0;
  if (r.rejected) add('main() rejected', short(r.rejected.split('\n')[0], 300));
  if (r.code === 1) add('exit 1', r.err[0] ?? '(no stderr)');
  else if (![0, 2, 3].includes(r.code) && !r.rejected) add(`exit ${r.code}`, r.err[0] ?? '(no stderr)');
  for (const u of r.uncaught ?? []) add('uncaught error', short(u.split('\n')[0], 300));
  for (const l of r.lingering ?? []) if (!c.mode?.startsWith('epipe')) add('handle left open (a real process would not exit)', l);
  if (r.stray?.stderr) add('stderr written past io', short(r.stray.stderr.trim(), 200));
  if (r.stray?.stdout) add('stdout written past io', short(r.stray.stdout.trim(), 200));
  if (r.rawOutput && r.rawOutput.trim()) add('raw output from the process', short(r.rawOutput.trim(), 200));

  const errText = r.err.join('\n');
  if (STACK.test(errText)) add('stack trace on stderr', short(r.err.find((l) => STACK.test(l)) ?? r.err[0], 200));
  if (failed) {
    if (r.errLines === 0) add('no message on failure', `exit ${r.code}`);
    else if (r.errLines > 1) {
      const warnings = r.err.filter((l) => l.startsWith('warning:')).length;
      add(warnings && warnings === r.errLines - 1 ? 'warning lines before the error' : 'several stderr lines on failure', `${r.errLines} lines: ${short(r.err.slice(0, 3).join(' | '), 240)}`);
    }
  } else if (r.err.some((l) => !l.startsWith('warning:'))) add('stderr on success', short(r.err.find((l) => !l.startsWith('warning:')), 200));
  for (const l of r.err) {
    if (l.length >= LIMITS.messageChars) {
      add('stderr line of 300+ characters', `${l.length >= 5000 ? '5000+' : l.length} chars: ${short(l, 120)}`);
      break;
    }
  }
  if (r.peakMb > LIMITS.memoryMb) add(small ? 'memory' : 'memory (input of 1 MB or more)', `peak resident ${r.peakMb} MiB (process at ${r.baseMb} MiB before; input ${inputBytes} bytes)`);

  const d = diff(before, after);
  if (failed && !c.mode?.startsWith('epipe')) {
    const touched = [...d.added.map((p) => `+${p}`), ...d.removed.map((p) => `-${p}`), ...d.changed.map((p) => `~${p}`)];
    if (touched.length) add('partial output after a failure', short(touched.slice(0, 6).join(' '), 240));
  } else {
    const left = d.added.filter((p) => temporary(p) && !basename(p).startsWith('.fuzz'));
    if (left.length) add('temporary files left after success', short(left.slice(0, 4).join(' '), 240));
  }
  return v;
}

/** A message with its particulars (paths, numbers, quoted names) replaced, for grouping. */
export function pattern(message, caseDir) {
  let m = message ?? '';
  if (caseDir) m = m.split(caseDir).join('CASE');
  return m
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'(?:[^'\\]|\\.){1,80}'/g, "'…'")
    .replace(/\[[\d,\s-]*\]/g, '[…]')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N')
    .replace(/\b[\w.-]+\.(safetensors|npy|png|nir|json)\b/g, 'FILE')
    .replace(/\s+/g, ' ')
    .slice(0, 140);
}
