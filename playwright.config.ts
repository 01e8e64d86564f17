import { defineConfig } from '@playwright/test'

// Swarm tests start their own relay and browsers (e2e/harness.ts): the
// runner only schedules them. One worker: each test is a whole room of tabs,
// and two rooms at once would only fight over the 2 cores.
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 180_000,
  retries: 0,
  reporter: [['list']]
})
