// Running cases: a pool of long-lived child processes (runner.mjs) with a wall limit, a V8 heap limit and a resident
// memory watch per case (VmHWM reset through /proc/<pid>/clear_refs before each case), restarted when a case hangs,
// crashes or is killed for memory; and single real processes of the bin for what needs one (a closed stdout).
import { fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CLI_BIN, CLI_MAIN } from './bases.mjs';

const RUNNER = join(fileURLToPath(import.meta.url), '..', 'runner.mjs');

/** VmRSS and VmHWM of a process in MiB, or null when it is gone. */
export function memoryOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Watches a process's memory while a case runs; calls `kill` past `killMb`. */
function watch(pid, killMb, onKill) {
  let peak = 0;
  const timer = setInterval(() => {
    const m = memoryOf(pid);
    if (!m) return;
    peak = Math.max(peak, m.rss, m.hwm);
    if (m.rss > killMb) onKill(m.rss);
  }, 40);
  return {
    stop() {
      clearInterval(timer);
      const m = memoryOf(pid);
      if (m) peak = Math.max(peak, m.hwm);
      return peak;
    },
  };
}

export class Pool {
  constructor({ size = 2, heapMb = 2048, wallMs = 20_000, killMb = 2048, recycleMb = 400, recycleCases = 400, mainFile = CLI_MAIN, onLate = () => {} } = {}) {
    Object.assign(this, { size, heapMb, wallMs, killMb, recycleMb, recycleCases, mainFile, onLate });
    this.workers = [];
    this.queue = [];
    this.nextId = 1;
    this.restarts = 0;
  }

  async start() {
    this.workers = await Promise.all(Array.from({ length: this.size }, () => this.spawnWorker()));
  }

