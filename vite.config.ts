import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import type { Plugin } from 'vite'

/**
 * npm nests a copy of a package under every dependent whose range the
 * hoisted version does not meet: libp2p's packages each carry their own
 * protons-runtime 7.1.2 (16 identical copies). This bundles one copy per
 * version, so the app ships each version once.
 */
function oneCopyPerVersion (names: string[]): Plugin {
  const first = new Map<string, string>()
  return {
    name: 'fedra:one-copy-per-version',
    enforce: 'pre',
    async resolveId (source, importer, options) {
      const name = names.find(n => source === n || source.startsWith(`${n}/`))
      if (name == null) return null
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true })
      if (resolved == null) return null
      const at = resolved.id.lastIndexOf(`/node_modules/${name}/`)
      if (at < 0) return resolved
      const dir = resolved.id.slice(0, at + `/node_modules/${name}`.length)
      const version = (JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { version: string }).version
      const key = `${name}@${version}`
      const kept = first.get(key)
      if (kept == null) {
        first.set(key, dir)
        return resolved
      }
      return { ...resolved, id: kept + resolved.id.slice(dir.length) }
    }
  }
}

// Cross-origin isolation lets the app use SharedArrayBuffer (WASM threads);
// the relay's static server sends the same headers for the built app.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp'
}

export default defineConfig({
  plugins: [oneCopyPerVersion(['protons-runtime', 'uint8arraylist', 'uint8arrays', '@noble/hashes', '@noble/curves', 'multiformats'])],
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
