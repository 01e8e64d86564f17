/**
 * The simulator's event queue: a binary min-heap on (time, insertion order),
 * so events at the same time run in the order they were scheduled and a run
 * is a pure function of its seed.
 */
export interface Timed { t: number }

export class EventQueue<E extends Timed> {
  private readonly items: E[] = []
  private readonly seqs: number[] = []
  private seq = 0

  get size (): number { return this.items.length }

  push (e: E): void {
    const items = this.items
    const seqs = this.seqs
    let i = items.length
    items.push(e)
    seqs.push(this.seq++)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.before(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  pop (): E | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop() as E
    const lastSeq = this.seqs.pop() as number
    if (items.length > 0) {
      items[0] = last
      this.seqs[0] = lastSeq
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= items.length) break
        const r = l + 1
        const m = r < items.length && this.before(r, l) ? r : l
        if (!this.before(m, i)) break
        this.swap(m, i)
        i = m
      }
    }
    return top
  }

  private before (i: number, j: number): boolean {
    const a = this.items[i].t
    const b = this.items[j].t
    return a < b || (a === b && this.seqs[i] < this.seqs[j])
  }

  private swap (i: number, j: number): void {
    const e = this.items[i]; this.items[i] = this.items[j]; this.items[j] = e
    const s = this.seqs[i]; this.seqs[i] = this.seqs[j]; this.seqs[j] = s
  }
}
