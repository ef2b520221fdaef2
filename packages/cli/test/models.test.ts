import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, REPO, tempDir } from './helpers.js';

/**
 * Every bundled trained model is re-measured on the first 1,000 test images of its data set, exactly as
 * `spikelens eval` measures it; its card must agree within 0.5 points.
 */
const MODELS = join(REPO, 'models');
const cards = readdirSync(MODELS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, card: JSON.parse(readFileSync(join(MODELS, f), 'utf8')) }))
  .filter(({ card }) => typeof card.testAccuracy === 'number');

describe('bundled models', () => {
  it('each card names its model file', () => {
    for (const { file } of cards) expect(existsSync(join(MODELS, file.replace(/\.json$/, '.safetensors'))), file).toBe(true);
  });
  for (const { file, card } of cards)
    it(`${file}: accuracy on the first 1,000 test images matches its card`, async () => {
      const model = join(MODELS, file.replace(/\.json$/, '.safetensors'));
      const r = await cli(['eval', model, '--dataset', card.dataset, '--limit', '1000', '--json', '--quiet']);
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      const ev = JSON.parse(r.out[0]);
      expect(ev.images).toBe(1000);
      expect(Math.abs(ev.accuracy - card.accuracyFirst1000)).toBeLessThanOrEqual(0.005);
    }, 120_000);
});

describe('spikelens eval --update-card', () => {
  it('rewrites the measured figures of the card and keeps the rest', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const model = join(dir, 'm.safetensors');
      copyFileSync(join(MODELS, 'mnist-lif-bptt.safetensors'), model);
      writeFileSync(join(dir, 'm.json'), JSON.stringify({ name: 'm', dataset: 'mnist', testAccuracy: 0.1, command: 'kept' }));
      const r = await cli(['eval', model, '--dataset', 'mnist', '--limit', '200', '--update-card', '--quiet', '--json']);
      expect(r.code).toBe(0);
      const card = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
      expect(card.command).toBe('kept');
      expect(card.testImages).toBe(200);
      expect(card.testAccuracy).toBe(JSON.parse(r.out[0]).accuracy);
      expect(card.testAccuracy).toBeGreaterThan(0.9);
      expect(Object.keys(card.firingRates)).toEqual(['lif1', 'lif2']);
    } finally {
      cleanup();
    }
  }, 60_000);
});
