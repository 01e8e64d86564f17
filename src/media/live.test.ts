import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openContainer } from './demux.js'
import { LiveFile } from './live.js'
import type { VideoUnit } from '../core/media/units.js'

/**
 * A recording read while it is written, on real bytes: a VP8 WebM made by
 * Debian's ffmpeg from opencv-doc's vtest.avi (10 fps, a key frame every
 * second, as the app's recorder asks for), rewritten into the shape
 * Chromium's MediaRecorder writes — a Segment and Clusters of unknown size,
 * no SeekHead, Cues or CRC — and handed to a LiveFile piece by piece, the
 * next piece only when the demuxer asks for more bytes. mediabunny does the
 * demuxing (it runs under Node); WebCodecs is not involved.
 */
const VTEST = '/usr/share/doc/opencv-doc/examples/data/vtest.avi'
const VTEST_CACHED = '.cache/clips/vtest.avi'

let dir: string
let ffmpegWebm: Uint8Array<ArrayBuffer>
let recorderWebm: Uint8Array<ArrayBuffer>
/** Byte offset of each Cluster in `recorderWebm`. */
let clusters: number[]

// --- a few lines of EBML, enough to reshape the fixture (the app reads with mediabunny) ---
const ID = { Segment: 0x18538067, Cluster: 0x1f43b675, Info: 0x1549a966, Tracks: 0x1654ae6b }
const UNKNOWN_SIZE = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]

function vint (b: Uint8Array, p: number, keepMarker: boolean): { value: number, length: number } {
  let length = 1
  while (length <= 8 && (b[p] & (0x80 >> (length - 1))) === 0) length++
  let value = keepMarker ? b[p] : b[p] & (0xff >> length)
  for (let i = 1; i < length; i++) value = value * 256 + b[p + i]
  return { value, length }
}

function element (b: Uint8Array, p: number): { id: number, data: number, end: number } {
  const id = vint(b, p, true)
  const size = vint(b, p + id.length, false)
  const data = p + id.length + size.length
  return { id: id.value, data, end: data + size.value }
}

/** The EBML header, then a Segment of unknown size holding Info, Tracks and every Cluster (also of unknown size). */
function asMediaRecorderWrites (file: Uint8Array): { bytes: Uint8Array<ArrayBuffer>, clusters: number[] } {
  const parts: number[][] = []
  const header = element(file, 0)
  parts.push([...file.subarray(0, header.end)])
  const segment = element(file, header.end)
  if (segment.id !== ID.Segment) throw new Error('no Segment after the EBML header')
  parts.push([0x18, 0x53, 0x80, 0x67, ...UNKNOWN_SIZE])
  const starts: number[] = []
  let at = parts.reduce((n, x) => n + x.length, 0)
  const keep = (bytes: number[]): void => { parts.push(bytes); at += bytes.length }
  for (let p = segment.data; p < Math.min(segment.end, file.length);) {
    const e = element(file, p)
    if (e.id === ID.Info || e.id === ID.Tracks) {
      keep([...file.subarray(p, e.end)])
    } else if (e.id === ID.Cluster) {
      starts.push(at)
      keep([0x1f, 0x43, 0xb6, 0x75, ...UNKNOWN_SIZE, ...file.subarray(e.data, e.end)])
    }
    p = e.end
  }
  return { bytes: new Uint8Array(parts.flat()), clusters: starts }
}

beforeAll(() => {
  const src = existsSync(VTEST) ? VTEST : VTEST_CACHED
  if (!existsSync(src)) throw new Error(`${VTEST} not found: apt-get install opencv-doc (bash scripts/setup.sh --test)`)
  dir = mkdtempSync(join(tmpdir(), 'fedra-live-'))
  const out = join(dir, 'recorded.webm')
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-ss', '10', '-t', '6', '-i', src,
    '-vf', 'crop=768:432,scale=160:90,format=yuv420p', '-an', '-c:v', 'libvpx', '-b:v', '200k', '-g', '10', '-keyint_min', '10',
    '-deadline', 'realtime', '-cpu-used', '8', '-write_crc32', '0', out])
  ffmpegWebm = new Uint8Array(readFileSync(out))
  ;({ bytes: recorderWebm, clusters } = asMediaRecorderWrites(ffmpegWebm))
})

afterAll(() => { if (dir != null) rmSync(dir, { recursive: true, force: true }) })

/** A LiveFile that says when its reader asks for the next piece. */
class WatchedFile extends LiveFile {
  private asked: Array<() => void> = []
  private pulls = 0
  /** Resolves when the reader has asked for more than `n` pieces. */
  async askedFor (n: number): Promise<void> {
    while (this.pulls <= n) await new Promise<void>(resolve => { this.asked.push(resolve) })
  }

