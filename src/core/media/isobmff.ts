/**
 * MP4 files name the second they were written in (`mvhd`, `tkhd`, `mdhd`
 * creation and modification times), so two muxes of the same units differ.
 * Zeroing those times (ffmpeg does the same when no creation time is given)
 * makes the file a function of its content: a room's output equals a
 * one-tab run byte for byte.
 */
const CONTAINERS = new Set(['moov', 'trak', 'mdia'])
const TIMED = new Set(['mvhd', 'tkhd', 'mdhd'])

function type (b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/**
 * Sets the creation and modification times of an MP4/MOV file's movie,
 * track and media headers to 0, in place. Returns how many headers it
 * changed; stops quietly at anything it cannot parse.
 */
export function clearMp4Times (bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let changed = 0
  const walk = (start: number, end: number): void => {
    let at = start
    while (at + 8 <= end) {
      let size = view.getUint32(at)
      let header = 8
      if (size === 1) {
        if (at + 16 > end) return
        const big = view.getBigUint64(at + 8)
        if (big > BigInt(end - at)) return
        size = Number(big)
        header = 16
      } else if (size === 0) {
        size = end - at
      }
      if (size < header || at + size > end) return
      const t = type(bytes, at + 4)
      const body = at + header
      if (CONTAINERS.has(t)) {
        walk(body, at + size)
      } else if (TIMED.has(t) && body + 4 <= at + size) {
        const version = bytes[body]
        const times = body + 4
        const width = version === 1 ? 8 : 4
        if (times + 2 * width <= at + size) {
          bytes.fill(0, times, times + 2 * width)
          changed++
        }
      }
      at += size
    }
  }
  walk(0, bytes.byteLength)
  return changed
}
