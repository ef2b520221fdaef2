import { defineConfig } from 'vite';

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
  preview: { host: '127.0.0.1', port: 4173 },
  server: { host: '127.0.0.1' },
});
