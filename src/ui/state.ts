/**
 * The app's state as signals, and the controllers that keep it in step with
 * the peer: volunteering (the person's switch under the battery policy),
 * the live battery in the announced capabilities, the display name in the
 * heartbeats, and the room's people.
 */
import { computed, effect, signal } from '@preact/signals'
import type { FedraPeer } from '../peer/peer.js'
import { batteryHold, watchBattery } from './battery.js'
import { LOST_CONNECTION } from './errors.js'
import { filterItems, withShared } from './filters.js'
import { peopleOf } from './people.js'
import { loadPrefs, savePrefs } from './prefs.js'
import type { BatteryReading } from './battery.js'
import type { PlainError } from './errors.js'
import type { Person, PersonInput } from './people.js'
import type { Prefs } from './prefs.js'

export type ScreenId = 'start' | 'room' | 'edit' | 'job' | 'examples'
export const SCREENS: ReadonlyArray<{ id: ScreenId, label: string }> = [
  { id: 'start', label: 'Start' },
  { id: 'room', label: 'Room' },
  { id: 'edit', label: 'Edit' },
  { id: 'job', label: 'Job' },
  { id: 'examples', label: 'Examples' }
]

const SCREEN_KEY = 'fedra-screen'

function firstScreen (): ScreenId {
  let saved: string | null = null
  try { saved = sessionStorage.getItem(SCREEN_KEY) } catch {}
  if (SCREENS.some(s => s.id === saved)) return saved as ScreenId
  // opened by a room link: you joined someone; opened bare: a fresh room to share
  return location.hash.startsWith('#/r/') ? 'room' : 'start'
}

export const screen = signal<ScreenId>(firstScreen())
export function go (id: ScreenId): void {
  screen.value = id
  try { sessionStorage.setItem(SCREEN_KEY, id) } catch {}
}

export const prefs = signal<Prefs>(loadPrefs(''))
export function setPrefs (change: Partial<Prefs>): void {
  prefs.value = { ...prefs.value, ...change }
  savePrefs(prefs.value)
}

export const battery = signal<BatteryReading | undefined>(undefined)
/** Why the battery policy holds volunteering back now (null: it does not). */
export const batteryHeld = computed(() => batteryHold(prefs.value, battery.value))
/** What the peer announces: the person's switch, under the battery policy. */
export const volunteering = computed(() => prefs.value.volunteer && batteryHeld.value == null)

export const peer = signal<FedraPeer | null>(null)
export const roomLink = signal(location.href)
export const people = signal<Person[]>([])
/** Tasks this device computed for the room since the page opened. */
export const completedHere = signal(0)
export type Connection = 'starting' | 'online' | 'offline'
export const connection = signal<Connection>('starting')
/** A start-up failure or an insecure context: the page says why instead of failing silently. */
export const fatal = signal<PlainError | null>(null)
export const lostConnection = computed(() => connection.value === 'offline' ? LOST_CONNECTION : null)


function inputsOf (p: FedraPeer): PersonInput[] {
  const self: PersonInput = {
    id: p.id, name: prefs.value.name, caps: p.capabilities, consent: p.consent,
    load: { queued: p.worker.queued, running: p.worker.running }, self: true, verified: true, direct: true
  }
  return [self, ...p.registry.list().map(e => ({
    id: e.id, name: e.beat.name, caps: e.beat.caps, consent: e.beat.consent, load: e.beat.load,
    self: false, verified: e.verified, direct: p.isDirect(e.id)
  }))]
}

let shown = ''
let unreached = 0
const LOST_AFTER_TICKS = 3
/** Reads the room into the signals; touches them (and so the DOM) only on a change. */
export function refreshRoom (): void {
  const p = peer.value
  if (p == null) return
  const list = peopleOf(inputsOf(p))
  const json = JSON.stringify(list)
  if (json !== shown) {
    shown = json
    people.value = list
  }
  completedHere.value = p.worker.completed
  // filters people in the room shared appear in everyone's list
  const items = withShared(filterItems.value, p.roomFilters())
  if (items !== filterItems.value) filterItems.value = items
  // lost: reached nobody (relay or peer) for a few seconds after being
  // online; navigator.onLine alone says little (a LAN without internet)
  if (p.node.getConnections().length > 0) {
    unreached = 0
    connection.value = 'online'
  } else if (connection.value !== 'starting' && ++unreached >= LOST_AFTER_TICKS) {
    connection.value = 'offline'
  }
}

/** Wires a started peer to the app's state; returns a stop function. */
export function attachPeer (p: FedraPeer): () => void {
  peer.value = p
  const stops: Array<() => void> = []
  stops.push(effect(() => { p.consent = volunteering.value }))
  stops.push(effect(() => { p.name = prefs.value.name }))
  stops.push(effect(() => {
    const b = battery.value
    if (b != null) p.capabilities = { ...p.capabilities, battery: { level: b.level, charging: b.charging } }
  }))
  void watchBattery(b => { battery.value = b }).then(stop => stops.push(stop))
  // a hidden tab (a phone's screen off, a background tab) draws nothing
  const tick = (): void => { if (document.visibilityState !== 'hidden') refreshRoom() }
  const timer = setInterval(tick, 1000)
  document.addEventListener('visibilitychange', tick)
  const offline = (): void => { connection.value = 'offline' }
  window.addEventListener('offline', offline)
  window.addEventListener('online', tick)
  refreshRoom()
  return () => {
    clearInterval(timer)
    document.removeEventListener('visibilitychange', tick)
    window.removeEventListener('offline', offline)
    window.removeEventListener('online', tick)
    for (const s of stops) s()
  }
}
