#!/usr/bin/env node
// `pnpm web`: serves the built page (dist/) on 127.0.0.1 with Vite's preview server and prints its address, with
// vite.config.ts's cross-origin isolation headers (COOP/COEP: the page runs its network on two threads).
// PORT=8080 pnpm web picks the port; a busy port moves to the next free one.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'index.html'))) {
  console.error('@spikelens/web: dist/ is missing: build it first (pnpm --filter @spikelens/web... build, or pnpm web from the repo root)');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 4173);
const server = await preview({ root, preview: { host: '127.0.0.1', port, strictPort: false, open: false }, logLevel: 'warn' });
const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`;
console.log(`spikelens web page: ${url}  (Ctrl+C stops it)`);
