/** Where a command writes: stdout lines, and stderr for progress and errors. Tests pass their own. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  readonly stderr: NodeJS.WriteStream;
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(line + '\n'),
  err: (line) => void process.stderr.write(line + '\n'),
  stderr: process.stderr,
};
