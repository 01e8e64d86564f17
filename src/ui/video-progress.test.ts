import { describe, expect, it } from 'vitest'
import { applyVideoEvent, formatEta, rates, startProgress, totalUnits, unitsOut } from './video-progress.js'
import type { VideoJobEvent } from '../peer/video-job.js'

const fold = (events: VideoJobEvent[]) => events.reduce((p, e) => applyVideoEvent(p, e), startProgress(0))

describe('video progress', () => {
  it('colours each unit by the device computing it, then by the one that computed it', () => {
    const p = fold([
      { type: 'video:opened', durationS: 4.2, live: false, width: 640, height: 360, codec: 'vp8' },
      { type: 'video:unit-stored', index: 0, frames: 30, bytes: 1000 },
      { type: 'video:unit-stored', index: 1, frames: 30, bytes: 1000 },
      { type: 'video:unit-started', index: 0, workerId: 'a' },
      { type: 'video:unit-started', index: 1, workerId: 'b' },
      { type: 'video:unit-started', index: 1, workerId: 'a' },
      { type: 'video:unit-done', index: 0, workerId: 'a', frames: 30 }
    ])
    expect(p.units.map(u => [u.stage, u.workerId])).toEqual([['done', 'a'], ['running', 'a']])
    expect(p.workers).toEqual(['a', 'b'])
    expect(p.retries).toBe(1)
    expect(totalUnits(p)).toBe(5)
    expect(p.framesDone).toBe(30)
  })

  it('counts a unit done once, even if a backup copy also returns', () => {
    const p = fold([
      { type: 'video:unit-done', index: 2, workerId: 'a', frames: 30 },
      { type: 'video:unit-done', index: 2, workerId: 'b', frames: 30 },
      { type: 'video:source-closed', units: 3 }
    ])
    expect(p.unitsDone).toBe(1)
    expect(p.units).toHaveLength(3)
    expect(p.units[2].workerId).toBe('a')
    expect(totalUnits(p)).toBe(3)
  })

  it('a recording still being made: units counted as they go out, no time left until it stops', () => {
    const p = fold([
      { type: 'video:opened', live: true, width: 320, height: 180, codec: 'vp8' },
      { type: 'video:unit-stored', index: 0, frames: 11, bytes: 1000 },
      { type: 'video:unit-stored', index: 1, frames: 11, bytes: 1000 },
      { type: 'video:unit-started', index: 0, workerId: 'a' },
      { type: 'video:unit-done', index: 0, workerId: 'a', frames: 11 }
    ])
    expect(p.live).toBe(true)
    expect(p.expected).toBeNull()
    expect(unitsOut(p)).toBe(1)
    expect(totalUnits(p)).toBe(2)
    expect(rates(p, 2000).etaS).toBeNull()
    const closed = applyVideoEvent(p, { type: 'video:source-closed', units: 3 })
    expect(closed.live).toBe(false)
    expect(rates(closed, 2000).etaS).toBe(4)
  })

  it('pauses and resumes with the room', () => {
    const paused = fold([{ type: 'video:job', event: { type: 'paused', reason: 'no volunteer decodes VP9' } }])
    expect(paused.paused).toBe('no volunteer decodes VP9')
    expect(applyVideoEvent(paused, { type: 'video:job', event: { type: 'resumed' } }).paused).toBe('')
  })

  it('throughput and time left', () => {
    const p = fold([
      { type: 'video:source-closed', units: 4 },
      { type: 'video:unit-done', index: 0, workerId: 'a', frames: 30 }
    ])
    const r = rates(p, 2000)
    expect(r.fps).toBe(15)
    expect(r.etaS).toBe(6)
    expect(rates(startProgress(0), 1000).etaS).toBeNull()
    expect(formatEta(null)).toBe('estimating…')
    expect(formatEta(6)).toBe('about 6 s')
    expect(formatEta(600)).toBe('about 10 min')
  })
})
