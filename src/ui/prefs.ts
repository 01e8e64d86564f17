/**
 * What the app remembers on this device (localStorage): the display name,
 * whether the person volunteers, and the battery policy. Volunteering is
 * opt-in: off until the person turns it on here.
 */
export interface Prefs {
  /** Shown to the room in heartbeats (at most 40 characters). */
  name: string
  /** The person's own switch; the battery policy may still hold it back. */
  volunteer: boolean
  /** Volunteer only while the device charges. */
  onlyWhileCharging: boolean
  /** Stop volunteering when the battery (not charging) is below this percentage; 0 = never. */
  stopBelowPercent: number
}

export const PREFS_KEY = 'fedra-prefs'
export const NAME_MAX = 40

type Store = Pick<Storage, 'getItem' | 'setItem'>

function storage (): Store | undefined {
  try { return globalThis.localStorage } catch { return undefined }
}

export function defaultPrefs (name: string): Prefs {
  return { name, volunteer: false, onlyWhileCharging: false, stopBelowPercent: 20 }
}

/** A display name people can tell apart: "Phone 3F2A". */
export function defaultName (mobile: boolean, random = Math.random): string {
  return `${mobile ? 'Phone' : 'Computer'} ${Math.floor(random() * 0x10000).toString(16).toUpperCase().padStart(4, '0')}`
}

export function cleanName (name: string): string {
  return name.replace(/\s+/g, ' ').trim().slice(0, NAME_MAX)
}

/** Remembered prefs; anything missing or malformed takes its default. */
export function loadPrefs (fallbackName: string, store: Store | undefined = storage()): Prefs {
  const d = defaultPrefs(fallbackName)
  let raw: Partial<Record<keyof Prefs, unknown>> = {}
  try { raw = JSON.parse(store?.getItem(PREFS_KEY) ?? '{}') ?? {} } catch {}
  const name = typeof raw.name === 'string' ? cleanName(raw.name) : ''
  const pct = typeof raw.stopBelowPercent === 'number' && Number.isFinite(raw.stopBelowPercent) ? raw.stopBelowPercent : d.stopBelowPercent
  return {
    name: name === '' ? d.name : name,
    volunteer: raw.volunteer === true,
    onlyWhileCharging: raw.onlyWhileCharging === true,
    stopBelowPercent: Math.max(0, Math.min(100, Math.round(pct)))
  }
}

export function savePrefs (prefs: Prefs, store: Store | undefined = storage()): void {
  try { store?.setItem(PREFS_KEY, JSON.stringify(prefs)) } catch {}
}
