import { execFileSync, spawn } from 'node:child_process'
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { basename, extname, join } from 'node:path'
import type { AddressInfo } from 'node:net'

/**
 * Node-side helpers of bench/video.bench.ts: the clips, a static server on
 * 127.0.0.1 for ffmpeg.wasm (the package's ESM build and single-thread core,
 * never a CDN) and the clips, native ffmpeg runs, and the filter chain in
 * Fedra's and ffmpeg's words.
 */
export const CLIPS = '.cache/clips'

/** Fedra's chain (catalog names and values) and ffmpeg's closest equivalent. */
export const CHAIN = [{ name: 'grayscale' }, { name: 'brightness', values: { brightness: 275, contrast: 120 } }]
/**
 * grayscale = BT.601 luma into R, G and B (ffmpeg: chroma to neutral, luma kept);
 * brightness +20 of 255 and contrast 120 % around 128 (ffmpeg: the same on luma).
 */
export const FFMPEG_VF = 'hue=s=0,eq=brightness=0.078:contrast=1.2'
/** Fedra's default for 640×360: 3 bit/pixel/s (src/media/step.ts defaultBitrate). */
const BITRATE = String(640 * 360 * 3)

export interface CodecCase {
  label: string
  clip: string
  out: string
  /** The encoder as Chromium's WebCodecs runs it: libvpx realtime deadline (VP8 cpu-used −6, VP9 7), H.264 a fast baseline encoder (x264 ultrafast). */
  fast: string[]
  /** What a web developer writes without tuning: the encoder's defaults at the same bit rate. */
  plain: string[]
  /** ffmpeg.wasm's nearest where it cannot run the codec: other encoders, and why. */
  wasm?: { fast: string[], plain: string[], note: string }
}

export const CODECS: CodecCase[] = [
  { label: 'VP8 WebM', clip: 'vp8.webm', out: 'out.webm', fast: ['-c:v', 'libvpx', '-b:v', BITRATE, '-deadline', 'realtime', '-cpu-used', '-6'], plain: ['-c:v', 'libvpx', '-b:v', BITRATE] },
  { label: 'H.264 MP4', clip: 'h264.mp4', out: 'out.mp4', fast: ['-c:v', 'libx264', '-profile:v', 'baseline', '-preset', 'ultrafast', '-b:v', BITRATE], plain: ['-c:v', 'libx264', '-profile:v', 'baseline', '-b:v', BITRATE] },
  {
    label: 'VP9 WebM',
    clip: 'bench-vp9.webm',
    out: 'out.webm',
    fast: ['-c:v', 'libvpx-vp9', '-b:v', BITRATE, '-deadline', 'realtime', '-cpu-used', '7'],
    plain: ['-c:v', 'libvpx-vp9', '-b:v', BITRATE],
    // @ffmpeg/core 0.12.10 traps in libvpx-vp9 ("memory access out of bounds",
    // any speed, row-mt or tiles: ffmpegwasm/ffmpeg.wasm#679); VP9 decoding works
    wasm: {
      fast: ['-c:v', 'libvpx', '-b:v', BITRATE, '-deadline', 'realtime', '-cpu-used', '-6'],
      plain: ['-c:v', 'libvpx', '-b:v', BITRATE],
      note: 'ffmpeg.wasm encodes VP8 here: its libvpx-vp9 traps (ffmpegwasm/ffmpeg.wasm#679)'
    }
  }
]

/** ffmpeg's arguments after `-i <input>`: one thread, the chain, the encoder, no audio. */
export function ffmpegArgs (encoder: string[], out: string): string[] {
  return ['-vf', FFMPEG_VF, '-threads', '1', ...encoder, '-an', '-y', out]
}

/** Makes the test clips and the bench's own (scripts/test-clips.sh, FEDRA_BENCH_CLIPS=1); each is made once. */
export function ensureClips (): void {
  execFileSync('bash', ['scripts/test-clips.sh'], { stdio: 'inherit', env: { ...process.env, FEDRA_BENCH_CLIPS: '1' } })
}

/** Video packets (= frames) in a clip, by ffprobe. */
export function frameCount (clip: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', join(CLIPS, clip)], { encoding: 'utf8' })
  return Number(out.trim())
}

export function clipBase64 (clip: string): string {
  return readFileSync(join(CLIPS, clip)).toString('base64')
}

export function clipMiB (clip: string): number {
  return statSync(join(CLIPS, clip)).size / (1024 * 1024)
}

/** Native ffmpeg, one thread for the decoder, the filter graph and the encoder; wall ms. */
export async function nativeFfmpeg (clip: string, encoder: string[], out: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fedra-ffmpeg-'))
  try {
    const t0 = performance.now()
    await new Promise<void>((resolve, reject) => {
      const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-threads', '1', '-filter_threads', '1', '-i', join(CLIPS, clip), ...ffmpegArgs(encoder, join(dir, out))], { stdio: ['ignore', 'ignore', 'inherit'] })
      p.once('error', reject)
      p.once('exit', code => { code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`)) })
    })
    return performance.now() - t0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.webm': 'video/webm', '.mp4': 'video/mp4', '.html': 'text/html' }
const ROUTES: Record<string, string> = {
  ffmpeg: 'node_modules/@ffmpeg/ffmpeg/dist/esm',
  core: 'node_modules/@ffmpeg/core/dist/esm',
  clips: CLIPS
}

/**
 * `/` a blank page, `/ffmpeg/*` @ffmpeg/ffmpeg's ESM build, `/core/*` the
 * single-thread ESM core, `/clips/*` the clips (CORS open, so the app's
 * pages on the relay's origin fetch them too). Loopback only.
 */
export async function startStaticServer (): Promise<{ url: string, stop: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const [, route, file] = (req.url ?? '/').split('?')[0].split('/')
    res.setHeader('Access-Control-Allow-Origin', '*')
    if (route === '') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>ffmpeg.wasm</title><p>ffmpeg.wasm bench</p>')
      return
    }
    const dir = ROUTES[route ?? '']
    const path = dir != null && file != null ? join(dir, basename(decodeURIComponent(file))) : ''
    if (path === '' || !existsSync(path)) { res.writeHead(404).end(); return }
    res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': statSync(path).size })
    createReadStream(path).pipe(res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, stop: async () => { await new Promise(resolve => server.close(resolve)) } }
}

/** Resident memory (MiB) of the renderer processes among `pids` (Chromium's `--type=renderer`). */
export function rendererRssMiB (pids: number[]): number {
  let kb = 0
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue
      kb += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
    } catch {}
  }
  return kb / 1024
}

/** The pids in a cgroup directory. */
export function cgroupPids (dir: string): number[] {
  try { return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number) } catch { return [] }
}
