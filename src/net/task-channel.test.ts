import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StartReportHold } from './task-channel.js'

/**
 * The worker's side of a task's reports: the start report waits a moment,
 * so a short task sends it in the same write as its result; a longer task
 * sends it on its own once the hold is over, before anything else.
 */

const frame = (name: string): Uint8Array => new TextEncoder().encode(name)
const names = (writes: Uint8Array[][]): string[][] => writes.map(w => w.map(f => new TextDecoder().decode(f)))

describe('StartReportHold', () => {
  let writes: Uint8Array[][]
  let hold: StartReportHold
  beforeEach(() => {
    vi.useFakeTimers()
    writes = []
    hold = new StartReportHold(async frames => { writes.push([...frames]) }, 20)
  })
  afterEach(() => { vi.useRealTimers() })

  it('sends a short task\'s start report with its result, in one write and in order', async () => {
    hold.report(frame('start'))
    expect(writes).toEqual([])
    await hold.end(frame('result'))
    expect(names(writes)).toEqual([['start', 'result']])
    await vi.advanceTimersByTimeAsync(100)
    expect(names(writes)).toEqual([['start', 'result']])
  })

  it('sends a longer task\'s start report alone once the hold is over', async () => {
    hold.report(frame('start'))
    await vi.advanceTimersByTimeAsync(19)
    expect(writes).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(names(writes)).toEqual([['start']])
    hold.report(frame('beat'))
    await hold.end(frame('result'))
    expect(names(writes)).toEqual([['start'], ['beat'], ['result']])
  })

  it('never holds input reports, and a report during the hold takes the start report along first', async () => {
    hold.report(frame('input'), 'input')
    expect(names(writes)).toEqual([['input']])
    hold.report(frame('start'))
    hold.report(frame('first item'))
    expect(names(writes)).toEqual([['input'], ['start', 'first item']])
    await vi.advanceTimersByTimeAsync(100)
    expect(writes).toHaveLength(2)
  })

  it('sends a held start report before an error too', async () => {
    hold.report(frame('start'))
    await hold.end(frame('error'))
    expect(names(writes)).toEqual([['start', 'error']])
  })
})
