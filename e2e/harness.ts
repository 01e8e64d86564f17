import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { ChildProcess } from 'node:child_process'
import type { Browser, BrowserContext, Page } from 'playwright-core'

/**
 * Shared set-up for swarm tests and benchmarks: a relay + static server of
 * our own on free loopback ports, and Debian's Chromium with the flags that
 * keep WebRTC on 127.0.0.1 (see DESIGN.md, "WebRTC on loopback only").
 */
export const CHROMIUM = process.env.FEDRA_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--disable-features=WebRtcHideLocalIpsWithMdns'
]

/**
 * CHROMIUM_ARGS with more host-resolver rules in front of the loopback-only
 * ones (Chromium keeps only the last `--host-resolver-rules` flag, and the
 * first matching rule wins), e.g. `MAP fedra.test 127.0.0.1`.
 */
export function withHostResolverRules (rules: string[]): string[] {
  return CHROMIUM_ARGS.map(a => a.startsWith('--host-resolver-rules=')
    ? `--host-resolver-rules=${[...rules, a.slice('--host-resolver-rules='.length)].join(', ')}`
    : a)
}

/**
 * Launch flags that make Chromium's camera a file (a real MediaRecorder
 * then records it): a `.y4m` (scripts/test-clips.sh makes
 * `.cache/clips/camera.y4m`), looped; the permission prompt is accepted.
 * The page still needs the `camera` permission (`openPage`'s `permissions`).
 */
