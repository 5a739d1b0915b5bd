// The service worker: one classic script at the fixed URL /sw.js (a worker's URL cannot carry
// a content hash, and classic scripts run in every browser with service workers).
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

export default defineConfig({
  root,
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    sourcemap: false,
    lib: {
      entry: resolve(root, 'src/sw/sw.ts'),
      formats: ['iife'],
      name: 'satloadServiceWorker',
      fileName: () => 'sw.js',
    },
  },
});
