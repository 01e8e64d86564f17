import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { FunctionFailedError } from '../core/errors.js'
import { createExecutor, type Executor } from '../runtime/executor.js'
import { inspectModule } from '../runtime/abi.js'
import { buildFilters, filterWasm, noise } from '../runtime/test-support.js'
import { buildCapabilities, chooseBuild, encodeImageParams, FILTERS, findFilter, requirementForBuild } from './catalog.js'
import { decodeRecords, readU32le } from './records.js'
import * as ref from './reference.js'

let exec: Executor

beforeAll(() => {
  buildFilters()
  exec = createExecutor()
}, 60_000)

async function runFilter (name: string, entry: string, input: Uint8Array, params: Uint8Array, memoryPages = 64): Promise<Uint8Array> {
  const res = await exec.run({ key: name, module: filterWasm(name), entry, input, params, memoryPages })
  return res.output
}

function image (width: number, height: number, seed?: number): ref.Image {
  return { data: noise(width * height * 4, seed), width, height }
}

describe('image filters match the reference byte for byte', () => {
  const sizes: Array<[number, number]> = [[1, 1], [3, 2], [37, 23], [64, 48]]
  it('grayscale 256x256', async () => {
    const img = image(256, 256)
    const out = await runFilter('grayscale', 'grayscale', img.data, encodeImageParams(256, 256))
    // Buffer.equals: toEqual on 256 KiB is slow to diff.
    expect(Buffer.from(out).equals(ref.grayscale(img))).toBe(true)
  })
  for (const [w, h] of sizes) {
    it(`grayscale ${w}x${h}`, async () => {
      const img = image(w, h)
      expect(await runFilter('grayscale', 'grayscale', img.data, encodeImageParams(w, h))).toEqual(ref.grayscale(img))
    })
    it(`invert, blur, sobel ${w}x${h}`, async () => {
      const img = image(w, h, w * 31 + h)
      expect(await runFilter('invert', 'invert', img.data, encodeImageParams(w, h))).toEqual(ref.invert(img))
      expect(await runFilter('blur', 'blur', img.data, encodeImageParams(w, h))).toEqual(ref.blur(img))
      expect(await runFilter('sobel', 'sobel', img.data, encodeImageParams(w, h))).toEqual(ref.sobel(img))
    })
  }

  it('pixelate with several block sizes', async () => {
    const img = image(37, 23, 7)
    for (const block of [1, 4, 8, 64]) {
      expect(await runFilter('pixelate', 'pixelate', img.data, encodeImageParams(37, 23, [block]))).toEqual(ref.pixelate(img, block))
    }
  })

  it('keeps alpha and writes Y to R, G, B', async () => {
    const px = new Uint8Array([255, 0, 0, 17, 0, 255, 0, 99])
    const out = await runFilter('grayscale', 'grayscale', px, encodeImageParams(2, 1))
    expect([...out]).toEqual([77, 77, 77, 17, 149, 149, 149, 99])
  })

  it('reports wrong params as a function failure', async () => {
    const img = image(4, 4)
    await expect(runFilter('grayscale', 'grayscale', img.data, encodeImageParams(5, 4))).rejects.toBeInstanceOf(FunctionFailedError)
    await expect(runFilter('pixelate', 'pixelate', img.data, encodeImageParams(4, 4, [0]))).rejects.toBeInstanceOf(FunctionFailedError)
    await expect(runFilter('blur', 'blur', img.data, new Uint8Array(3))).rejects.toBeInstanceOf(FunctionFailedError)
  })

  it('fits a tile under the cap the catalog suggests, params at their most demanding', async () => {
    const most: Record<string, Record<string, number>> = { boxblur: { radius: 32 }, pixelate: { block: 256 }, vignette: { strength: 100 } }
    for (const [w, h] of [[256, 256], [4096, 1], [1, 4096]]) {
      const img = image(w, h)
      for (const f of FILTERS.filter(f => f.kind === 'image')) {
        const params = f.encodeParams({ width: w, height: h, values: most[f.name] })
        for (const build of [f.name, `${f.name}.simd`]) {
          const pages = f.memoryPagesFor(img.data.length)
          expect((await runFilter(build, f.entry, img.data, params, pages)).length, `${build} ${w}x${h}`).toBe(img.data.length)
        }
      }
    }
  })
})