export function fakeCameraArgs (y4m: string): string[] {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`]
}

export interface Relay {
  url: string
  relays: string[]
  /** Every link the relay printed (its --name first). */
  urls?: string[]
  /** The TLS certificate it serves (PEM path), when it serves HTTPS. */
  cert?: string
  process: ChildProcess
  stop: () => Promise<void>
}


/** A Fedra Node program (relay, volunteer, bridge) in its own process; resolves on its "ready" line. */
async function spawnProgram<T> (script: string, args: string[], events: Array<Record<string, unknown>> = []): Promise<{ ready: T, process: ChildProcess, stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [
    '--import', './scripts/node-preload.mjs', '--experimental-websocket', script, ...args
  ], { stdio: ['ignore', 'pipe', 'inherit'] })
  const ready = await new Promise<T>((resolve, reject) => {
    let buf = ''
    child.once('exit', code => { reject(new Error(`${script} exited with ${code}`)) })
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString()
      const lines = buf.split('\n')
      buf = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        const e = JSON.parse(line) as Record<string, unknown>
        events.push(e)
        if (e.event === 'ready') resolve(e as T)
      }
    })
  })
  return {
    ready,
    process: child,
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3000))])
      child.kill('SIGKILL')
    }
  }
}

/** `args`: more relay flags (`--tls`, `--name`, `--data`…), after the loopback defaults. */
export async function startRelay (root = process.env.FEDRA_DIST ?? 'dist', args: string[] = []): Promise<Relay> {
  const p = await spawnProgram<{ url: string, relays: string[] }>('relay/main.ts', ['--host', '127.0.0.1', '--port', '0', '--root', root, ...args])
  return { ...p.ready, process: p.process, stop: p.stop }
}

export interface Swarm {
  browser: Browser
  contexts: BrowserContext[]
  pages: Page[]
  /** Every URL any page requested: the tests check they are all on 127.0.0.1. */
  requests: string[]
  close: () => Promise<void>
}

export async function launchBrowser (executablePath = CHROMIUM, args: string[] = CHROMIUM_ARGS): Promise<{ browser: Browser, dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedra-chromium-'))
  const browser = await chromium.launch({ executablePath, args, headless: true })
  return { browser, dataDir }
}

/** Records RTCPeerConnections so a test can read the selected ICE pairs. */
const TRACK_PEER_CONNECTIONS = `(() => {
  // functions passed to page.evaluate from tsx-compiled files call __name()
  window.__name = window.__name || ((f) => f)
  const Orig = window.RTCPeerConnection
  const all = []
  window.__fedraPcs = all
  window.RTCPeerConnection = function (...args) { const pc = new Orig(...args); all.push(pc); return pc }
  window.RTCPeerConnection.prototype = Orig.prototype
  Object.setPrototypeOf(window.RTCPeerConnection, Orig)
  // bytes this page put on WebRTC data channels: what benchmarks call "moved"
  window.__fedraSentBytes = 0
  const send = RTCDataChannel.prototype.send
  RTCDataChannel.prototype.send = function (data) {
    window.__fedraSentBytes += data.byteLength ?? data.size ?? data.length ?? 0
    return send.call(this, data)
  }
})()`

export interface OpenPageOptions {
  /**
   * Turn the page's Volunteer switch on, as a person does, and wait until
   * its peer volunteers (default true: volunteering is opt-in in the app,
   * and swarm tests want volunteering tabs).
   */
  volunteer?: boolean
  /** More permissions for the page's origin besides `microphone` (e.g. `camera` to record). */
  permissions?: string[]
}

/** Turns a page's Volunteer switch on (by role and name) and waits until its peer volunteers. */
export async function volunteer (page: Page): Promise<void> {
  await page.getByRole('checkbox', { name: 'Volunteer', exact: true }).check()
  await page.waitForFunction(() => (window as unknown as { fedra: { peer: { consent: boolean } } }).fedra.peer.consent === true, undefined, { timeout: 10_000 })
}

export async function openPage (browser: Browser, url: string, requests: string[], opts: OpenPageOptions = {}): Promise<{ context: BrowserContext, page: Page }> {
  const context = await browser.newContext()
  // a media permission makes Chromium gather host candidates (DESIGN.md)
  await context.grantPermissions(['microphone', ...(opts.permissions ?? [])], { origin: new URL(url).origin })
  await context.addInitScript(TRACK_PEER_CONNECTIONS)
  const page = await context.newPage()
  page.on('request', r => { requests.push(r.url()) })
  page.on('pageerror', e => { console.error('[page error]', e.message) })
  page.on('crash', () => { console.error('[page crashed]') })
  if (process.env.FEDRA_DEBUG != null) {
    await context.addInitScript(`localStorage.setItem('debug', ${JSON.stringify(process.env.FEDRA_DEBUG)})`)
    page.on('console', m => { console.error('[page]', m.text().slice(0, 300)) })
  }
  await page.goto(url)
  await page.waitForFunction(() => (window as unknown as { fedra?: { ready: boolean } }).fedra?.ready === true, undefined, { timeout: 30_000 })
  if (opts.volunteer ?? true) await volunteer(page)
  return { context, page }
}

/** Opens `n` tabs, each in its own browser context, in the same room. */
export async function openSwarm (relay: Relay, n: number): Promise<Swarm> {
  const { browser, dataDir } = await launchBrowser()
  const requests: string[] = []
  const first = await openPage(browser, relay.url, requests)
  const roomUrl = first.page.url()
  const rest = await Promise.all(Array.from({ length: n - 1 }, async () => openPage(browser, roomUrl, requests)))
  const all = [first, ...rest]
  return {
    browser,
    contexts: all.map(a => a.context),
    pages: all.map(a => a.page),
    requests,
    close: async () => {
      await browser.close().catch(() => {})
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** Waits until every page has a verified direct connection to every other. */
export async function waitForMesh (pages: Page[], timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now()
  const want = pages.length - 1
  await Promise.all(pages.map(async p => p.waitForFunction(
    (n) => (window as unknown as { fedra: { peer: { connectedPeers: () => string[] } } }).fedra.peer.connectedPeers().length >= n,
    want, { timeout: timeoutMs, polling: 100 }
  )))
  return Date.now() - t0
}

/** Waits until `page` reaches `peerId` directly and has verified its room key. */
export async function waitForPeer (page: Page, peerId: string, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction((id) => (window as any).fedra.peer.connectedPeers().includes(id), peerId, { timeout: timeoutMs })
}

/** Selected ICE candidate pairs of every peer connection of a page. */
export async function selectedIcePairs (page: Page): Promise<Array<{ local: string, remote: string, remoteType: string }>> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __fedraPcs: RTCPeerConnection[] }).__fedraPcs
    const pairs: Array<{ local: string, remote: string, remoteType: string }> = []
    for (const pc of pcs) {
      if (pc.connectionState !== 'connected') continue
      const stats = await pc.getStats()
      const byId = new Map<string, Record<string, unknown>>()
      stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s))
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded') {
          const l = byId.get(s.localCandidateId as string)
          const r = byId.get(s.remoteCandidateId as string)
          pairs.push({ local: String(l?.address ?? l?.ip ?? ''), remote: String(r?.address ?? r?.ip ?? ''), remoteType: String(r?.candidateType ?? '') })
        }
      })
    }
    return pairs
  })
}

/** A headless Node volunteer in its own process, joined to the room of `roomUrl`. */
export async function startNodeVolunteer (roomUrl: string, workers = 1): Promise<{ id: string, stop: () => Promise<void> }> {
  const p = await spawnProgram<{ id: string }>('relay/volunteer-main.ts', ['--room', roomUrl, '--workers', String(workers)])
  return { id: p.ready.id, stop: p.stop }
}

/** A free TCP port on loopback (bound, read, released). */
export async function freePort (): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => { resolve(typeof addr === 'object' && addr != null ? addr.port : 0) })
    })
  })
}

export const FIRMWARE_ELF = 'firmware/build/firmware.elf'

/**
 * The real board firmware in QEMU's STM32F405 machine, its USART1 on a
 * loopback TCP port (waits for the bridge to connect, nodelay: see DESIGN.md).
 */
export function startQemu (port: number): { stop: () => Promise<void>, process: ChildProcess } {
  const child = spawn('qemu-system-arm', [
    '-M', 'netduinoplus2', '-nographic', '-monitor', 'none', '-kernel', FIRMWARE_ELF,
    '-serial', `tcp:127.0.0.1:${port},server=on,wait=on,nodelay=on`, '-icount', 'shift=0'
  ], { stdio: ['ignore', 'ignore', 'ignore'] })
  return {
    process: child,
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }
  }
}

/** The board bridge in its own process, connected to QEMU's UART. */
export async function startBridge (roomUrl: string, tcp: string): Promise<{ id: string, events: Array<Record<string, unknown>>, stop: () => Promise<void> }> {
  const events: Array<Record<string, unknown>> = []
  const p = await spawnProgram<{ id: string }>('mcu-bridge/main.ts', ['--tcp', tcp, '--room', roomUrl], events)
  return { id: p.ready.id, events, stop: p.stop }
}

/**
 * Carries bytes between a page's WebSocket and QEMU's UART (TCP): how a test
 * gives the tab's Web Serial code a real board, since no udev runs here for
 * Chromium to enumerate a port (DESIGN.md).
 */
export async function startSerialProxy (qemuPort: number): Promise<{ url: string, stop: () => Promise<void> }> {
  const { WebSocketServer } = await import('ws')
  const { connect } = await import('node:net')
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(resolve => wss.once('listening', resolve))
  wss.on('connection', ws => {
    const tcp = connect({ host: '127.0.0.1', port: qemuPort, noDelay: true })
    tcp.on('data', d => { ws.send(d) })
    tcp.on('close', () => { ws.close() })
    tcp.on('error', () => { ws.close() })
    ws.on('message', (d: Buffer) => { tcp.write(d) })
    ws.on('close', () => { tcp.destroy() })
  })
  const addr = wss.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : 0
  return {
    url: `ws://127.0.0.1:${port}`,
    stop: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise(resolve => wss.close(resolve))
    }
  }
}

export interface ImageRun {
  hash: string
  owners: string[]
  tiles: number
}

/** Runs the app's image job in `page` (`fedra.imageJob` options) and returns what tests compare. */
export async function imageJob (page: Page, opts: Record<string, unknown>): Promise<ImageRun> {
  return page.evaluate(async (o) => {
    const r = await (window as any).fedra.imageJob(o)
    return { hash: r.hash as string, owners: r.owners as string[], tiles: r.tiles.length as number }
  }, opts)
}
