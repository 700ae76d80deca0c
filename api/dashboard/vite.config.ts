import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// `vite build dashboard` from api/: the page lands in api/dashboard/dist, which `vsdb serve` serves at `/`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The bundle is small; a single chunk keeps the served file list short.
    chunkSizeWarningLimit: 200,
  },
})
