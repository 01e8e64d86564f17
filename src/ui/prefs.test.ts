import { describe, expect, it } from 'vitest'
import { cleanName, defaultName, loadPrefs, PREFS_KEY, savePrefs } from './prefs.js'

function memory (): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return { data, getItem: k => data.get(k) ?? null, setItem: (k, v) => { data.set(k, v) } }
}

describe('prefs', () => {
  it('volunteering is off until the person turns it on', () => {
    expect(loadPrefs('Phone 1', memory())).toEqual({ name: 'Phone 1', volunteer: false, onlyWhileCharging: false, stopBelowPercent: 20 })
  })

  it('remembers what was saved', () => {
    const store = memory()
    savePrefs({ name: 'Ana', volunteer: true, onlyWhileCharging: true, stopBelowPercent: 35 }, store)
    expect(loadPrefs('x', store)).toEqual({ name: 'Ana', volunteer: true, onlyWhileCharging: true, stopBelowPercent: 35 })
  })

  it('malformed or hostile values fall back to defaults', () => {
    const store = memory()
    store.data.set(PREFS_KEY, '{not json')
    expect(loadPrefs('d', store).volunteer).toBe(false)
    store.data.set(PREFS_KEY, JSON.stringify({ name: '  ', volunteer: 'yes', stopBelowPercent: 900 }))
    expect(loadPrefs('d', store)).toEqual({ name: 'd', volunteer: false, onlyWhileCharging: false, stopBelowPercent: 100 })
  })

  it('names are trimmed to what a heartbeat carries', () => {
    expect(cleanName('  Ana \n  B  ')).toBe('Ana B')
    expect(cleanName('x'.repeat(100))).toHaveLength(40)
    expect(defaultName(true, () => 0.5)).toBe('Phone 8000')
    expect(defaultName(false, () => 0)).toBe('Computer 0000')
  })
})
