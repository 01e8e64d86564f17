import type { SimTask } from './workload.js'

export interface QueueEntry {
  task: SimTask
  /** False once placed (batch mode may place entries from the middle). */
  live: boolean
  /** A copy of a task still running elsewhere (an overdue one): its first result wins. */
  backup?: boolean
  /** Its size in reference tasks of its function (default 1): what it adds to the work waiting. */
  scale?: number
}

/** Pending tasks of one class: FIFO, with re-queued tasks served first. */
export class TaskQueue {
  private readonly items: QueueEntry[] = []
  private head = 0
  private readonly front: QueueEntry[] = []
  private live = 0
  private sizes = 0

  get size (): number { return this.live }

  /**
   * Live entries' sizes summed, in reference tasks: the work waiting is
   * this × the function's work. The count alone priced every task at the
   * reference task's work, and with the largest task as the reference (the
   * first one sized) it overstated the backlog by half.
   */
  get sizeSum (): number { return this.live > 0 ? this.sizes : 0 }

  push (e: QueueEntry): void { this.items.push(e); this.gain(e) }

  unshift (e: QueueEntry): void { this.front.push(e); this.gain(e) }

  private gain (e: QueueEntry): void { this.live++; this.sizes += e.scale ?? 1 }

  private lose (e: QueueEntry): void { e.live = false; this.live--; this.sizes -= e.scale ?? 1 }

  peek (): QueueEntry | undefined {
    while (this.front.length > 0 && !this.front[this.front.length - 1].live) this.front.pop()
    if (this.front.length > 0) return this.front[this.front.length - 1]
    while (this.head < this.items.length && !this.items[this.head].live) this.head++
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head)
      this.head = 0
    }
    return this.items[this.head]
  }

  shift (): QueueEntry | undefined {
    const e = this.peek()
    if (e == null) return undefined
    this.lose(e)
    return e
  }

  /** The last live entry (the smallest, when the queue is sorted largest first); re-queued entries count as the front. */
  peekBack (): QueueEntry | undefined {
    while (this.items.length > this.head && !this.items[this.items.length - 1].live) this.items.pop()
    if (this.items.length > this.head) return this.items[this.items.length - 1]
    return this.peek()
  }

  /** Removes and returns the last live entry. */
  pop (): QueueEntry | undefined {
    const e = this.peekBack()
    if (e == null) return undefined
    this.lose(e)
    return e
  }

  /** Takes an entry out from the middle (batch mode places any of them). */
  take (e: QueueEntry): void { if (e.live) this.lose(e) }

  /** Appends up to `max` live entries (re-queued first) to `out`, without removing them. */
  collect (out: QueueEntry[], max: number): void {
    for (let i = this.front.length - 1; i >= 0 && out.length < max; i--) if (this.front[i].live) out.push(this.front[i])
    for (let i = this.head; i < this.items.length && out.length < max; i++) if (this.items[i].live) out.push(this.items[i])
  }
}
