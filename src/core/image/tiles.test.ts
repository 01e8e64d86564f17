import { describe, expect, it } from 'vitest'
import { cutTile, imageParams, pasteTile, planTiles } from './tiles.js'

function image (width: number, height: number): Uint8Array {
  return Uint8Array.from({ length: width * height * 4 }, (_, i) => (i * 31 + (i >> 7)) & 0xff)
}

describe('planTiles', () => {
  const sizes: Array<[number, number, number]> = [[10, 7, 4], [64, 64, 16], [65, 33, 16], [1, 1, 8], [5, 100, 3], [17, 3, 17], [100, 1, 7]]

  for (const [w, h, s] of sizes) {
    it(`covers a ${w}×${h} image exactly once with ${s}px tiles`, () => {
      const tiles = planTiles(w, h, s)
      expect(tiles).toHaveLength(Math.ceil(w / s) * Math.ceil(h / s))
      const hits = new Uint8Array(w * h)
      for (const [i, t] of tiles.entries()) {
        expect(t.index).toBe(i)
        expect(t.width).toBeGreaterThan(0)
        expect(t.height).toBeGreaterThan(0)
        expect(t.width).toBeLessThanOrEqual(s)
        expect(t.height).toBeLessThanOrEqual(s)
        expect(t.x + t.width).toBeLessThanOrEqual(w)
        expect(t.y + t.height).toBeLessThanOrEqual(h)
        for (let y = t.y; y < t.y + t.height; y++) for (let x = t.x; x < t.x + t.width; x++) hits[y * w + x]++
      }
      expect(hits.every(n => n === 1)).toBe(true)
    })
  }

  it('lists tiles row by row', () => {
    expect(planTiles(5, 4, 3).map(t => [t.x, t.y, t.width, t.height])).toEqual([[0, 0, 3, 3], [3, 0, 2, 3], [0, 3, 3, 1], [3, 3, 2, 1]])
    expect(planTiles(0, 10, 4)).toEqual([])
    expect(planTiles(10, 0, 4)).toEqual([])
  })
})

describe('cutTile / pasteTile', () => {
  it('cutting every tile and pasting it back reproduces the image', () => {
    for (const [w, h, s] of [[10, 7, 4], [33, 17, 8], [3, 3, 5]]) {
      const src = image(w, h)
      const dst = new Uint8Array(src.byteLength)
      for (const t of planTiles(w, h, s)) {
        const px = cutTile(src, w, t)
        expect(px.byteLength).toBe(t.width * t.height * 4)
        pasteTile(dst, w, t, px)
      }
      expect(dst).toEqual(src)
    }
  })

  it('cuts the right pixels', () => {
    const w = 4
    const src = Uint8Array.from({ length: w * 3 * 4 }, (_, i) => Math.floor(i / 4)) // each pixel holds its index
    const px = cutTile(src, w, { index: 0, x: 1, y: 1, width: 2, height: 2 })
    expect([...px].filter((_, i) => i % 4 === 0)).toEqual([5, 6, 9, 10])
  })

  it('pasteTile writes only inside the tile', () => {
    const w = 4
    const dst = new Uint8Array(w * 4 * 4)
    pasteTile(dst, w, { index: 0, x: 1, y: 2, width: 2, height: 1 }, new Uint8Array(8).fill(9))
    const touched = [...dst].map((v, i) => v === 9 ? Math.floor(i / 4) : -1).filter(i => i >= 0)
    expect([...new Set(touched)]).toEqual([9, 10])
  })

  it('pasteTile rejects an output of the wrong size', () => {
    const t = { index: 3, x: 0, y: 0, width: 2, height: 2 }
    const dst = new Uint8Array(64)
    for (const n of [0, 15, 17, 64]) {
      expect(() => { pasteTile(dst, 4, t, new Uint8Array(n)) }).toThrow(RangeError)
    }
    expect(dst.every(v => v === 0)).toBe(true)
  })
})

describe('imageParams', () => {
  it('writes u32le width and height, then the extra bytes', () => {
    expect(imageParams(0x0102, 3)).toEqual(new Uint8Array([2, 1, 0, 0, 3, 0, 0, 0]))
    expect(imageParams(1, 2, new Uint8Array([7, 8]))).toEqual(new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0, 7, 8]))
  })
})
