// A long-lived child process that runs the CLI's `main(argv, io)` once per message, in the case's folder, and reports
// the exit code, the stdout and stderr lines, anything written to the real stdout/stderr around `io`, uncaught
// errors, and handles left behind that would keep a real process from exiting.
import { pathToFileURL } from 'node:url';

const mainFile = process.argv[2];
const { main } = await import(pathToFileURL(mainFile).href);

let current = null;
let lastId = null;

// Anything the library writes past `io` (console.log, emscripten's printErr) lands in the case's stray output.
for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]]) {
  stream.write = function (chunk, encoding, cb) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (current) current.stray[name] = (current.stray[name] + text).slice(0, 5000);
    else if (lastId !== null) process.send?.({ type: 'late', id: lastId, what: `${name} after the case ended: ${text.slice(0, 300)}` });
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => done());
    return true;
  };
}

const onError = (kind) => (err) => {
  const text = `${kind}: ${err?.stack ?? String(err)}`.slice(0, 2000);
  if (current) current.uncaught.push(text);
  else if (lastId !== null) process.send?.({ type: 'late', id: lastId, what: text });
};
process.on('uncaughtException', onError('uncaught exception'));
process.on('unhandledRejection', onError('unhandled rejection'));

const stderrStream = { isTTY: false, columns: 80, write: () => true, on: () => stderrStream, once: () => stderrStream, off: () => stderrStream, removeListener: () => stderrStream };

const countResources = () => {
  const counts = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
};

process.on('message', async (msg) => {
  if (msg.type !== 'case') return;
  const before = countResources();
  current = { id: msg.id, out: [], err: [], outLines: 0, errLines: 0, stray: { stdout: '', stderr: '' }, uncaught: [] };
  lastId = msg.id;
  const c = current;
  const io = {
    out: (l) => void (c.out.length < 200 ? c.out.push(String(l).slice(0, 1000)) : c.outLines++),
    err: (l) => void (c.err.length < 50 ? c.err.push(String(l).slice(0, 5000)) : c.errLines++),
    stderr: stderrStream,
  };
  const t0 = performance.now();
  let code = null;
  let rejected = null;
  try {
    process.chdir(msg.cwd);
    code = await main(msg.argv, io);
  } catch (err) {
    rejected = String(err?.stack ?? err).slice(0, 2000);
  }
  const ms = performance.now() - t0;
  // Let callbacks the command left queued run, then see what still holds the event loop open.
  // Closing a worker's port or a file takes a moment: only what is still open after a quarter second counts.
  let lingering = [];
  for (const wait of [5, 50, 200]) {
    await new Promise((r) => setTimeout(r, wait));
    await new Promise((r) => setImmediate(r));
    const after = countResources();
    lingering = [];
    for (const [k, n] of Object.entries(after)) if (n > (before[k] ?? 0)) lingering.push(`${k} x${n - (before[k] ?? 0)}`);
    if (lingering.length === 0) break;
  }
  current = null;
  process.chdir('/');
  process.send({ type: 'done', id: c.id, code, rejected, out: c.out, outLines: c.out.length + c.outLines, err: c.err, errLines: c.err.length + c.errLines, stray: c.stray, uncaught: c.uncaught, lingering, ms });
});

process.send({ type: 'ready' });
