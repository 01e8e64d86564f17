import { expect, test } from '@playwright/test'
import { imageJob, openSwarm, startNodeVolunteer, startRelay, waitForMesh, waitForPeer } from './harness.js'
import type { ImageRun } from './harness.js'

/**
 * A Node volunteer (worker_threads, no browser) joins two tabs' room with the
 * room link: tabs dial its WebSockets listener directly, it takes a share of
 * the image job, and the output is identical to one tab's.
 */
test('a Node volunteer joins a room of tabs and computes tiles', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 2)
  const volunteer = await startNodeVolunteer(swarm.pages[0].url())
  try {
    await waitForMesh(swarm.pages) // each tab sees the other tab...
    await Promise.all(swarm.pages.map(async p => { await waitForPeer(p, volunteer.id) }))
    const direct = await swarm.pages[0].evaluate((id) => (window as any).fedra.peer.isDirect(id), volunteer.id)
    expect(direct).toBe(true)
    const kind = await swarm.pages[0].evaluate((id) => (window as any).fedra.peer.registry.get(id).beat.caps.kind, volunteer.id)
    expect(kind).toBe('node')

    // no backup copies: the volunteer's first tasks wait for its worker
    // threads to start, and the tabs' copies would win every one of them
    const run = async (local: boolean): Promise<ImageRun> => imageJob(swarm.pages[0], { filter: 'pixelate', tileSize: 32, local, backups: false, placement: 'everyone' })
    const local = await run(true)
    const shared = await run(false)
    expect(shared.hash).toBe(local.hash)
    expect(shared.owners).toContain(volunteer.id)
  } finally {
    await volunteer.stop()
    await swarm.close()
    await relay.stop()
  }
})
