import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const tiny = ['--images', '1', '--attack-images', '1', '--pgd-steps', '1', '--quiet'];

/** A report's JSON without what depends on the clock, the machine or the folder: the rest must repeat for the same seeds. */
function numbers(text: string): unknown {
  return JSON.parse(text, (key, value) => (['seconds', 'date', 'machine', 'command'].includes(key) ? undefined : value));
}

describe('spikelens report', () => {
  it('writes index.html, report.md, report.json and its figures, with a verdict for every claim', async () => {
    const out = join(dir, 'r');
    const r = await cli(['report', '--out', out, ...tiny]);
    expect(r.code, r.err.join('\n')).toBe(0);
    for (const f of ['index.html', 'report.md', 'report.json', 'deletion.png', 'insertion.png', 'attack-accuracy.png', 'attack-shift.png', 'randomisation.png', 'examples-models.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(data.claims.length).toBeGreaterThanOrEqual(5);
    for (const c of data.claims) expect(['holds here', 'does not hold here', 'not measurable here']).toContain(c.verdict);
    expect(data.faithfulness.map((f: { model: string }) => f.model)).toEqual(['mnist-lif-bptt', 'mnist-if-bptt', 'mnist-if-convert', 'fashion-lif-bptt', 'mnist-ann']);
    expect(data.adversarial.curves).toHaveLength(10);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toMatch(/<img src="deletion.png"/);
    expect(html).toMatch(/holds here|does not hold here/);
  });

  it('repeats its numbers: a second report with the same settings in a new folder gives the same report.json', async () => {
    const out = join(dir, 'r2');
    const r = await cli(['report', '--out', out, ...tiny]);
    expect(r.code, r.err.join('\n')).toBe(0);
    expect(numbers(readFileSync(join(out, 'report.json'), 'utf8'))).toEqual(numbers(readFileSync(join(dir, 'r', 'report.json'), 'utf8')));
  });

  it('resumes from the sections it finished, refuses other settings without --force', async () => {
    const out = join(dir, 'r');
    const section = join(out, '.sections', 'faithfulness-mnist-if-convert.json');
    const kept = statSync(join(out, '.sections', 'adversarial.json')).mtimeMs;
    const before = numbers(readFileSync(section, 'utf8'));
    rmSync(section);
    const again = await cli(['report', '--out', out, ...tiny]);
    expect(again.code, again.err.join('\n')).toBe(0);
    expect(existsSync(section)).toBe(true);
    // the section computed again gives the same numbers (the committed docs/report relies on it)
    expect(numbers(readFileSync(section, 'utf8'))).toEqual(before);
    // its time counts the sections computed by the first run, not only this run's
    const made = (file: string) => JSON.parse(readFileSync(file, 'utf8')).made.seconds as number;
    const sections = ['faithfulness-mnist-lif-bptt', 'adversarial'].map((n) => Number(readFileSync(join(out, '.sections', `${n}.seconds`), 'utf8')));
    expect(made(join(out, 'report.json'))).toBeGreaterThan(sections[0] + sections[1]);
    expect(statSync(join(out, '.sections', 'adversarial.json')).mtimeMs).toBe(kept);
    const other = await cli(['report', '--out', out, ...tiny, '--seed', '1']);
    expect(other.code).toBe(2);
    expect(other.err).toEqual([expect.stringMatching(/holds a finished report of other settings: give --force/)]);
  });
});
