/**
 * The built-in filters, for the UI and for job specs. The `.wasm` files are
 * built by scripts/build-filters.mjs into public/filters/ (index.json there
 * lists sizes and SHA-256 digests).
 */
import { PAGE_SIZE } from '../runtime/abi.js'

export type FilterKind = 'image' | 'mapreduce' | 'bytes'

export interface FilterParam {
  name: string
  label: string
  min: number
  max: number
  default: number
}

export interface FilterParamInput {
  /** Tile size, for image filters. */
  width?: number
  height?: number
  /** Values of the filter's own params, by name; defaults fill the gaps. */
  values?: Record<string, number>
}

export interface CatalogEntry {
  name: string
  /** File name under public/filters/. */
  wasm: string
  entry: string
  /** Second entry of a MapReduce function. */
  reduceEntry?: string
  kind: FilterKind
  description: string
  params: FilterParam[]
  encodeParams(input?: FilterParamInput): Uint8Array
  /** A memory cap (pages) that fits an input of this many bytes. */
  memoryPagesFor(inputBytes: number): number
}

/** u32le width, u32le height, then each param as u32le. */
export function encodeImageParams (width: number, height: number, extra: number[] = []): Uint8Array {
  const out = new Uint8Array(8 + 4 * extra.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, width, true)
  view.setUint32(4, height, true)
  extra.forEach((v, i) => { view.setUint32(8 + 4 * i, v, true) })
  return out
}

// Input copy + `factor` times its size of scratch + 8 KiB for static data,
// params and the stack: small tiles then fit one page, which is what a
// microcontroller gives a function.
const RESERVED_BYTES = 8 * 1024
function pagesFor (factor: number): (inputBytes: number) => number {
  return (inputBytes) => Math.max(1, Math.ceil((inputBytes * factor + RESERVED_BYTES) / PAGE_SIZE))
}

function image (name: string, description: string, scratchFactor: number, params: FilterParam[] = []): CatalogEntry {
  return {
    name,
    wasm: `${name}.wasm`,
    entry: name,
    kind: 'image',
    description,
    params,
    encodeParams (input = {}) {
      if (input.width == null || input.height == null) throw new RangeError(`${name} needs the tile's width and height`)
      return encodeImageParams(input.width, input.height, params.map(p => Math.min(p.max, Math.max(p.min, input.values?.[p.name] ?? p.default))))
    },
    memoryPagesFor: pagesFor(1 + scratchFactor)
  }
}

export const FILTERS: readonly CatalogEntry[] = [
  image('grayscale', 'Grey scale (BT.601 luma, integer weights 77/150/29)', 0),
  image('invert', 'Negative: inverts red, green and blue', 0),
  image('pixelate', 'Pixelate: each block takes its mean colour', 0, [{ name: 'block', label: 'Block size', min: 1, max: 256, default: 8 }]),
  image('blur', '3×3 box blur, edges clamped', 1),
  image('sobel', 'Sobel edges on luma, |Gx| + |Gy|', 0.25),
  {
    name: 'wordcount',
    wasm: 'wordcount.wasm',
    entry: 'map',
    reduceEntry: 'reduce',
    kind: 'mapreduce',
    description: 'Word count: lower-cased words of letters, digits and non-ASCII bytes',
    params: [],
    encodeParams: () => new Uint8Array(0),
    // Worst case, a chunk of one-letter words: hash table 8×, entries 8×.
    memoryPagesFor: pagesFor(17)
  },
  {
    name: 'echo',
    wasm: 'echo.wasm',
    entry: 'echo',
    kind: 'bytes',
    description: 'Returns its input (latency benchmarks)',
    params: [],
    encodeParams: () => new Uint8Array(0),
    memoryPagesFor: pagesFor(1)
  }
]

export function findFilter (name: string): CatalogEntry | undefined {
  return FILTERS.find(f => f.name === name)
}
