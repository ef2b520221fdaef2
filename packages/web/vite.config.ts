import { defineConfig } from 'vite';

/**
 * Cross-origin isolation: with these two headers the page may use shared WebAssembly memory, and runs its network
 * on two threads (docs/web.md). Everything the page loads is its own, so nothing else changes.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// A static site: relative asset URLs so it can be served from any folder by any static server.
export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    target: 'es2022',
    // Keep the bundled models and sample images as files, fetched when chosen.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', port: 4173, headers: ISOLATION_HEADERS },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
});
