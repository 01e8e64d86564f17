import { encodeOutputs } from '../protocol/batch.js'
import { restoreFields, saveFields } from './plain.js'
import type { ItemRange } from '../protocol/task.js'
import type { Plain } from './plain.js'

/**
 * What a job run knows of its batch tasks' items: the outputs in so far
 * (from progress reports and results, whoever sent them; the first output
 * of an item wins) and, per copy sent, the range it was sent for and how far
 * its worker says it is. Pure bookkeeping: the runner decides what to do.
 */
export class BatchItems {
  private readonly outputs = new Map<string, Array<Uint8Array | undefined>>()
  private readonly workers = new Map<string, string[]>()
  private readonly sent = new Map<string, ItemRange>()
  private readonly reports = new Map<string, { done: number, at: number }>()

  /** A batch task of `items` items, by its root id. */
  /** The bookkeeping as plain data (plain.ts). */
  toState (): Plain {
    return saveFields(this, ['outputs', 'workers', 'sent', 'reports'])
  }

  static fromState (state: Plain): BatchItems {
    return restoreFields(new BatchItems(), state)
  }

  add (root: string, items: number): void {
    this.outputs.set(root, new Array<Uint8Array | undefined>(items).fill(undefined))
    this.workers.set(root, [])
  }

  has (root: string): boolean {
    return this.outputs.has(root)
  }

  /** Outputs of items `from` on came in from the worker; kept unless an item is in already. */
  store (root: string, from: number, outputs: readonly Uint8Array[], workerId: string): void {
    const items = this.outputs.get(root)
    const by = this.workers.get(root)
    if (items == null || by == null) return
    for (let i = 0; i < outputs.length && from + i < items.length; i++) {
      if (items[from + i] != null) continue
      items[from + i] = outputs[i]
      by[from + i] = workerId
    }
  }

  /** The first item of `range` not in yet (`range.to` when all are). */
  firstMissing (root: string, range: ItemRange): number {
    const items = this.outputs.get(root)
    if (items == null) return range.from
    let i = range.from
    while (i < range.to && items[i] != null) i++
    return i
  }

  /** Every item's output in the batch outputs layout, and who sent each; undefined while one is missing. */
  result (root: string): { output: Uint8Array, itemWorkers: string[] } | undefined {
    const items = this.outputs.get(root)
    if (items == null || items.some(x => x == null)) return undefined
    return { output: encodeOutputs(items as Uint8Array[]), itemWorkers: [...(this.workers.get(root) ?? [])] }
  }

  /** Drops a root's item outputs once the caller has them; its items stay counted as in. */
  release (root: string): void {
    const items = this.outputs.get(root)
    if (items != null) this.outputs.set(root, items.map(x => x == null ? x : new Uint8Array(0)))
  }

  /** A copy (`key`) was sent for `range`. */
  sentFor (key: string, range: ItemRange): void {
    this.sent.set(key, range)
  }

  rangeOf (key: string): ItemRange | undefined {
    return this.sent.get(key)
  }

  /** The copy's worker says it has done items up to `done` (exclusive). */
  reported (key: string, done: number, at: number): void {
    this.reports.set(key, { done, at })
  }

  /** The copy's last report, if any. */
  reportOf (key: string): { done: number, at: number } | undefined {
    return this.reports.get(key)
  }

  /** Where the copy's worker is, by its reports: the first item it has not reported done. */
  position (key: string): number | undefined {
    const sent = this.sent.get(key)
    if (sent == null) return undefined
    return Math.max(sent.from, this.reports.get(key)?.done ?? sent.from)
  }

  /** The copy ended. */
  forget (key: string): void {
    this.sent.delete(key)
    this.reports.delete(key)
  }
}
