import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, REPO } from './helpers.js';

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
