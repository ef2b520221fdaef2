/**
 * A progress bar on stderr, for work that takes over a second; silent when stderr is not a TTY or with --quiet.
 */
export class Progress {
  private readonly start: number;
  private last = 0;
  private shown = false;
  constructor(
    private readonly stream: { isTTY?: boolean; write(s: string): unknown },
    private readonly label: string,
    private readonly total: number,
    private readonly enabled: boolean,
    private readonly clock: () => number = Date.now,
  ) {
    this.start = clock();
  }

  update(done: number): void {
    if (!this.enabled || !this.stream.isTTY) return;
    const now = this.clock();
    if (now - this.start < 1000 || now - this.last < 100) return;
    this.last = now;
    this.shown = true;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed * (1 / frac - 1) : 0;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    this.stream.write(`\r${this.label} [${bar}] ${done}/${this.total} ${elapsed.toFixed(1)}s eta ${eta.toFixed(1)}s `);
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
  }
}
