import { describe, expect, it } from 'vitest';
import { Progress } from '../src/progress.js';

function fake(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, write: (s: string) => writes.push(s) }, writes };
}

describe('Progress', () => {
  it('stays silent for the first second, then draws a bar on a TTY and clears it', () => {
    let now = 0;
    const { stream, writes } = fake(true);
    const p = new Progress(stream, 'run', 10, true, () => now);
    now = 500;
    p.update(3);
    expect(writes).toEqual([]);
    now = 1500;
    p.update(5);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatch(/^\rrun \[#{15}-{15}\] 5\/10 1\.5s eta 1\.5s/);
    p.done();
    expect(writes[1]).toBe('\r\x1b[K');
  });
  it('writes nothing when stderr is not a TTY or with --quiet', () => {
    let now = 0;
    for (const [tty, enabled] of [[false, true], [true, false]] as const) {
      const { stream, writes } = fake(tty);
      const p = new Progress(stream, 'run', 10, enabled, () => now);
      now += 5000;
      p.update(9);
      p.done();
      expect(writes).toEqual([]);
    }
  });
});