  spawnWorker() {
    const child = fork(RUNNER, [this.mainFile], {
      execArgv: [`--max-old-space-size=${this.heapMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const w = { child, pid: child.pid, busy: false, cases: 0, raw: '', job: null, dead: false };
    const keep = (chunk) => {
      w.raw = (w.raw + chunk.toString('utf8')).slice(-4000);
      if (w.job) w.job.raw += chunk.toString('utf8').slice(0, 4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('message', (m) => {
      if (m.type === 'late') this.onLate(m.id, m.what);
      else if (m.type === 'done' && w.job && w.job.id === m.id) w.job.finish({ kind: 'done', ...m });
    });
    child.on('exit', (code, signal) => {
      w.dead = true;
      if (w.job) w.job.finish({ kind: 'crash', exitCode: code, signal });
    });
    return new Promise((resolve, reject) => {
      const onMsg = (m) => {
        if (m.type !== 'ready') return;
        child.off('message', onMsg);
        resolve(w);
      };
      child.on('message', onMsg);
      child.once('exit', (code) => reject(new Error(`runner exited with ${code} before it was ready: ${w.raw}`)));
    });
  }

  /** Runs `argv` in folder `cwd`; resolves with the result and the peak memory of the case. */
  run(argv, cwd) {
    return new Promise((resolve) => {
      this.queue.push({ argv, cwd, resolve });
      this.dispatch();
    });
  }

  dispatch() {
    if (this.workers.every((w) => w.dead)) {
      // No runner could be started again: every waiting case is a harness failure, not a CLI one.
      for (const task of this.queue.splice(0)) task.resolve({ kind: 'harness-error', detail: `the runner could not be restarted: ${this.broken}` });
      return;
    }
    for (const w of this.workers) {
      if (!this.queue.length) return;
      if (w.busy || w.dead) continue;
      const task = this.queue.shift();
      this.runOn(w, task);
    }
  }

  async replace(w, kill) {
    const i = this.workers.indexOf(w);
    if (kill && !w.dead) {
      w.child.kill('SIGKILL');
      await new Promise((r) => (w.dead ? r() : w.child.once('exit', r)));
    }
    this.restarts++;
    // The CLI's build can be missing for a moment (a rebuild in progress): try for a while before giving up.
    for (let attempt = 0; ; attempt++) {
      try {
        const fresh = await this.spawnWorker();
        this.workers[i] = fresh;
        return fresh;
      } catch (err) {
        if (attempt >= 6) {
          this.broken = String(err?.message ?? err).split('\n')[0].slice(0, 300);
          const dead = { dead: true, busy: false, cases: 0 };
          this.workers[i] = dead;
          return dead;
        }
        await new Promise((r) => setTimeout(r, 1000 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  runOn(w, task) {
    w.busy = true;
    w.cases++;
    const id = this.nextId++;
    const base = memoryOf(w.pid);
    resetPeak(w.pid);
    const t0 = performance.now();
    let killedFor = null;
    const mem = watch(w.pid, this.killMb, (mb) => {
      if (killedFor) return;
      killedFor = `resident memory ${Math.round(mb)} MiB`;
      w.child.kill('SIGKILL');
    });
    // When this process was busy (building a big case) the timer fires late: the check phase after the poll phase
    // lets a result that is already waiting in the pipe arrive first.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (killedFor || w.job !== job) return;
          killedFor = 'wall';
          w.child.kill('SIGKILL');
        }),
      this.wallMs,
    );
    const job = {
      id,
      raw: '',
      finish: async (r) => {
        if (w.job !== job) return;
        w.job = null;
        clearTimeout(timer);
        const peakMb = mem.stop();
        const ms = performance.now() - t0;
        let result;
        if (killedFor === 'wall') result = { kind: 'hang', ms };
        else if (killedFor) result = { kind: 'memory-kill', detail: killedFor, ms };
        else if (r.kind === 'crash') result = { kind: 'crash', exitCode: r.exitCode, signal: r.signal, ms, raw: w.raw.slice(-1500) };
        else result = { ...r, wallMs: ms };
        result.peakMb = Math.round(peakMb);
        result.baseMb = Math.round(base?.rss ?? 0);
        result.rawOutput = job.raw;
        result.id = id;
        let worker = w;
        if (result.kind !== 'done') worker = await this.replace(w, true);
        else {
          const now = memoryOf(w.pid);
          if ((now && now.rss > this.recycleMb) || w.cases >= this.recycleCases) worker = await this.replace(w, true);
        }
        worker.busy = false;
        task.resolve(result);
        this.dispatch();
      },
    };
    w.job = job;
    w.child.send({ type: 'case', id, argv: task.argv, cwd: task.cwd });
  }

  async stop() {
    await Promise.all(
      this.workers.filter((w) => w.child).map(
        (w) =>
          new Promise((r) => {
            if (w.dead) return r();
            w.child.once('exit', r);
            w.child.kill('SIGKILL');
          }),
      ),
    );
  }
}

/**
 * Runs the bin as a real process in `cwd`. `stdout`: 'keep' reads it all, 'closed' closes it before the process
 * writes, 'head' closes it after the first line (`| head -1`).
 */
export function runBin(argv, cwd, { wallMs = 20_000, killMb = 2048, stdout = 'keep', heapMb, bin = CLI_BIN } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...(heapMb ? [`--max-old-space-size=${heapMb}`] : []), bin, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let killedFor = null;
    if (stdout === 'closed') child.stdout.destroy();
    else
      child.stdout.on('data', (d) => {
        out += d.toString('utf8');
        if (out.length > 1e6) out = out.slice(0, 1e6);
        if (stdout === 'head' && out.includes('\n')) child.stdout.destroy();
      });
    child.stderr.on('data', (d) => {
      if (err.length < 1e6) err += d.toString('utf8');
    });
    const mem = watch(child.pid, killMb, (mb) => {
      if (killedFor) return;
      killedFor = `resident memory ${Math.round(mb)} MiB`;
      child.kill('SIGKILL');
    });
    let closed = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (closed || killedFor) return;
          killedFor = 'wall';
          child.kill('SIGKILL');
        }),
      wallMs,
    );
    child.on('close', (code, signal) => {
      closed = true;
      clearTimeout(timer);
      const peakMb = Math.round(mem.stop());
      const ms = performance.now() - t0;
      const lines = (s) => (s.length === 0 ? [] : s.replace(/\n$/, '').split('\n'));
      if (killedFor === 'wall') return resolve({ kind: 'hang', ms, peakMb, raw: err.slice(-1500) });
      if (killedFor) return resolve({ kind: 'memory-kill', detail: killedFor, ms, peakMb });
      if (signal) return resolve({ kind: 'crash', signal, exitCode: code, ms, peakMb, raw: err.slice(-1500) });
      const errLines = lines(err);
      resolve({ kind: 'done', code, out: lines(out).slice(0, 200), outLines: lines(out).length, err: errLines.slice(0, 50), errLines: errLines.length, stray: { stdout: '', stderr: '' }, uncaught: [], lingering: [], wallMs: ms, peakMb, real: true });
    });
  });
}
