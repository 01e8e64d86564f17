import { existsSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import { FIRMWARE_ELF, freePort, imageJob, openSwarm, startBridge, startQemu, startRelay, startSerialProxy, waitForMesh, waitForPeer } from './harness.js'
import type { ImageRun } from './harness.js'

/**
 * The real firmware in QEMU joins a room of two tabs through the bridge:
 * the board takes tasks that fit it (one WASM page), the output is identical
 * to a one-tab run, killing QEMU mid-job loses nothing, and the bridge
 * reconnects when the board comes back.
 */
// 96 tasks; no backup copies, or the tabs would redo the slow board's last
// tiles and its results would lose the race (the right call for speed, but
// then the test could not see the board's own output)
// every device: a tile takes the board ~30× a tab's time, so placement by
// ECT rightly leaves it out of a job this short; here it must take part
const JOB = { placement: 'everyone' as const, filter: 'grayscale', tileSize: 8, size: { width: 96, height: 64 }, backups: false }

test('a board in QEMU computes tiles beside two tabs, and losing it loses nothing', async () => {
  expect(existsSync(FIRMWARE_ELF), `${FIRMWARE_ELF} is built by scripts/e2e.sh (make -C firmware board)`).toBe(true)
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 2)
  const port = await freePort()
  let qemu = startQemu(port)
  const bridge = await startBridge(swarm.pages[0].url(), `127.0.0.1:${port}`)
  try {
    await waitForMesh(swarm.pages)
    const owner = swarm.pages[0]
    await waitForPeer(owner, bridge.id)
    const caps = await owner.evaluate((id) => (window as any).fedra.peer.registry.get(id).beat.caps, bridge.id)
    expect(caps.kind).toBe('mcu')
    expect(caps.maxMemoryPages).toBe(1)
    expect(caps.device.fpu).toBe(true)

    const run = async (local: boolean): Promise<ImageRun> => imageJob(owner, { ...JOB, local })
    const local = await run(true)
    const shared = await run(false)
    expect(shared.hash).toBe(local.hash)
    expect(shared.owners.length).toBe(96)
    const state = await owner.evaluate(() => JSON.stringify((window as any).fedra.state))
    expect(shared.owners, `the board computed nothing; job state: ${state}; bridge: ${JSON.stringify(bridge.events)}`).toContain(bridge.id)

    // placement by ECT (the default): the board, now measured, is far slower
    // than a tab; if it gets no tile the page says why, it does not vanish
    const fastest = await imageJob(owner, { ...JOB, placement: 'fastest' })
    expect(fastest.hash).toBe(local.hash)
    if (!fastest.owners.includes(bridge.id)) {
      const idle = await owner.evaluate(() => (window as any).fedra.state.idle as Array<{ id: string, reason: string }>)
      expect(idle.find(i => i.id === bridge.id)?.reason).toMatch(/too slow for this job/)
      await expect(owner.locator(`tr[data-peer="${bridge.id}"] .idle`)).toContainText('too slow')
    }

    // pull the plug while the board is busy: its tasks go back to the room
    const big = { ...JOB, size: { width: 192, height: 128 } } // 384 tasks
    const bigLocal = (await imageJob(owner, { ...big, local: true })).hash
    const requeuedBefore = await owner.evaluate(() => (window as any).fedra.state.requeued as number)
    const tasksBefore = bridge.events.filter(e => e.event === 'task').length
    const running = imageJob(owner, big)
    // the board has started a task of this job: kill it now
    await expect.poll(() => bridge.events.filter(e => e.event === 'task').length, { timeout: 30_000, intervals: [10] }).toBeGreaterThan(tasksBefore)
    await qemu.stop()
    const afterLoss = await running
    expect(afterLoss.hash).toBe(bigLocal)
    expect(afterLoss.owners.length).toBe(384)
    // the tasks the board held were handed to the tabs
    expect(await owner.evaluate(() => (window as any).fedra.state.requeued as number)).toBeGreaterThan(requeuedBefore)

    // the board returns: the bridge reconnects and volunteers again
    qemu = startQemu(port)
    await expect.poll(() => bridge.events.filter(e => e.event === 'board').length, { timeout: 30_000 }).toBe(2)
    await owner.waitForFunction((id) => (window as any).fedra.peer.registry.get(id)?.beat.consent === true, bridge.id, { timeout: 30_000 })
    const again = await run(false)
    expect(again.hash).toBe(local.hash)
    expect(again.owners).toContain(bridge.id)
  } finally {
    await bridge.stop()
    await qemu.stop()
    await swarm.close()
    await relay.stop()
  }
})

test('a tab adopts a board through Web Serial and the room uses it', async () => {
  const relay = await startRelay()
  const swarm = await openSwarm(relay, 2)
  const port = await freePort()
  const qemu = startQemu(port)
  const proxy = await startSerialProxy(port)
  try {
    await waitForMesh(swarm.pages)
    // an object with the SerialPort shape whose streams reach the real UART
    const boardId = await swarm.pages[1].evaluate(async (url) => {
      const ws = new WebSocket(url)
      ws.binaryType = 'arraybuffer'
      await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject })
      const port = {
        readable: null as ReadableStream<Uint8Array> | null,
        writable: null as WritableStream<Uint8Array> | null,
        async open () {
          this.readable = new ReadableStream({
            start (c) {
              ws.onmessage = (e) => { c.enqueue(new Uint8Array(e.data as ArrayBuffer)) }
              ws.onclose = () => { try { c.close() } catch {} }
            }
          })
          this.writable = new WritableStream({ write (chunk) { ws.send(chunk) } })
        },
        async close () { ws.close() }
      }
      return (window as any).fedra.adoptBoard(port) as Promise<string>
    }, proxy.url)
    const owner = swarm.pages[0]
    await waitForPeer(owner, boardId)
    expect(await owner.evaluate((id) => (window as any).fedra.peer.registry.get(id).beat.caps.kind, boardId)).toBe('mcu')
    const run = async (local: boolean): Promise<ImageRun> => imageJob(owner, { ...JOB, local })
    const local = await run(true)
    const shared = await run(false)
    expect(shared.hash).toBe(local.hash)
    const state = await owner.evaluate(() => JSON.stringify((window as any).fedra.state))
    expect(shared.owners, `the board computed nothing; job state: ${state}`).toContain(boardId)
  } finally {
    await proxy.stop()
    await qemu.stop()
    await swarm.close()
    await relay.stop()
  }
})
