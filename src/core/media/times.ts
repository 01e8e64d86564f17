/**
 * Frame times a unit can rely on, repaired as packets are read:
 *
 * - **Every frame gets a duration.** A WebM written by MediaRecorder stores
 *   none (no BlockDuration, no DefaultDuration): the demuxer derives each
 *   from the next frame's time within a cluster and leaves the last frame
 *   of every cluster at 0 — one frame a second, and the last frame of the
 *   file, which would make the output a frame short. A frame with no
 *   duration is held until the next one: in a stream without reordering
 *   (VP8, VP9, AV1) it lasts until the next frame starts; otherwise, and at
 *   the end, as long as the frame before it. Frames with a duration pass
 *   at once.
 * - **Without reordering, times increase.** A loaded recorder can stamp two
 *   frames with the same time (seen: two at 12.662 s in a Chromium
 *   recording). The unit step knows a decoded frame by its time, so two
 *   frames at one time would lose one; a frame not after the one before it
 *   is moved to 1 µs after it (the same millisecond in any container).
 */
export interface TimedPacket {
  /** Presentation time, µs. */
  timestamp: number
  /** µs; 0 (or less) when the container did not say. */
  duration: number
}

export class FrameTimes<P extends TimedPacket> {
  private pending: P | undefined
  /** The last duration the container gave. */
  private last = 0
  private previous = -Infinity

  /** `inOrder`: decode order is presentation order (no B-frames), so the next frame's time ends this one. */
  constructor (private readonly opts: { inOrder: boolean }) {}

  /** The next packet in decode order; returns the packets whose times are now settled, in order. */
  push (packet: P): P[] {
    let p = packet
    if (this.opts.inOrder) {
      if (p.timestamp <= this.previous) p = { ...p, timestamp: this.previous + 1 }
      this.previous = p.timestamp
    }
    const out: P[] = []
    const held = this.pending
    if (held != null) {
      this.pending = undefined
      const gap = p.timestamp - held.timestamp
      out.push(this.settle(held, this.opts.inOrder && gap > 0 ? gap : this.last))
    }
    if (p.duration > 0) {
      this.last = p.duration
      out.push(p)
    } else {
      this.pending = p
    }
    return out
  }

  /** The stream ended: the packet still held, if any, lasts as long as the one before it. */
  end (): P[] {
    const held = this.pending
    this.pending = undefined
    return held == null ? [] : [this.settle(held, this.last)]
  }

  private settle (p: P, duration: number): P {
    return duration > 0 ? { ...p, duration } : p
  }
}
