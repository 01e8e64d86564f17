import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { FunctionFailedError } from '../core/errors.js'
import { createExecutor, type Executor } from '../runtime/executor.js'
import { inspectModule } from '../runtime/abi.js'
import { buildFilters, filterWasm, noise } from '../runtime/test-support.js'
import { encodeImageParams, FILTERS, findFilter } from './catalog.js'
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

  it('fits a 256x256 tile under the cap the catalog suggests', async () => {
    const img = image(256, 256)
    for (const name of ['grayscale', 'blur', 'sobel']) {
      const pages = findFilter(name)?.memoryPagesFor(img.data.length) ?? 0
      expect((await runFilter(name, name, img.data, encodeImageParams(256, 256), pages)).length).toBe(img.data.length)
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
  const index = JSON.parse(readFileSync(new URL('../../public/filters/index.json', import.meta.url), 'utf8')) as { filters: Array<{ name: string, file: string, entries: string[], size: number }> }

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

  it('encodes image params as u32le width, height, then values', () => {
    const p = findFilter('pixelate')?.encodeParams({ width: 640, height: 360, values: { block: 16 } })
    expect([...(p ?? [])]).toEqual([128, 2, 0, 0, 104, 1, 0, 0, 16, 0, 0, 0])
  })
})