  override stream (): ReadableStream<Uint8Array> {
    const inner = super.stream().getReader()
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        this.pulls++
        for (const wake of this.asked.splice(0)) wake()
        const next = await inner.read()
        if (next.done) controller.close()
        else controller.enqueue(next.value)
      },
      cancel: async (reason) => { await inner.cancel(reason) }
    }, { highWaterMark: 0 })
  }
}

interface Seen { unit: VideoUnit, bytes: number, closed: boolean }

/**
 * Feeds `bytes` in pieces of `piece` bytes, each only once the demuxer has
 * used up the ones before (it asks for more), and notes how much of the
 * file was there when each unit came out.
 */
async function readLive (bytes: Uint8Array<ArrayBuffer>, piece: number): Promise<Seen[]> {
  const file = new WatchedFile('video/webm')
  file.append(new Blob([bytes.slice(0, piece)]))
  const opened = await openContainer(file)
  expect(opened.live).toBe(true)
  expect(opened.durationS).toBeUndefined()
  const seen: Seen[] = []
  const reading = (async () => {
    for await (const unit of opened.units({ targetUs: 1_000_000 })) seen.push({ unit, bytes: file.size, closed: file.ended })
  })()
  let pulls = 0
  for (let at = piece; at < bytes.length; at += piece) {
    await file.askedFor(pulls++)
    file.append(new Blob([bytes.slice(at, at + piece)]))
  }
  await file.askedFor(pulls)
  file.close()
  await reading
  opened.close()
  return seen
}

async function readWhole (bytes: Uint8Array<ArrayBuffer>): Promise<VideoUnit[]> {
  const opened = await openContainer(new Blob([bytes]))
  const units: VideoUnit[] = []
  for await (const u of opened.units({ targetUs: 1_000_000 })) units.push(u)
  opened.close()
  return units
}

const shape = (u: VideoUnit): unknown => ({
  index: u.index,
  skip: u.skip,
  chunks: u.chunks.map(c => [c.key, c.timestamp, c.duration, c.data.byteLength])
})

describe('a recording read while it is written (LiveFile + openContainer)', () => {
  it('the fixture has MediaRecorder\'s shape: unknown sizes, one cluster per key frame', () => {
    expect([...recorderWebm.subarray(clusters[0] + 4, clusters[0] + 12)]).toEqual(UNKNOWN_SIZE)
    expect(clusters.length).toBe(6)
  })

  it('gives each unit once the cluster after it has begun, long before the recording stops', async () => {
    const seen = await readLive(recorderWebm, 4096)
    const units = seen.map(s => s.unit)
    expect(units.map(u => u.index)).toEqual(units.map((_, i) => i))
    expect(units.length).toBe(clusters.length)
    // unit k (one GOP, one cluster) ends where the key frame of cluster
    // k + 1 begins, which mediabunny hands over once that cluster is
    // complete: when cluster k + 2 begins. So every unit but the last two
    // came out while the file was still being written, each before the
    // bytes of cluster k + 3 were there.
    seen.forEach((s, k) => {
      if (k + 3 < clusters.length) expect(s.bytes).toBeLessThanOrEqual(clusters[k + 3])
      if (k + 2 < clusters.length) expect(s.closed).toBe(false)
    })
    // the same units, frame for frame, as reading the finished file
    expect(units.map(shape)).toEqual((await readWhole(recorderWebm)).map(shape))
  })

  it('gives every frame once, each with a duration (MediaRecorder writes none for a cluster\'s last frame)', async () => {
    const seen = await readLive(recorderWebm, 65536)
    const chunks = seen.flatMap(s => s.unit.chunks.slice(s.unit.skip))
    const probed = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', join(dir, 'recorded.webm')]).toString().trim()
    expect(chunks.length).toBe(Number(probed))
    for (let i = 1; i < chunks.length; i++) expect(chunks[i].timestamp).toBeGreaterThan(chunks[i - 1].timestamp)
    for (const c of chunks) expect(c.duration).toBeGreaterThan(0)
    for (let i = 0; i + 1 < chunks.length; i++) expect(chunks[i].timestamp + chunks[i].duration).toBe(chunks[i + 1].timestamp)
  })

  it('streams a WebM as ffmpeg writes it too (sized clusters, Cues at the end)', async () => {
    const seen = await readLive(ffmpegWebm, 4096)
    expect(seen.length).toBeGreaterThanOrEqual(5)
    expect(seen.slice(0, -2).every(s => !s.closed)).toBe(true)
    expect(seen.map(s => shape(s.unit))).toEqual((await readWhole(ffmpegWebm)).map(shape))
  })

  it('a recording that fails ends its units with the failure', async () => {
    const file = new LiveFile('video/webm')
    file.append(new Blob([recorderWebm.slice(0, clusters[1] + 100)]))
    const opened = await openContainer(file)
    const reading = (async () => { for await (const _ of opened.units()) { /* drain */ } })()
    file.fail(new RangeError('the camera stopped'))
    await expect(reading).rejects.toThrow('the camera stopped')
    opened.close()
  })
})
