/**
 * The built-in filters, for the UI and for job specs. The `.wasm` files are
 * built by scripts/build-filters.mjs into public/filters/ (index.json there
 * lists sizes and SHA-256 digests). Image filters come in two builds: the
 * scalar `<name>.wasm` (MVP only, runs everywhere, boards included) and
 * `<name>.simd.wasm` (WebAssembly SIMD); both give the same bytes.
 */
import type { CapabilityFlag, Requirement } from '../core/requirements/requirement.js'
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
  /** Human name for the UI, e.g. "Edges" for sobel. */
  title: string
  /** File name under public/filters/: the scalar, MVP-only build. */
  wasm: string
  /**
   * The SIMD build, for filters whose source has a v128 path. Left out where
   * the SIMD build compiles to the same code as the scalar one (it would
   * only narrow placement to peers with wasmSimd).
   */
  simdWasm?: string
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

interface ImageOptions {
  /** Scratch memory as a multiple of the tile's bytes. */
  scratch: number
  params?: FilterParam[]
  /** The source has a v128 path, so `<name>.simd.wasm` differs from `<name>.wasm`. */
  simd?: boolean
}

function image (name: string, title: string, description: string, opts: ImageOptions): CatalogEntry {
  const params = opts.params ?? []
  return {
    name,
    title,
    wasm: `${name}.wasm`,
    ...(opts.simd === true ? { simdWasm: `${name}.simd.wasm` } : {}),
    entry: name,
    kind: 'image',
    description,
    params,
    encodeParams (input = {}) {
      if (input.width == null || input.height == null) throw new RangeError(`${name} needs the tile's width and height`)
      return encodeImageParams(input.width, input.height, params.map(p => Math.min(p.max, Math.max(p.min, input.values?.[p.name] ?? p.default))))
    },
    memoryPagesFor: pagesFor(1 + opts.scratch)
  }
}

export const FILTERS: readonly CatalogEntry[] = [
  image('grayscale', 'Grayscale', 'Grey scale (BT.601 luma, integer weights 77/150/29)', { scratch: 0, simd: true }),
  image('invert', 'Invert', 'Negative: inverts red, green and blue', { scratch: 0, simd: true }),
  image('pixelate', 'Pixelate', 'Pixelate: each block takes its mean colour', {
    scratch: 0,
    params: [{ name: 'block', label: 'Block size', min: 1, max: 256, default: 8 }]
  }),
  image('blur', 'Blur', '3×3 box blur, edges clamped', { scratch: 1 }),
  image('sobel', 'Edges', 'Sobel edges on luma, |Gx| + |Gy|', { scratch: 0.25 }),
  image('sepia', 'Sepia', 'Sepia tone (integer sepia matrix, clamped to 255)', { scratch: 0, simd: true }),
  image('brightness', 'Brightness/contrast', 'Brightness (-255…255) and contrast (0…200 %), integer arithmetic', {
    scratch: 0,
    simd: true,
    params: [
      // u32 on the wire: brightness - 255 is added, so 255 leaves it unchanged
      { name: 'brightness', label: 'Brightness (255 = unchanged)', min: 0, max: 510, default: 255 },
      { name: 'contrast', label: 'Contrast (%)', min: 0, max: 200, default: 100 }
    ]
  }),
  // A u16 per column of scratch: at most half the tile's bytes (a one-row tile).
  image('vignette', 'Vignette', 'Darkens towards the corners of the tile (fixed point)', {
    scratch: 0.5,
    params: [{ name: 'strength', label: 'Strength (%)', min: 0, max: 100, default: 50 }]
  }),
  // Row sums, three u16 per pixel: 1.5 times the tile's bytes.
  image('boxblur', 'Box blur', 'Box blur of radius r ((2r+1)² window), edges clamped', {
    scratch: 1.5,
    params: [{ name: 'radius', label: 'Radius', min: 1, max: 32, default: 4 }]
  }),
  {
    name: 'wordcount',
    title: 'Word count',
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
    title: 'Echo',
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

/** Which build of a filter a job publishes. */
export interface FilterBuild {
  /** File name under public/filters/. */
  wasm: string
  /** True for the SIMD build: its tasks require the wasmSimd capability. */
  simd: boolean
}

/**
 * The SIMD build when the entry has one and `caps` says WebAssembly SIMD is
 * available, else the scalar build. Pure: pass the capabilities of the peer
 * (or the least capable peer) the job should run on.
 */
export function chooseBuild (entry: Pick<CatalogEntry, 'wasm' | 'simdWasm'>, caps: { wasmSimd: boolean }): FilterBuild {
  if (caps.wasmSimd && entry.simdWasm != null) return { wasm: entry.simdWasm, simd: true }
  return { wasm: entry.wasm, simd: false }
}

/** The capability flags a build needs: wasmSimd for the SIMD build, none otherwise. */
export function buildCapabilities (build: Pick<FilterBuild, 'simd'>): CapabilityFlag[] {
  return build.simd ? ['wasmSimd'] : []
}

/**
 * `req` with the build's capabilities added (once), so that a task on the
 * SIMD build is placed only on workers with wasmSimd. Returns a new object.
 */
export function requirementForBuild (req: Requirement, build: Pick<FilterBuild, 'simd'>): Requirement {
  const extra = buildCapabilities(build).filter(f => !(req.capabilities ?? []).includes(f))
  if (extra.length === 0) return { ...req }
  return { ...req, capabilities: [...(req.capabilities ?? []), ...extra] }
}
