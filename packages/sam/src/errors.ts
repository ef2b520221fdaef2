/**
 * Errors that carry their own exit code (docs/cli.md): a usage problem (2), a file that is missing, malformed or does
 * not fit the model (3). Anything else that escapes is a bug (1).
 */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export class InputError extends Error {
  readonly exitCode = 3;
  /** The file the problem is in ('' when there is none, e.g. bytes handed over in memory). */
  readonly file: string;
  constructor(file: string, message: string) {
    super(file ? `${file}: ${message}` : message);
    this.name = 'InputError';
    this.file = file;
  }
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof InputError) return err.exitCode;
  return 1;
}
