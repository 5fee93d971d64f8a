import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// One multi-page build: the server serves dist/<screen>/index.html at /<screen>.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    rollupOptions: {
      input: {
        driver: resolve(import.meta.dirname, 'driver/index.html'),
        cpo: resolve(import.meta.dirname, 'cpo/index.html'),
        board: resolve(import.meta.dirname, 'board/index.html'),
        ops: resolve(import.meta.dirname, 'ops/index.html'),
        field: resolve(import.meta.dirname, 'field/index.html'),
      },
    },
  },
});
