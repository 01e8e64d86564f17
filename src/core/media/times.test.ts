import { describe, expect, it } from 'vitest'
import { FrameTimes } from './times.js'
import type { TimedPacket } from './times.js'

function fill (packets: TimedPacket[], inOrder: boolean): TimedPacket[] {
  const f = new FrameTimes<TimedPacket>({ inOrder })
  const out: TimedPacket[] = []
  for (const p of packets) out.push(...f.push(p))
  out.push(...f.end())
  return out
}

const p = (timestamp: number, duration: number): TimedPacket => ({ timestamp, duration })

describe('FrameTimes: durations and increasing times', () => {
  it('passes packets that have a duration through unchanged and at once', () => {
    const f = new FrameTimes<TimedPacket>({ inOrder: true })
    expect(f.push(p(0, 100))).toEqual([p(0, 100)])
    expect(f.push(p(100, 100))).toEqual([p(100, 100)])
    expect(f.end()).toEqual([])
  })

  it('ends a frame without duration where the next one starts (no reordering), as MediaRecorder clusters leave them', () => {
    // the times and durations mediabunny reads from a Chromium recording: the last frame of each cluster has 0
    const input = [p(0, 99_000), p(99_000, 101_000), p(200_000, 0), p(298_000, 99_000), p(397_000, 0)]
    const out = fill(input, true)
    expect(out.map(x => x.timestamp)).toEqual(input.map(x => x.timestamp))
    expect(out.map(x => x.duration)).toEqual([99_000, 101_000, 98_000, 99_000, 99_000])
  })

  it('holds a frame without duration only until the next packet', () => {
    const f = new FrameTimes<TimedPacket>({ inOrder: true })
    expect(f.push(p(0, 0))).toEqual([])
    expect(f.push(p(40_000, 40_000))).toEqual([p(0, 40_000), p(40_000, 40_000)])
  })

  it('uses the previous duration where frames may be reordered, and at the end', () => {
    // B-frames: the next packet in decode order may be presented earlier
    const out = fill([p(0, 40_000), p(120_000, 0), p(40_000, 40_000), p(80_000, 0)], false)
    expect(out.map(x => x.duration)).toEqual([40_000, 40_000, 40_000, 40_000])
  })

  it('moves a frame stamped with the time of the one before it to 1 µs after (a loaded recorder does it)', () => {
    // read from a Chromium recording under load: two frames at 12.662 s, the first without duration
    const out = fill([p(12_417_000, 245_000), p(12_662_000, 0), p(12_662_000, 102_000), p(12_764_000, 98_000)], true)
    expect(out.map(x => x.timestamp)).toEqual([12_417_000, 12_662_000, 12_662_001, 12_764_000])
    expect(out.map(x => x.duration)).toEqual([245_000, 1, 102_000, 98_000])
    expect(new Set(out.map(x => x.timestamp)).size).toBe(out.length)
  })

  it('leaves times alone where frames may be reordered', () => {
    const input = [p(0, 40_000), p(120_000, 40_000), p(40_000, 40_000), p(80_000, 40_000)]
    expect(fill(input, false)).toEqual(input)
  })

  it('leaves 0 when no frame ever had a duration', () => {
    expect(fill([p(0, 0)], true)).toEqual([p(0, 0)])
  })

  it('keeps the rest of the packet', () => {
    const f = new FrameTimes<TimedPacket & { key: boolean }>({ inOrder: true })
    f.push({ key: true, timestamp: 0, duration: 0 })
    expect(f.push({ key: false, timestamp: 33_000, duration: 33_000 })[0]).toEqual({ key: true, timestamp: 0, duration: 33_000 })
  })
})
