/**
 * The Edit screen's filter list: the catalog's image filters and the
 * person's own `.wasm` filters, in the order they apply, with their
 * parameters. Checked filters run, top to bottom.
 */
import { signal } from '@preact/signals'
import { FILTERS } from '../filters/catalog.js'
import { inspectModule } from '../runtime/abi.js'
import type { CatalogEntry, FilterParam } from '../filters/catalog.js'
import type { ModuleInfo } from '../runtime/abi.js'
import type { VideoFilterChoice } from '../peer/video-job.js'
import type { SharedFilter } from '../core/registry/shared-filters.js'

export interface FilterItem {
  /** Catalog name, or `fedra://<cid>` for a custom filter. */
  name: string
  title: string
  description: string
  params: FilterParam[]
  values: Record<string, number>
  checked: boolean
  custom?: { entries: string[], size: number }
}

export function titleOf (entry: CatalogEntry): string {
  return entry.title
}

export function catalogItems (catalog: readonly CatalogEntry[] = FILTERS): FilterItem[] {
  return catalog.filter(f => f.kind === 'image').map(f => ({
    name: f.name,
    title: titleOf(f),
    description: f.description,
    params: f.params,
    values: Object.fromEntries(f.params.map(p => [p.name, p.default])),
    checked: false
  }))
}

export function move (items: readonly FilterItem[], name: string, by: -1 | 1): FilterItem[] {
  const i = items.findIndex(f => f.name === name)
  const j = i + by
  if (i < 0 || j < 0 || j >= items.length) return items.slice()
  const out = items.slice()
  ;[out[i], out[j]] = [out[j], out[i]]
  return out
}

export function choices (items: readonly FilterItem[]): VideoFilterChoice[] {
  return items.filter(f => f.checked).map((f): VideoFilterChoice => {
    if (f.custom != null) return { name: f.name, entry: f.custom.entries[0] }
    return f.params.length === 0 ? { name: f.name } : { name: f.name, values: { ...f.values } }
  })
}

/** Checks a `.wasm` file against the Fedra ABI; throws InvalidModuleError with the reason. */
export function checkCustomFilter (bytes: Uint8Array): ModuleInfo {
  return inspectModule(bytes)
}

export function customItem (fileName: string, cid: string, info: ModuleInfo): FilterItem {
  const title = fileName.replace(/\.wasm$/i, '').slice(0, 40) || 'Custom filter'
  return {
    name: `fedra://${cid}`,
    title,
    description: `Your filter (${info.size} bytes; entry ${info.entries.join(', ')})`,
    params: [],
    values: {},
    checked: true,
    custom: { entries: info.entries, size: info.size }
  }
}

export const filterItems = signal<FilterItem[]>(catalogItems())

/** A filter someone in the room shared (their own `.wasm`, by CID): listed unticked. */
export function sharedItem (f: SharedFilter): FilterItem {
  return {
    name: `fedra://${f.cid}`,
    title: f.title,
    description: `Shared in the room (entry ${f.entry})`,
    params: [],
    values: {},
    checked: false,
    custom: { entries: [f.entry], size: 0 }
  }
}

/** Adds the room's shared filters not listed yet; the same list back when none is new. */
export function withShared (items: FilterItem[], shared: readonly SharedFilter[]): FilterItem[] {
  const have = new Set(items.map(f => f.name))
  const fresh = shared.filter(f => !have.has(`fedra://${f.cid}`))
  return fresh.length === 0 ? items : [...items, ...fresh.map(sharedItem)]
}
