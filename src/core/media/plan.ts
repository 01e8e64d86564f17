/**
 * Streaming GOP planner: turns a video's packets, in decode order, into
 * work units while the file is still being read (see docs/video.md).
 *
 * - Short GOPs are grouped until a unit reaches `targetUs`; a unit is
 *   closed at the end of the GOP that takes it there, or before a GOP that
 *   would take it past `maxUs` (when what it holds is under half the
 *   target, that instead becomes the start of a piece cut inside the GOP).
 * - A GOP longer than `maxUs` is split into pieces of about `targetUs`,
 *   each decoded from the GOP's key frame (`first < from`). A piece ends
 *   only where every presentation timestamp before the split (in the GOP)
 *   is below every one after it, checked over the next `lookahead` packets
 *   (B-frames reorder at most that deep) or over the rest of the GOP once
 *   it has ended. So units concatenate in presentation order.
 * - Packets before the first key frame cannot be decoded and belong to no
 *   unit (`dropped` counts them).
 *
 * Every packet from the first key frame on is output by exactly one unit,
 * and units come out in order, each as soon as it can no longer change.
 */
export interface PacketMeta {
  key: boolean
  /** Presentation time, µs. */
  timestamp: number
  /** µs. */
  duration: number
}

export interface UnitPlan {
  index: number
  /** Decode index of the key frame the unit decodes from. */
  first: number
  /** First decode index whose frame is output. */
  from: number
  /** Exclusive. */
  to: number
}

export interface UnitPlannerOptions {
  /** Target unit length, µs (default 1 000 000). */
  targetUs?: number
  /** GOPs longer than this are split, µs (default 2 × target). */
  maxUs?: number
  /**
   * Packets checked after a split point for reordered timestamps
   * (default 16, H.264's deepest reorder; 1 suits VP8/VP9/AV1, whose
   * containers hold no reordered frames).
   */
  lookahead?: number
}

export class UnitPlanner {
  readonly targetUs: number
  readonly maxUs: number
  readonly lookahead: number
  /** Packets before the first key frame, left out of every unit. */
  dropped = 0

  private n = 0
  private nextIndex = 0
  /** The open unit: decodes from `first`, outputs from `from`; -1 when none is open. */
  private first = -1
  private from = -1
  /** Duration of the open unit's output packets [from, n), µs. */
  private unitUs = 0
  /** The GOP being read: its key frame's decode index and its packets. */
  private gopKey = -1
  private gop: PacketMeta[] = []
  private gopUs = 0
  /** The highest timestamp of the GOP's packets before `from` (pieces cut so far). */
  private beforeFrom = -Infinity
  /** Pieces are being cut inside the GOP being read (it is long, or the unit ran past maxUs in it). */
  private splitting = false
  private ended = false

  constructor (opts: UnitPlannerOptions = {}) {
    this.targetUs = opts.targetUs ?? 1_000_000
    this.maxUs = opts.maxUs ?? 2 * this.targetUs
    this.lookahead = Math.max(1, Math.floor(opts.lookahead ?? 16))
    if (!(this.targetUs > 0) || !(this.maxUs >= this.targetUs)) {
      throw new RangeError(`UnitPlanner: need 0 < targetUs <= maxUs (got ${this.targetUs}, ${this.maxUs})`)
    }
  }

  /** Packets pushed so far (the next packet's decode index). */
  get packets (): number {
    return this.n
  }