/** Runs the scalar build and the SIMD build, checks that they agree byte for byte, and returns the output. */
async function runBoth (name: string, input: Uint8Array, params: Uint8Array): Promise<Uint8Array> {
  const scalar = await runFilter(name, name, input, params)
  const simd = await runFilter(`${name}.simd`, name, input, params)
  expect(Buffer.from(simd).equals(Buffer.from(scalar)), `${name}.simd.wasm differs from ${name}.wasm`).toBe(true)
  return scalar
}

describe('every image filter: reference, scalar and SIMD builds agree', () => {
  const cases: Array<{ name: string, params: number[][], ref: (img: ref.Image, p: number[]) => Uint8Array }> = [
    { name: 'grayscale', params: [[]], ref: img => ref.grayscale(img) },
    { name: 'invert', params: [[]], ref: img => ref.invert(img) },
    { name: 'pixelate', params: [[1], [3], [256]], ref: (img, [b]) => ref.pixelate(img, b) },
    { name: 'blur', params: [[]], ref: img => ref.blur(img) },
    { name: 'sobel', params: [[]], ref: img => ref.sobel(img) },
    { name: 'sepia', params: [[]], ref: img => ref.sepia(img) },
    {
      name: 'brightness',
      params: [[255, 100], [0, 0], [510, 200], [0, 200], [510, 0], [255, 0], [100, 37], [300, 150], [254, 99]],
      ref: (img, [b, c]) => ref.brightness(img, b, c)
    },
    { name: 'vignette', params: [[0], [1], [50], [100]], ref: (img, [s]) => ref.vignette(img, s) },
    { name: 'boxblur', params: [[1], [2], [7], [32]], ref: (img, [r]) => ref.boxblur(img, r) }
  ]
  // Odd sizes leave a tail after the SIMD builds' four-pixel steps.
  const sizes: Array<[number, number]> = [[1, 1], [7, 5], [33, 17], [64, 48], [2, 41]]
  for (const { name, params, ref: reference } of cases) {
    for (const [w, h] of sizes) {
      it(`${name} ${w}x${h}`, async () => {
        const img = image(w, h, w * 131 + h)
        for (const p of params) {
          const out = await runBoth(name, img.data, encodeImageParams(w, h, p))
          expect(Buffer.from(out).equals(reference(img, p)), `${name}(${p.join(', ')})`).toBe(true)
        }
      })
    }
  }

  it('SIMD builds agree with the scalar ones on a 256x256 tile', async () => {
    const img = image(256, 256, 99)
    for (const f of FILTERS.filter(f => f.kind === 'image')) {
      await runBoth(f.name, img.data, f.encodeParams({ width: 256, height: 256 }))
    }
  })

  it('keeps alpha in every image filter', async () => {
    const img = image(9, 7, 5)
    for (const f of FILTERS.filter(f => f.kind === 'image')) {
      const out = await runBoth(f.name, img.data, f.encodeParams({ width: 9, height: 7 }))
      for (let p = 3; p < out.length; p += 4) expect(out[p], f.name).toBe(img.data[p])
    }
  })
})

describe('new filters: known values and bad params', () => {
  const px = (...rgba: number[]): Uint8Array => new Uint8Array(rgba)

  it('sepia: known pixels; red and green of white clamp to 255', async () => {
    expect([...await runBoth('sepia', px(255, 255, 255, 1, 0, 0, 0, 2, 100, 50, 25, 3), encodeImageParams(3, 1))])
      .toEqual([255, 255, 240, 1, 0, 0, 0, 2, 83, 73, 57, 3])
  })

  it('brightness: defaults change nothing; extremes saturate; contrast 0 gives mid grey', async () => {
    const img = image(5, 3, 11)
    expect(await runBoth('brightness', img.data, encodeImageParams(5, 3, [255, 100]))).toEqual(img.data)
    const dark = await runBoth('brightness', img.data, encodeImageParams(5, 3, [0, 100]))
    const light = await runBoth('brightness', img.data, encodeImageParams(5, 3, [510, 100]))
    const flat = await runBoth('brightness', img.data, encodeImageParams(5, 3, [255, 0]))
    for (let p = 0; p < img.data.length; p++) {
      if (p % 4 === 3) continue
      expect([dark[p], light[p], flat[p]]).toEqual([0, 255, 128])
    }
  })

  it('vignette: strength 0 changes nothing; the centre is kept and the corners darken', async () => {
    const white = new Uint8Array(5 * 5 * 4).fill(255)
    expect(await runBoth('vignette', white, encodeImageParams(5, 5, [0]))).toEqual(white)
    const out = await runBoth('vignette', white, encodeImageParams(5, 5, [100]))
    const at = (x: number, y: number): number => out[(y * 5 + x) * 4]
    expect(at(2, 2)).toBe(255)
    expect(at(0, 0)).toBeLessThan(at(1, 1))
    expect(at(1, 1)).toBeLessThan(at(2, 2))
    expect([at(4, 0), at(0, 4), at(4, 4)]).toEqual([at(0, 0), at(0, 0), at(0, 0)])
  })

  it('boxblur: a flat tile stays flat at any radius', async () => {
    const flat = new Uint8Array(6 * 4 * 4).fill(77)
    for (const r of [1, 32]) expect(await runBoth('boxblur', flat, encodeImageParams(6, 4, [r]))).toEqual(flat)
  })

  it('refuses params out of range as a function failure', async () => {
    const img = image(4, 4)
    const bad: Array<[string, number[]]> = [
      ['brightness', [511, 100]], ['brightness', [255, 201]], ['brightness', [255]],
      ['vignette', [101]], ['vignette', []],
      ['boxblur', [0]], ['boxblur', [33]], ['boxblur', []]
    ]
    for (const [name, p] of bad) {
      for (const build of [name, `${name}.simd`]) {
        await expect(runFilter(build, name, img.data, encodeImageParams(4, 4, p)), `${build}(${p.join(', ')})`).rejects.toBeInstanceOf(FunctionFailedError)
      }
    }
  })
})

