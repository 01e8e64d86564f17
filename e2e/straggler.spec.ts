import { expect, test } from '@playwright/test'
import { launchThrottledBrowser, openThrottledTab, workerLoopRate } from './cgroup.js'
import { openSwarm, startRelay, waitForMesh } from './harness.js'
import type { ThrottledBrowser } from './cgroup.js'

/**
 * One peer made slow for real: its own Chromium process in a CPU cgroup with
 * a tenth of a core (CDP throttling would not slow its Web Workers). Near the
 * end of the job the room copies the straggler's tasks to idle peers and the
 * job finishes on their copies instead of waiting.
 */
test('backup copies of a straggler\'s tasks finish the job without it', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 3)
  let slow: ThrottledBrowser | undefined
  try {
    // start with half a core so the tab loads and joins, then slow it down
    slow = await launchThrottledBrowser({ name: 'straggler', quotaCores: 0.5 })
    const tab = await openThrottledTab(slow, swarm.pages[0].url(), swarm.requests)
    await waitForMesh([...swarm.pages, tab.page])
    const stragglerId = await tab.page.evaluate(() => (window as any).fedra.peer.id as string)
    const full = await workerLoopRate(swarm.pages[1], 1000)
    slow.setQuota(0.1)
    const throttled = await workerLoopRate(tab.page, 1000)
    expect(throttled).toBeLessThan(full / 2) // the cgroup really slows its Web Workers

    const owner = swarm.pages[0]
    const job = { filter: 'sobel', tileSize: 64, size: { width: 1024, height: 768 } } // 192 tasks
    const local = await owner.evaluate(async (o) => (await (window as any).fedra.imageJob({ ...o, local: true })).hash as string, job)
    const shared = await owner.evaluate(async (o) => {
      const r = await (window as any).fedra.imageJob(o)
      return { hash: r.hash as string, owners: r.owners as string[] }
    }, job)
    expect(shared.hash).toBe(local)
    const state = await owner.evaluate(() => (window as any).fedra.state as { backups: number, backupTasks: Array<{ taskId: string, runningOn: string[] }>, movedTasks: Array<{ taskId: string, from: string, to: string }> })
    expect(state.backups).toBeGreaterThan(0)
    // a task the straggler held was copied (or, still waiting in its queue,
    // moved to a peer that came free), and another peer finished it
    const elsewhere = (taskId: string): boolean => shared.owners[Number(taskId.replace('tile-', ''))] !== stragglerId
    const rescued = [
      ...state.backupTasks.filter(b => b.runningOn.includes(stragglerId) && elsewhere(b.taskId)),
      ...state.movedTasks.filter(m => m.from === stragglerId && elsewhere(m.taskId))
    ]
    expect(rescued.length, `backups: ${JSON.stringify(state.backupTasks)}; moves: ${JSON.stringify(state.movedTasks)}; straggler ${stragglerId}`).toBeGreaterThan(0)
  } finally {
    await slow?.close()
    await swarm.close()
    await relay.stop()
  }
})

/**
 * The same straggler, with tasks of 8 tiles each: in the tail the room cuts
 * the straggler's running task at a tile boundary and sends its last tiles
 * to an idle peer (a split: the straggler's finished tiles are kept, not run
 * again as with a copy). The image is the same as one tab's, tile by tile.
 */
test('a straggler\'s batch task is split at a tile boundary and the rest runs on an idle peer', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 3)
  let slow: ThrottledBrowser | undefined
  try {
    slow = await launchThrottledBrowser({ name: 'straggler-split', quotaCores: 0.5 })
    const tab = await openThrottledTab(slow, swarm.pages[0].url(), swarm.requests)
    await waitForMesh([...swarm.pages, tab.page])
    const stragglerId = await tab.page.evaluate(() => (window as any).fedra.peer.id as string)
    slow.setQuota(0.1)

    const owner = swarm.pages[0]
    const job = { filter: 'sobel', tileSize: 64, size: { width: 1024, height: 768 } } // 192 tiles
    const local = await owner.evaluate(async (o) => (await (window as any).fedra.imageJob({ ...o, local: true, tilesPerTask: 1 })).hash as string, job)
    const shared = await owner.evaluate(async (o) => {
      const r = await (window as any).fedra.imageJob({ ...o, tilesPerTask: 8 }) // 24 tasks
      return { hash: r.hash as string, owners: r.owners as string[] }
    }, job)
    expect(shared.hash).toBe(local)
    const state = await owner.evaluate(() => (window as any).fedra.state as { splits: number, splitTasks: Array<{ taskId: string, pieceId: string, from: string, to: string, items: number }>, backupTasks: Array<{ taskId: string, runningOn: string[] }> })
    const fromStraggler = state.splitTasks.filter(s => s.from === stragglerId)
    expect(fromStraggler.length, `splits: ${JSON.stringify(state.splitTasks)}; backups: ${JSON.stringify(state.backupTasks)}; straggler ${stragglerId}`).toBeGreaterThan(0)
    // the tiles after a cut were computed elsewhere
    for (const s of fromStraggler) {
      const first = Number(s.pieceId.split('~')[1]) + Number(s.taskId.replace('tiles-', ''))
      expect(s.to).not.toBe(stragglerId)
      expect(shared.owners[first + s.items - 1]).not.toBe(stragglerId)
    }
  } finally {
    await slow?.close()
    await swarm.close()
    await relay.stop()
  }
})
