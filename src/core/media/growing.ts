/**
 * A list that grows while it is read: the pieces of a file still being
 * written (a recording's chunks as MediaRecorder hands them over). Readers
 * get every piece in order from any position, wait for the next one while
 * the list is open, and end when it is closed (or throw when it failed).
 * Pure: the browser wrapper is src/media/live.ts.
 */
export class GrowingList<T> {
  private readonly items: T[] = []
  private waiters: Array<() => void> = []
  private closed = false
  private failure: { error: unknown } | undefined

  /** Pieces so far. */
  get length (): number {
    return this.items.length
  }

  /** True once `close()` or `fail()` was called: no piece will be added. */
  get ended (): boolean {
    return this.closed || this.failure != null
  }

  /** The pieces so far (a copy). */
  snapshot (): T[] {
    return this.items.slice()
  }

  push (item: T): void {
    if (this.ended) throw new Error('GrowingList: push after close')
    this.items.push(item)
    this.wake()
  }

  /** No more pieces: readers end after the last one. */
  close (): void {
    if (this.ended) return
    this.closed = true
    this.wake()
  }

  /** The source failed: readers throw `error` once they have read what came before. */
  fail (error: unknown): void {
    if (this.ended) return
    this.failure = { error }
    this.wake()
  }

  /**
   * Every piece from index `from` on, each as soon as it is pushed; ends
   * when the list is closed. `signal` ends the wait for the next piece with
   * the signal's reason.
   */
  async * read (from = 0, opts: { signal?: AbortSignal } = {}): AsyncGenerator<T, void, undefined> {
    for (let i = Math.max(0, from); ; i++) {
      while (i >= this.items.length) {
        if (this.failure != null) throw this.failure.error
        if (this.closed) return
        await this.next(opts.signal)
      }
      yield this.items[i]
    }
  }

  private async next (signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters = this.waiters.filter(w => w !== done)
        reject(signal?.reason)
      }
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      this.waiters.push(done)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  private wake (): void {
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w()
  }
}
