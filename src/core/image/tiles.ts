/** A rectangle of an RGBA image, cut out as its own RGBA buffer. */
export interface Tile {
  index: number
  x: number
  y: number
  width: number
  height: number
}

export function planTiles (width: number, height: number, tileSize: number): Tile[] {
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new RangeError(`tile size must be a whole number ≥ 1, not ${tileSize}`)
  const tiles: Tile[] = []
  for (let y = 0; y < height; y += tileSize) {
    for (let x = 0; x < width; x += tileSize) {
      tiles.push({ index: tiles.length, x, y, width: Math.min(tileSize, width - x), height: Math.min(tileSize, height - y) })
    }
  }
  return tiles
}

export function cutTile (rgba: Uint8Array, imageWidth: number, tile: Tile): Uint8Array {
  const out = new Uint8Array(tile.width * tile.height * 4)
  for (let row = 0; row < tile.height; row++) {
    const src = ((tile.y + row) * imageWidth + tile.x) * 4
    out.set(rgba.subarray(src, src + tile.width * 4), row * tile.width * 4)
  }
  return out
}

export function pasteTile (target: Uint8Array, imageWidth: number, tile: Tile, pixels: Uint8Array): void {
  if (pixels.byteLength !== tile.width * tile.height * 4) {
    throw new RangeError(`tile ${tile.index} output has ${pixels.byteLength} bytes, expected ${tile.width * tile.height * 4}`)
  }
  for (let row = 0; row < tile.height; row++) {
    const dst = ((tile.y + row) * imageWidth + tile.x) * 4
    target.set(pixels.subarray(row * tile.width * 4, (row + 1) * tile.width * 4), dst)
  }
}

/** Filter parameters per ABI v1: u32le width, u32le height, then filter-specific bytes. */
export function imageParams (width: number, height: number, extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(8 + extra.byteLength)
  const view = new DataView(out.buffer)
  view.setUint32(0, width, true)
  view.setUint32(4, height, true)
  out.set(extra, 8)
  return out
}
