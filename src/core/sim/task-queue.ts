import type { SimTask } from './workload.js'

export interface QueueEntry {
  task: SimTask
  /** False once placed (batch mode may place entries from the middle). */
  live: boolean
  /** A copy of a task still running elsewhere (an overdue one): its first result wins. */
  backup?: boolean
}

/** Pending tasks of one class: FIFO, with re-queued tasks served first. */
export class TaskQueue {
  private readonly items: QueueEntry[] = []
  private head = 0
  private readonly front: QueueEntry[] = []
  private live = 0

  get size (): number { return this.live }

  push (e: QueueEntry): void { this.items.push(e); this.live++ }

  unshift (e: QueueEntry): void { this.front.push(e); this.live++ }

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
    e.live = false
    this.live--
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
    e.live = false
    this.live--
    return e
  }

  /** An entry was marked not live from outside (placed from the middle). */
  dead (): void { this.live-- }

  /** Appends up to `max` live entries (re-queued first) to `out`, without removing them. */
  collect (out: QueueEntry[], max: number): void {
    for (let i = this.front.length - 1; i >= 0 && out.length < max; i--) if (this.front[i].live) out.push(this.front[i])
    for (let i = this.head; i < this.items.length && out.length < max; i++) if (this.items[i].live) out.push(this.items[i])
  }
}
