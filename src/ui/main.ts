/**
 * The web app's composition root: joins the room of the page's link (a new
 * room when there is none), starts the peer with volunteering off until the
 * person turns it on, renders the app (src/ui/app.tsx), and exposes
 * `window.fedra` for tests, benchmarks and the curious in devtools.
 */
import { IDBBlockstore } from 'blockstore-idb'
import { MemoryDatastore } from 'datastore-core'
import { formatRoomLink, newRoomSecret, parseRoomLink } from '../core/room/link.js'
import { FedraPeer } from '../peer/peer.js'
import { createWorkerPool } from '../runtime/index.browser.js'
import { mountApp } from './app.js'
import { browserCapabilities } from './capabilities.js'
import { createDemos, demos } from './demo-jobs.js'
import { explain } from './errors.js'
import { defaultName } from './prefs.js'
import { insecureContextMessage } from './secure-context.js'
import { attachPeer, fatal, prefs, roomLink, setPrefs } from './state.js'
import { blockDbName, collectIdleRooms } from './storage-gc.js'
import type { RoomSecret } from '../core/room/link.js'
import type { VideoUnitRunner } from '../peer/types.js'
import type { videoHooks } from './video-hooks.js'

function roomFromLocation (): RoomSecret {
  if (location.hash.startsWith('#/r/')) return parseRoomLink(location.hash)
  const secret = newRoomSecret()
  history.replaceState(null, '', formatRoomLink(location.href, secret))
  return secret
}

function isMobile (): boolean {
  const nav = navigator as Navigator & { userAgentData?: { mobile?: boolean } }
  return nav.userAgentData?.mobile ?? /Mobi|Android|iPhone|iPad/i.test(nav.userAgent)
}

let mounted = false
function mount (): void {
  const root = document.getElementById('app')
  if (mounted || root == null) return
  mountApp(root)
  mounted = true
}

async function main (): Promise<void> {
  const insecure = insecureContextMessage(location, window.isSecureContext)
  if (insecure != null) {
    const alert = Object.assign(document.createElement('p'), { id: 'insecure-context', textContent: insecure })
    alert.setAttribute('role', 'alert')
    document.body.replaceChildren(alert)
    return
  }
  if (prefs.value.name === '') setPrefs({ name: defaultName(isMobile()) })
  mount()
  window.addEventListener('hashchange', () => { location.reload() })
  const room = roomFromLocation()
  roomLink.value = location.href

  const config = await (await fetch('/fedra.json')).json() as { relays: string[], iceServers?: RTCIceServer[] }
  const workers = Math.max(1, Math.min(4, (navigator.hardwareConcurrency ?? 2) - 1))
  const pool = createWorkerPool({ size: workers })
  await collectIdleRooms(room.roomId).catch(() => [])
  const blockstore = new IDBBlockstore(blockDbName(room.roomId))
  await blockstore.open()
  // video units: one pool task each (decode, filters, encode in a pool
  // worker); the page's side loads with the first unit this tab computes
  let videoRunner: Promise<VideoUnitRunner> | undefined
  const video: VideoUnitRunner = {
    run: async (task, options) => {
      // a failed load is tried again with the next unit
      videoRunner ??= import('../peer/video-worker.js').then(m => m.browserVideoRunner(pool), (err: unknown) => { videoRunner = undefined; throw err })
      return (await videoRunner).run(task, options)
    }
  }
  const peer = new FedraPeer({
    room,
    relays: config.relays,
    // never undefined: the WebRTC transport would fall back to public STUN servers
    iceServers: config.iceServers ?? [],
    runner: pool,
    video,
    capabilities: await browserCapabilities(workers),
    blockstore,
    datastore: new MemoryDatastore(),
    name: prefs.value.name,
    // opt-in: nobody's tasks run here until the person turns Volunteer on
    consent: false
  })
  await peer.start()
  attachPeer(peer)
  const d = createDemos(peer, config.relays)
  demos.value = d

  // the video pipeline (demuxer, muxer) loads on the first video job
  type VideoJobHook = ReturnType<typeof videoHooks>['videoJob']
  const videoJob: VideoJobHook = async (opts) => (await import('./video-hooks.js')).videoHooks(peer).videoJob(opts)
  // the media library (demuxer, codecs, muxer) for tests of its own; loaded on first use, like the video job
  const loadMedia = async (): Promise<unknown> => (await import('../media/hooks.js')).mediaHooks

  // a small, stable handle for tests, benchmarks and the curious in devtools
  Object.assign(window, { fedra: { peer, pool, imageJob: d.imageJob, wordCount: d.wordCount, functionCid: d.functionCid, adoptBoard: d.adoptBoard, boards: d.boards, state: d.state, videoJob, loadMedia, ready: true } })
}

main().catch((err: Error) => {
  console.error(err)
  mount()
  fatal.value = err.name === 'InvalidRoomLinkError'
    ? explain(err)
    : { title: 'Could not start', detail: `${err.name}: ${err.message}`, next: 'Reload the page to try again; the room link stays the same.' }
})
