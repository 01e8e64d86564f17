import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// Cross-origin isolation lets the app use SharedArrayBuffer (WASM threads);
// the relay's static server sends the same headers for the built app.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp'
}

export default defineConfig({
  // mediabunny's ES modules break in a production build ("reading 'SeekHead'"
  // at load); its single-file bundle works (DESIGN.md, "mediabunny in a build")
  resolve: {
    alias: { mediabunny: fileURLToPath(new URL('./node_modules/mediabunny/dist/bundles/mediabunny.mjs', import.meta.url)) }
  },
  server: { host: '127.0.0.1', headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2048
  }
})
