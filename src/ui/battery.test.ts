import { describe, expect, it } from 'vitest'
import { batteryHold, watchBattery } from './battery.js'

describe('battery policy', () => {
  const policy = { onlyWhileCharging: false, stopBelowPercent: 20 }

  it('no battery reading never holds volunteering back', () => {
    expect(batteryHold({ onlyWhileCharging: true, stopBelowPercent: 90 }, undefined)).toBeNull()
  })

  it('stops below the level on battery, not while charging', () => {
    expect(batteryHold(policy, { level: 0.5, charging: false })).toBeNull()
    expect(batteryHold(policy, { level: 0.15, charging: false })).toBe('battery at 15 %, below 20 %')
    expect(batteryHold(policy, { level: 0.15, charging: true })).toBeNull()
    expect(batteryHold({ ...policy, stopBelowPercent: 0 }, { level: 0.01, charging: false })).toBeNull()
  })

  it('only while charging', () => {
    const p = { onlyWhileCharging: true, stopBelowPercent: 0 }
    expect(batteryHold(p, { level: 1, charging: false })).toBe('not charging (battery at 100 %)')
    expect(batteryHold(p, { level: 0.3, charging: true })).toBeNull()
  })

  it('reads the battery live, from its events', async () => {
    const b = Object.assign(new EventTarget(), { level: 0.8, charging: true })
    const seen: Array<{ level: number, charging: boolean }> = []
    const stop = await watchBattery(r => seen.push(r), { getBattery: async () => b } as unknown as Navigator)
    b.level = 0.79
    b.dispatchEvent(new Event('levelchange'))
    b.charging = false
    b.dispatchEvent(new Event('chargingchange'))
    stop()
    b.dispatchEvent(new Event('levelchange'))
    expect(seen).toEqual([{ level: 0.8, charging: true }, { level: 0.79, charging: true }, { level: 0.79, charging: false }])
  })

  it('a browser without the battery API: nothing to watch', async () => {
    const stop = await watchBattery(() => { throw new Error('no call') }, {} as Navigator)
    stop()
  })
})