describe('word count', () => {
  const text = new TextEncoder().encode(
    'The quick brown fox -- the QUICK dog! 42 foxes, 42 dogs; Ünïcödé wörds stay whole: ÜNÏCÖDÉ. e-mail x2 X2 x2\n' +
    'tabs\tand\r\nnewlines; the end'
  )

  it('map matches the reference map', async () => {
    expect(await runFilter('wordcount', 'map', text, new Uint8Array(0))).toEqual(ref.wordCountMap(text))
  })

  it('map of a chunk without words is empty', async () => {
    expect((await runFilter('wordcount', 'map', new TextEncoder().encode(' ,;-- !'), new Uint8Array(0))).length).toBe(0)
  })

  it('map + shuffle + reduce gives the reference counts', async () => {
    const big = new Uint8Array(noise(40_000, 3).map(b => b % 5 === 0 ? 32 : 97 + (b % 6)))
    const chunks = [text, big.subarray(0, 20_000), big.subarray(20_000), text]
    const mapped = await Promise.all(chunks.map(c => runFilter('wordcount', 'map', c, new Uint8Array(0))))
    for (const [i, c] of chunks.entries()) expect(mapped[i]).toEqual(ref.wordCountMap(c))
    const partitions = ref.shuffle(mapped, 3)
    const counts = new Map<string, number>()
    for (const part of partitions) {
      const reduced = await runFilter('wordcount', 'reduce', part, new Uint8Array(0))
      expect(reduced).toEqual(ref.wordCountReduce(part))
      for (const { key, value } of decodeRecords(reduced)) counts.set(new TextDecoder().decode(key), readU32le(value))
    }
    expect(counts).toEqual(ref.wordCount(chunks, 3))
    expect(counts.get('the')).toBe(6)
    // Only ASCII letters are lower-cased: these stay two words.
    expect(counts.get('Ünïcödé')).toBe(2)
    expect(counts.get('ÜnÏcÖdÉ')).toBe(2)
    expect(counts.get('x2')).toBe(6)
  })

  it('reduce refuses malformed records', async () => {
    await expect(runFilter('wordcount', 'reduce', new Uint8Array([5, 0, 0, 0, 97]), new Uint8Array(0))).rejects.toBeInstanceOf(FunctionFailedError)
  })
})

