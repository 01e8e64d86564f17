/**
 * A binary min-heap of small integer ids (worker indices) keyed by a number,
 * with O(log n) update and removal by id. Ties break on the lower id, so the
 * order is a pure function of the keys: the same inputs give the same picks.
 */
export class IndexedMinHeap {
  private ids: Int32Array
  private keys: Float64Array
  /** Position of an id in `ids`, or -1. Indexed by id. */
  private pos: Int32Array
  private n = 0

  constructor (capacity = 16) {
    this.ids = new Int32Array(capacity)
    this.keys = new Float64Array(capacity)
    this.pos = new Int32Array(capacity).fill(-1)
  }

  get size (): number { return this.n }

  has (id: number): boolean { return id < this.pos.length && this.pos[id] >= 0 }

  /** The id with the smallest key, or -1 when empty. */
  peek (): number { return this.n > 0 ? this.ids[0] : -1 }

  peekKey (): number { return this.n > 0 ? this.keys[0] : Infinity }

  keyOf (id: number): number { return this.has(id) ? this.keys[this.pos[id]] : NaN }

  /** Inserts the id, or moves it to its new key when present. */
  set (id: number, key: number): void {
    if (this.has(id)) {
      const i = this.pos[id]
      const old = this.keys[i]
      this.keys[i] = key
      if (key < old) this.up(i)
      else this.down(i)
      return
    }
    this.grow(id)
    const i = this.n++
    this.ids[i] = id
    this.keys[i] = key
    this.pos[id] = i
    this.up(i)
  }

  delete (id: number): boolean {
    if (!this.has(id)) return false
    const i = this.pos[id]
    const last = --this.n
    this.pos[id] = -1
    if (i !== last) {
      this.ids[i] = this.ids[last]
      this.keys[i] = this.keys[last]
      this.pos[this.ids[i]] = i
      this.up(i)
      this.down(this.pos[this.ids[i]])
    }
    return true
  }

  pop (): number {
    const id = this.peek()
    if (id >= 0) this.delete(id)
    return id
  }

  /** Every id, in no particular order (for rebuilding keys). */
  all (): number[] {
    return Array.from(this.ids.subarray(0, this.n))
  }

  /** Copies every id into `out` from `at` (which must have room); returns the end. */
  copyIds (out: Int32Array, at: number): number {
    out.set(this.ids.subarray(0, this.n), at)
    return at + this.n
  }

  private less (i: number, j: number): boolean {
    const a = this.keys[i]
    const b = this.keys[j]
    return a < b || (a === b && this.ids[i] < this.ids[j])
  }

  private swap (i: number, j: number): void {
    const id = this.ids[i]; this.ids[i] = this.ids[j]; this.ids[j] = id
    const k = this.keys[i]; this.keys[i] = this.keys[j]; this.keys[j] = k
    this.pos[this.ids[i]] = i
    this.pos[this.ids[j]] = j
  }

  private up (i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) return
      this.swap(i, p)
      i = p
    }
  }

  private down (i: number): void {
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.n) return
      const r = l + 1
      const m = r < this.n && this.less(r, l) ? r : l
      if (!this.less(m, i)) return
      this.swap(m, i)
      i = m
    }
  }

  private grow (id: number): void {
    if (this.n >= this.ids.length) {
      const ids = new Int32Array(this.ids.length * 2); ids.set(this.ids); this.ids = ids
      const keys = new Float64Array(this.keys.length * 2); keys.set(this.keys); this.keys = keys
    }
    if (id >= this.pos.length) {
      const pos = new Int32Array(Math.max(id + 1, this.pos.length * 2)).fill(-1)
      pos.set(this.pos)
      this.pos = pos
    }
  }
}
