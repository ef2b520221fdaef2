import { defineConfig } from 'vitest/config';

// Tests that simulate networks take seconds; on a shared 2-core CI machine, under load, more than vitest's 5 s.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
