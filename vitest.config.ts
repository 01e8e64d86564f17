import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'relay/**/*.test.ts', 'mcu-bridge/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['./scripts/polyfills.mjs'],
    // libp2p's WebSocket transport uses the global WebSocket (Node 20: behind a flag)
    pool: 'forks',
    execArgv: ['--experimental-websocket'],
    testTimeout: 30_000
  }
})
