import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/**
 * What ffprobe (Debian's ffmpeg) says about a video file, in the terms the
 * video tests compare: decoded frame count, duration, size, presentation
 * times, and the audio's packets. Times are rounded to whole milliseconds
 * (containers store them in different time bases).
 */
export interface ProbedVideo {
  /** Frames the decoder read (`-count_frames`). */
  frames: number
  durationS: number
  codec: string
  width: number
  height: number
  /** Presentation time of every decoded frame, ms, in presentation order. */
  ptsList: number[]
  audioCodec?: string
  /** SHA-256 over the audio packets' data (ffmpeg's hash muxer, stream copy): equal when the audio is untouched. */
  audioHash?: string
  /** Audio packets and their presentation times, ms. */
  audioPackets?: number
  audioPtsList?: number[]
  /** The display matrix's rotation as ffprobe states it (0: none). */
  rotation: number
  /** The container's creation time tag, where it has one (MP4's is 0 = none when muxed by Fedra). */
  creationTime?: string
}

const run = promisify(execFile)

async function ffprobe (args: string[]): Promise<string> {
  const { stdout } = await run('ffprobe', ['-v', 'error', ...args], { maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

const ms = (t: string): number => Math.round(Number(t) * 1000)

/** Times in ms from ffprobe's one-value-per-line CSV output, blank and N/A lines left out. */
function times (csv: string): number[] {
  return csv.split('\n').map(l => l.trim().replace(/,$/, '')).filter(l => l !== '' && l !== 'N/A').map(ms)
}

export async function probeVideo (file: string): Promise<ProbedVideo> {
  const info = JSON.parse(await ffprobe([
    '-count_frames', '-show_entries', 'stream=index,codec_type,codec_name,width,height,nb_read_frames:format=duration:format_tags=creation_time', '-of', 'json', file
  ])) as { streams: Array<Record<string, string | number>>, format: { duration?: string, tags?: { creation_time?: string } } }
  const video = info.streams.find(s => s.codec_type === 'video')
  if (video == null) throw new Error(`${file}: no video stream`)
  const audio = info.streams.find(s => s.codec_type === 'audio')
  const ptsList = times(await ffprobe(['-select_streams', 'v:0', '-show_entries', 'frame=best_effort_timestamp_time', '-of', 'csv=p=0', file]))
  const out: ProbedVideo = {
    frames: Number(video.nb_read_frames),
    durationS: Number(info.format.duration),
    codec: String(video.codec_name),
    width: Number(video.width),
    height: Number(video.height),
    ptsList,
    rotation: 0
  }
  const side = JSON.parse(await ffprobe(['-select_streams', 'v:0', '-show_entries', 'stream_side_data_list', '-of', 'json', file])) as { streams?: Array<{ side_data_list?: Array<{ rotation?: number }> }> }
  out.rotation = side.streams?.[0]?.side_data_list?.find(d => d.rotation != null)?.rotation ?? 0
  if (info.format.tags?.creation_time != null) out.creationTime = info.format.tags.creation_time
  if (audio != null) {
    out.audioCodec = String(audio.codec_name)
    const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-c', 'copy', '-f', 'hash', '-hash', 'sha256', '-'], { maxBuffer: 1024 * 1024 })
    out.audioHash = stdout.trim().replace(/^SHA256=/, '')
    out.audioPtsList = times(await ffprobe(['-select_streams', 'a:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file]))
    out.audioPackets = out.audioPtsList.length
  }
  return out
}
