/**
 * The battery policy ("only while charging", "stop below N %") and the
 * live battery reading (navigator.getBattery() events, not one read at
 * start-up).
 */
export interface BatteryReading {
  /** 0..1 */
  level: number
  charging: boolean
}

export interface BatteryPolicy {
  onlyWhileCharging: boolean
  /** 0 = never stop for the level. */
  stopBelowPercent: number
}

/**
 * Why the policy holds volunteering back now, in words, or null when it
 * allows it. No reading (a desktop, or a browser that does not tell) never
 * holds back. "Stop below" applies only on battery: a charging phone's
 * level is rising.
 */
export function batteryHold (policy: BatteryPolicy, battery: BatteryReading | undefined): string | null {
  if (battery == null) return null
  const pct = Math.round(battery.level * 100)
  if (policy.onlyWhileCharging && !battery.charging) return `not charging (battery at ${pct} %)`
  if (!battery.charging && policy.stopBelowPercent > 0 && pct < policy.stopBelowPercent) {
    return `battery at ${pct} %, below ${policy.stopBelowPercent} %`
  }
  return null
}

interface BatteryManagerLike extends EventTarget {
  level: number
  charging: boolean
}

/**
 * Calls `onChange` with the reading now and on every level or charging
 * change; resolves to a stop function (a no-op where there is no battery API).
 */
export async function watchBattery (onChange: (b: BatteryReading) => void, nav: Navigator = navigator): Promise<() => void> {
  const get = (nav as Navigator & { getBattery?: () => Promise<BatteryManagerLike> }).getBattery
  if (get == null) return () => {}
  let b: BatteryManagerLike
  try { b = await get.call(nav) } catch { return () => {} }
  const read = (): void => { onChange({ level: b.level, charging: b.charging }) }
  read()
  b.addEventListener('levelchange', read)
  b.addEventListener('chargingchange', read)
  return () => {
    b.removeEventListener('levelchange', read)
    b.removeEventListener('chargingchange', read)
  }
}
