/** Where a command writes: stdout lines, and stderr for progress and errors. Tests pass their own. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /**
   * A warning line: held until the command ends, printed (to `err`) only if it succeeds, so a failed command says
   * one line whatever it warned about on the way.
   */
  warn(line: string): void;
  readonly stderr: NodeJS.WriteStream;
}

/**
 * Set once a standard stream is closed by its reader (`spikelens info MODEL | head -3`): the command goes on and
 * ends quietly, its further lines dropped, instead of dying of an EPIPE stack trace.
 */
const closed = { out: false, err: false };
let listening = false;
function listen(): void {
  if (listening) return;
  listening = true;
  process.stdout.on('error', () => void (closed.out = true));
  process.stderr.on('error', () => void (closed.err = true));
}

export const processIo: Io = {
  out: (line) => {
    listen();
    if (!closed.out) process.stdout.write(line + '\n');
  },
  err: (line) => {
    listen();
    if (!closed.err) process.stderr.write(line + '\n');
  },
  warn: (line) => processIo.err(line),
  get stderr() {
    listen();
    return process.stderr;
  },
};
