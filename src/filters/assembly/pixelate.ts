import { ERR_PARAMS, beginEntry, imageHeight, imagePixels, imageWidth, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Params: width, height, u32le block size (>= 1). Each block takes the
// rounded mean of its R, G, B; alpha is kept per pixel. Edge blocks are
// clipped to the tile, so tiles of one frame pixelate alike only when the
// tile size is a multiple of the block size.
// SIMD build: this same code compiled with --enable simd (no v128 path).
export function pixelate(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 4)
  if (n < 0) return n
  const w = imageWidth(paramPtr)
  const h = imageHeight(paramPtr)
  const block = load<u32>(<usize>paramPtr, 8)
  if (block == 0) return ERR_PARAMS
  const base = <usize>inPtr
  for (let by: u32 = 0; by < h; by += block) {
    const y1 = min(by + block, h)
    for (let bx: u32 = 0; bx < w; bx += block) {
      const x1 = min(bx + block, w)
      let r: u32 = 0, g: u32 = 0, b: u32 = 0
      for (let y = by; y < y1; y++) {
        for (let x = bx; x < x1; x++) {
          const p = base + (<usize>(y * w + x) << 2)
          r += load<u8>(p)
          g += load<u8>(p, 1)
          b += load<u8>(p, 2)
        }
      }
      const count = (y1 - by) * (x1 - bx)
      const half = count >> 1
      const mr = <u8>((r + half) / count)
      const mg = <u8>((g + half) / count)
      const mb = <u8>((b + half) / count)
      for (let y = by; y < y1; y++) {
        for (let x = bx; x < x1; x++) {
          const p = base + (<usize>(y * w + x) << 2)
          store<u8>(p, mr)
          store<u8>(p, mg, 1)
          store<u8>(p, mb, 2)
        }
      }
    }
  }
  return setOutput(base, inLen)
}