describe('catalog and build output', () => {
  interface Built { name: string, file: string, entries: string[], size: number, simd?: { file: string, size: number, sha256: string } }
  const index = JSON.parse(readFileSync(new URL('../../public/filters/index.json', import.meta.url), 'utf8')) as { filters: Built[] }

  it('lists every built-in filter with its entry points', () => {
    for (const f of FILTERS) {
      const built = index.filters.find(b => b.file === f.wasm)
      expect(built, f.name).toBeDefined()
      expect(built?.entries).toContain(f.entry)
      if (f.reduceEntry != null) expect(built?.entries).toContain(f.reduceEntry)
      const info = inspectModule(filterWasm(f.name))
      expect(info.imports).toEqual([])
      expect(info.memory.initialPages).toBe(1)
      expect(info.hasStart).toBe(false)
    }
  })

  it('gives every filter its title', () => {
    expect(Object.fromEntries(FILTERS.map(f => [f.name, f.title]))).toEqual({
      grayscale: 'Grayscale',
      invert: 'Invert',
      pixelate: 'Pixelate',
      blur: 'Blur',
      sobel: 'Edges',
      sepia: 'Sepia',
      brightness: 'Brightness/contrast',
      vignette: 'Vignette',
      boxblur: 'Box blur',
      wordcount: 'Word count',
      echo: 'Echo'
    })
  })

  it('builds a SIMD module for every image filter, and only for those', () => {
    const images = FILTERS.filter(f => f.kind === 'image').map(f => f.name).sort()
    expect(index.filters.filter(b => b.simd != null).map(b => b.name).sort()).toEqual(images)
    for (const name of images) {
      const built = index.filters.find(b => b.name === name)
      expect(built?.simd?.file).toBe(`${name}.simd.wasm`)
      const info = inspectModule(filterWasm(`${name}.simd`))
      expect(info.entries).toEqual(built?.entries)
      expect(info.imports).toEqual([])
      expect(info.memory.initialPages).toBe(1)
      expect(info.hasStart).toBe(false)
    }
  })

  it('offers simdWasm exactly where the SIMD build has its own code', () => {
    // A SIMD build that compiles to the scalar bytes gains nothing and would
    // only keep the job off peers without wasmSimd.
    for (const f of FILTERS.filter(f => f.kind === 'image')) {
      const same = Buffer.from(filterWasm(f.name)).equals(filterWasm(`${f.name}.simd`))
      expect(f.simdWasm, f.name).toBe(same ? undefined : `${f.name}.simd.wasm`)
    }
    expect(FILTERS.filter(f => f.simdWasm != null).map(f => f.name)).toEqual(expect.arrayContaining(['grayscale', 'invert', 'sepia', 'brightness']))
  })

  it('chooseBuild picks the SIMD build only when the entry has one and wasmSimd is there', () => {
    const gray = findFilter('grayscale')
    const blur = findFilter('blur')
    if (gray == null || blur == null) throw new Error('catalog lost a filter')
    expect(chooseBuild(gray, { wasmSimd: true })).toEqual({ wasm: 'grayscale.simd.wasm', simd: true })
    expect(chooseBuild(gray, { wasmSimd: false })).toEqual({ wasm: 'grayscale.wasm', simd: false })
    expect(chooseBuild(blur, { wasmSimd: true })).toEqual({ wasm: 'blur.wasm', simd: false })
    expect(chooseBuild({ wasm: 'mine.wasm' }, { wasmSimd: true })).toEqual({ wasm: 'mine.wasm', simd: false })
  })

  it('a task on the SIMD build requires wasmSimd', () => {
    const base = { runtime: 'wasm' as const, memoryPages: 4 }
    expect(buildCapabilities({ simd: true })).toEqual(['wasmSimd'])
    expect(buildCapabilities({ simd: false })).toEqual([])
    expect(requirementForBuild(base, { simd: true })).toEqual({ ...base, capabilities: ['wasmSimd'] })
    expect(requirementForBuild(base, { simd: false })).toEqual(base)
    const withFlags = { ...base, capabilities: ['webgpu' as const, 'wasmSimd' as const] }
    expect(requirementForBuild(withFlags, { simd: true }).capabilities).toEqual(['webgpu', 'wasmSimd'])
    expect(requirementForBuild({ ...base, capabilities: ['webgpu'] }, { simd: true }).capabilities).toEqual(['webgpu', 'wasmSimd'])
    expect(base).toEqual({ runtime: 'wasm', memoryPages: 4 })
  })

  it('encodes brightness/contrast with defaults and clamps to the ranges', () => {
    const f = findFilter('brightness')
    expect([...(f?.encodeParams({ width: 1, height: 1 }) ?? [])].slice(8)).toEqual([255, 0, 0, 0, 100, 0, 0, 0])
    expect([...(f?.encodeParams({ width: 1, height: 1, values: { brightness: -5, contrast: 900 } }) ?? [])].slice(8)).toEqual([0, 0, 0, 0, 200, 0, 0, 0])
  })

  it('encodes image params as u32le width, height, then values', () => {
    const p = findFilter('pixelate')?.encodeParams({ width: 640, height: 360, values: { block: 16 } })
    expect([...(p ?? [])]).toEqual([128, 2, 0, 0, 104, 1, 0, 0, 16, 0, 0, 0])
  })
})
