// Loaded before any Fedra code in Node: polyfills, then TypeScript through tsx.
await import('./polyfills.mjs')
await import('tsx/esm')
