import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChildProcess } from 'node:child_process'
import { runnerSuite } from '../runtime/runner-suite.js'
import type { RunnerClaims, SuiteCase, SuiteModuleName } from '../runtime/runner-suite.js'
import { buildFilters, suiteModules } from '../runtime/test-support.js'
import { BoardClient } from './board-client.js'
import { BoardRunner } from './board-runner.js'
import { boardCapabilities } from './bridge.js'
import { openTcpLink } from './link-tcp.node.js'

/**
 * The runner compliance suite (src/runtime/runner-suite.ts) on the board
 * runner: the real firmware in QEMU's STM32F405 machine, its UART on a
 * loopback TCP port, as e2e/board.spec.ts and firmware/scripts/test.sh run
 * it. The runner claims what the bridge announces for the board (one page of
 * memory, its task slots, its frame size); the cases that need more are
 * skipped with the reason.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const FIRMWARE_ELF = `${root}firmware/build/firmware.elf`

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => { resolve(typeof addr === 'object' && addr != null ? addr.port : 0) })
    })
  })
}

/** QEMU waits for the host to connect (wait=on): output sent before that would be lost. */
function startQemu (port: number): ChildProcess {
  return spawn('qemu-system-arm', [
    '-M', 'netduinoplus2', '-nographic', '-monitor', 'none', '-kernel', FIRMWARE_ELF,
    '-serial', `tcp:127.0.0.1:${port},server=on,wait=on,nodelay=on`, '-icount', 'shift=0'
  ], { stdio: ['ignore', 'ignore', 'inherit'] })
}

async function connect (port: number, qemu: ChildProcess): Promise<BoardClient> {
  let failed: Error | undefined
  // e.g. ENOENT: scripts/setup.sh --test installs qemu-system-arm
  qemu.once('error', err => { failed = err })
  const deadline = Date.now() + 20_000
  for (;;) {
    if (failed != null) throw new Error(`qemu-system-arm did not start: ${failed.message}`)
    if (qemu.exitCode != null) throw new Error(`qemu-system-arm exited with ${qemu.exitCode}`)
    try {
      return new BoardClient(await openTcpLink('127.0.0.1', port))
    } catch (err) {
      if (Date.now() > deadline) throw err
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

// the case names, for vitest to list; the skips depend on the board's claims, read once it answers
const unused = (): never => { throw new Error('listing only') }
const names = runnerSuite({ claims: { slots: 1, maxMemoryPages: 1 }, module: unused, runner: unused }).map(c => c.name)

describe('board runner (firmware in QEMU): runner compliance suite', () => {
  let qemu: ChildProcess | undefined
  let client: BoardClient | undefined
  let cases = new Map<string, SuiteCase>()

  beforeAll(async () => {
    buildFilters()
    const modules: Record<SuiteModuleName, Uint8Array> = suiteModules()
    execFileSync('make', ['-s', '-C', `${root}firmware`, 'board'], { stdio: ['ignore', 'ignore', 'inherit'] })
    const port = await freePort()
    qemu = startQemu(port)
    client = await connect(port, qemu)
    const board = client
    const caps = boardCapabilities(await board.hello())
    const claims: RunnerClaims = { slots: caps.slots, maxMemoryPages: caps.maxMemoryPages, maxIoBytes: caps.maxIoBytes }
    const runner = new BoardRunner(() => board)
    cases = new Map(runnerSuite({ claims, module: async (name) => modules[name], runner: () => runner }).map(c => [c.name, c]))
  }, 120_000)

  afterAll(async () => {
    await client?.close()
    qemu?.kill('SIGKILL')
  })

  for (const name of names) {
    it(name, async (ctx) => {
      const c = cases.get(name)
      if (c == null) throw new Error('the board did not start')
      if (c.skip != null) ctx.skip(c.skip)
      await c.run()
    })
  }

  it('client: a request whose signal aborted before it was sent fails with AbortedError and sends nothing', async () => {
    const board = client as BoardClient
    await expect(board.ping(new Uint8Array([1]), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    // the link is in step: the next request gets its own answer
    expect(await board.ping(new Uint8Array([7, 8]))).toEqual(new Uint8Array([7, 8]))
  })

  it('client: two tasks share one module upload; the first cancelled, the second still gets the module', async () => {
    const board = client as BoardClient
    const module = suiteModules().invert
    const key = new Uint8Array(createHash('sha256').update(module).digest())
    const first = new AbortController()
    const a = board.ensureModule(key, module, { signal: first.signal, force: true })
    const b = board.ensureModule(key, module)
    first.abort()
    await expect(a).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await b
  })
})
