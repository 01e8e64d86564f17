import { expect, test } from '@playwright/test'
import { imageJob, openSwarm, startNodeVolunteer, startRelay, waitForMesh } from './harness.js'
import type { Page } from 'playwright-core'

/**
 * Scheduling over real tabs: churn of a third of the workers, quorum against
 * a lying worker, admission control that pauses a job until a fitting
 * volunteer joins.
 */
async function idOf (page: Page): Promise<string> {
  return page.evaluate(() => (window as any).fedra.peer.id as string)
}

test('a third of the worker tabs leave mid-job: nothing is lost, output identical', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 6)
  try {
    await waitForMesh(swarm.pages)
    const [owner] = swarm.pages
    const job = { filter: 'sobel', tileSize: 32 } // 16 × 12 = 192 tasks
    const local = await imageJob(owner, { ...job, local: true })
    expect(local.owners.length).toBeGreaterThanOrEqual(64)
    const running = imageJob(owner, job)
    await owner.waitForFunction(() => {
      const p = (window as any).fedra.state.progress
      return p.total > 0 && p.done >= p.total / 3
    }, undefined, { polling: 10 })
    await Promise.all([swarm.contexts[4].close(), swarm.contexts[5].close()])
    const shared = await running
    expect(shared.hash).toBe(local.hash)
    expect(shared.owners.filter(o => o != null)).toHaveLength(local.owners.length)
  } finally {
    await swarm.close()
    await relay.stop()
  }
})

test('quorum 2 catches a lying worker; without quorum its lies get through', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 4)
  try {
    await waitForMesh(swarm.pages)
    const [owner] = swarm.pages
    const liar = swarm.pages[3]
    const liarId = await idOf(liar)
    await liar.evaluate(() => { (window as any).fedra.peer.worker.faults.corruptOutputs = true })
    // every device: the liar must get tasks for its lies to show
    const job = { filter: 'invert', tileSize: 64, backups: false, placement: 'everyone' }
    const local = await imageJob(owner, { ...job, local: true })

    const trusting = await imageJob(owner, { ...job, quorum: 1 })
    expect(trusting.owners).toContain(liarId)
    expect(trusting.hash).not.toBe(local.hash) // the lie is in the picture

    const checked = await imageJob(owner, { ...job, quorum: 2 })
    expect(checked.hash).toBe(local.hash)
    expect(checked.owners).not.toContain(liarId)
    expect(await owner.evaluate(() => (window as any).fedra.state.liars as string[])).toEqual([liarId])
  } finally {
    await swarm.close()
    await relay.stop()
  }
})

test('a requirement nobody meets is refused with the reason, and admitted when a fitting peer joins', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 2)
  let volunteer: { id: string, stop: () => Promise<void> } | undefined
  try {
    await waitForMesh(swarm.pages)
    const [owner] = swarm.pages
    // 512 MiB of function memory: a tab offers 256 MiB, a Node volunteer 1 GiB
    const job = { filter: 'grayscale', tileSize: 128, memoryPages: 8192 }
    const refused = await owner.evaluate(async (o) => {
      try { await (window as any).fedra.imageJob(o); return 'ran' } catch (err) { return `${(err as Error).name}: ${(err as Error).message}` }
    }, { ...job, waitForWorkers: false })
    expect(refused).toBe('AdmissionRefusedError: needs 512 MiB of function memory; none of the 2 volunteers offers it')

    const waiting = imageJob(owner, job)
    await expect(owner.locator('#job-status')).toContainText('Paused: needs 512 MiB of function memory; none of the 2 volunteers offers it')
    volunteer = await startNodeVolunteer(owner.url())
    const done = await waiting
    expect(new Set(done.owners)).toEqual(new Set([volunteer.id]))
    const local = await imageJob(owner, { filter: 'grayscale', tileSize: 128, local: true })
    expect(done.hash).toBe(local.hash)
  } finally {
    await volunteer?.stop()
    await swarm.close()
    await relay.stop()
  }
})

/**
 * Batch tasks under churn: a worker tab closes while it runs tasks of 32
 * tiles. The tiles it had reported (with its first tile, then every 500 ms)
 * are kept, not run again: its task resumes elsewhere at the first tile
 * missing, and the image is the same as one tab's.
 */
test('a worker leaves mid-way through batch tasks: the tiles it reported are kept, the rest resumes elsewhere', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 4)
  try {
    await waitForMesh(swarm.pages)
    const [owner] = swarm.pages
    const victim = swarm.pages[3]
    const victimId = await idOf(victim)
    const job = { filter: 'sobel', tileSize: 16, size: { width: 1024, height: 768 } } // 3,072 tiles
    const local = await imageJob(owner, { ...job, local: true, tilesPerTask: 1 })
    // every device: the victim must hold tasks when it leaves
    const running = imageJob(owner, { ...job, placement: 'everyone', tilesPerTask: 32 }) // 96 tasks
    await victim.waitForFunction(() => {
      const w = (window as any).fedra.peer.worker
      return w.itemsCompleted >= 100 && w.running > 0
    }, undefined, { polling: 5 })
    await swarm.contexts[3].close()
    const shared = await running
    expect(shared.hash).toBe(local.hash)
    // the victim's running tasks went quiet (cut after the last tile it
    // reported, the rest back to pending) or failed with its stream (re-queued)
    const state = await owner.evaluate(() => (window as any).fedra.state as { requeuedTasks: Array<{ taskId: string, workerId: string }>, splitTasks: Array<{ taskId: string, from: string, to: string }> })
    const lost = [
      ...state.requeuedTasks.filter(r => r.workerId === victimId).map(r => r.taskId),
      ...state.splitTasks.filter(s => s.from === victimId && s.to === '').map(s => s.taskId)
    ]
    expect(lost.length, JSON.stringify(state)).toBeGreaterThan(0)
    // a task the victim lost holds tiles it computed (kept) and tiles others did (resumed)
    const tilesOf = (taskId: string): number[] => {
      const first = Number(taskId.replace(/^tiles-/, '').replace(/~.*$/, ''))
      return Array.from({ length: 32 }, (_, i) => first + i)
    }
    const mixed = [...new Set(lost.map(id => id.replace(/~.*$/, '')))].filter(id => {
      const owners = tilesOf(id).map(t => shared.owners[t])
      return owners.includes(victimId) && owners.some(o => o !== victimId)
    })
    expect(mixed.length, `lost ${JSON.stringify(lost)}`).toBeGreaterThan(0)
  } finally {
    await swarm.close()
    await relay.stop()
  }
})