  /** Adds the next packet in decode order; returns the units it completes. */
  push (p: PacketMeta): UnitPlan[] {
    if (this.ended) throw new Error('UnitPlanner: push after end()')
    const i = this.n++
    const out: UnitPlan[] = []
    if (p.key) {
      if (this.gopKey >= 0) this.closeGop(i, out)
      this.gopKey = i
      this.gop = []
      this.gopUs = 0
      this.beforeFrom = -Infinity
      this.splitting = false
      if (this.first < 0) this.open(i, i)
    } else if (this.gopKey < 0) {
      this.dropped++
      return out
    }
    const d = Math.max(0, p.duration)
    this.gop.push(p)
    this.gopUs += d
    this.unitUs += d
    if (!this.splitting && this.first !== this.gopKey && this.unitUs > this.maxUs) {
      // the unit holds whole GOPs, and this one takes it past maxUs: close
      // it before this GOP, or, if what it holds is short, keep that as the
      // start of a piece cut inside this GOP (no sliver of a unit)
      const wholeUs = this.unitUs - this.gopUs
      if (wholeUs >= this.targetUs / 2) {
        this.emit(this.gopKey, out)
        this.open(this.gopKey, this.gopKey)
        this.unitUs = this.gopUs
      } else {
        this.splitting = true
      }
    }
    if (!this.splitting && this.gopUs > this.maxUs) this.splitting = true
    if (this.splitting) this.cutPieces(false, out)
    return out
  }

  /** The stream has ended: returns the last units. */
  end (): UnitPlan[] {
    if (this.ended) return []
    this.ended = true
    const out: UnitPlan[] = []
    if (this.gopKey >= 0) this.closeGop(this.n, out)
    if (this.first >= 0) this.emit(this.n, out)
    return out
  }

  private open (first: number, from: number): void {
    this.first = first
    this.from = from
    this.unitUs = 0
  }

  private emit (to: number, out: UnitPlan[]): void {
    if (to > this.from) out.push({ index: this.nextIndex++, first: this.first, from: this.from, to })
    this.first = -1
    this.from = -1
    this.unitUs = 0
  }

  /** The GOP being read ends before decode index `end`. */
  private closeGop (end: number, out: UnitPlan[]): void {
    if (this.splitting) {
      this.cutPieces(true, out)
      this.emit(end, out)
    } else if (this.unitUs >= this.targetUs) {
      this.emit(end, out)
    }
  }

  /**
   * Cuts pieces of about targetUs off the open unit, at split points inside
   * the GOP being read, while at least 1.5 × target is pending (so the last
   * piece is not a sliver). The open unit may start with short whole GOPs
   * before this one. `complete`: the GOP has ended, every timestamp is known.
   */
  private cutPieces (complete: boolean, out: UnitPlan[]): void {
    const key = this.gopKey
    const gop = this.gop
    const gopEnd = key + gop.length
    for (;;) {
      if (this.unitUs < 1.5 * this.targetUs) return
      const inGop = this.from >= key
      // what the unit holds before this GOP (closed GOPs: all presented earlier)
      let acc = inGop ? 0 : this.unitUs - this.gopUs
      let before = inGop ? this.beforeFrom : -Infinity
      let cut = -1
      for (let s = Math.max(this.from, key) + 1; s < gopEnd; s++) {
        const prev = gop[s - 1 - key]
        acc += Math.max(0, prev.duration)
        before = Math.max(before, prev.timestamp)
        if (acc < this.targetUs) continue
        const end = complete ? gopEnd : s + this.lookahead
        if (end > gopEnd) return // not enough packets after s to judge it yet
        let after = Infinity
        for (let j = s; j < end; j++) after = Math.min(after, gop[j - key].timestamp)
        if (before < after) { cut = s; break }
      }
      if (cut < 0) return
      out.push({ index: this.nextIndex++, first: this.first, from: this.from, to: cut })
      this.beforeFrom = before
      this.unitUs -= acc
      this.first = key
      this.from = cut
    }
  }
}

/** Plans a whole list of packets at once (tests, and files read up front). */
export function planUnits (packets: readonly PacketMeta[], opts?: UnitPlannerOptions): UnitPlan[] {
  const planner = new UnitPlanner(opts)
  const out: UnitPlan[] = []
  for (const p of packets) out.push(...planner.push(p))
  out.push(...planner.end())
  return out
}
