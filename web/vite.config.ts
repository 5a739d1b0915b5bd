// The pages: one HTML entry each, hashed assets under /assets/ (served immutable), nothing
// inlined (the Content-Security-Policy allows only same-origin files).
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    rollupOptions: {
      input: {
        index: resolve(root, 'index.html'),
        link: resolve(root, 'link.html'),
        login: resolve(root, 'login.html'),
        files: resolve(root, 'files.html'),
        wallet: resolve(root, 'wallet.html'),
        account: resolve(root, 'account.html'),
      },
    },
  },
});
