import { ERR_NO_MEMORY, beginEntry, imageHeight, imagePixels, imageWidth, scratch, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// 3x3 box blur of R, G, B with clamped edges; alpha kept. Each channel is
// (sum of 9 + 4) / 9 in integers, so every host gives the same bytes.
// SIMD build: this same code compiled with --enable simd (no v128 path).
export function blur(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  const w = <i32>imageWidth(paramPtr)
  const h = <i32>imageHeight(paramPtr)
  const src = <usize>inPtr
  const dst = scratch(<usize>inLen)
  if (dst == 0) return ERR_NO_MEMORY
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r: u32 = 0, g: u32 = 0, b: u32 = 0
      for (let dy = -1; dy <= 1; dy++) {
        const yy = min(max(y + dy, 0), h - 1)
        for (let dx = -1; dx <= 1; dx++) {
          const xx = min(max(x + dx, 0), w - 1)
          const p = src + (<usize>(yy * w + xx) << 2)
          r += load<u8>(p)
          g += load<u8>(p, 1)
          b += load<u8>(p, 2)
        }
      }
      const o = <usize>(y * w + x) << 2
      store<u8>(dst + o, <u8>((r + 4) / 9))
      store<u8>(dst + o, <u8>((g + 4) / 9), 1)
      store<u8>(dst + o, <u8>((b + 4) / 9), 2)
      store<u8>(dst + o, load<u8>(src + o, 3), 3)
    }
  }
  return setOutput(dst, inLen)
}
