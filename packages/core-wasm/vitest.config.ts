import { defineConfig } from "vitest/config";

// Property tests over many kernels take seconds; on a shared 2-core CI machine, under load, more than vitest's 5 s.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
