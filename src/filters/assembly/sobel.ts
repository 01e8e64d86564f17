import { ERR_NO_MEMORY, beginEntry, imageHeight, imagePixels, imageWidth, luma, scratch, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Sobel edge magnitude on the luma plane, clamped edges. The magnitude is
// min(255, |Gx| + |Gy|): the L1 norm keeps it integer and host-independent.
// Written to R, G, B; alpha kept. The luma plane lives in scratch memory so
// the tile can be overwritten in place.
// SIMD build: this same code compiled with --enable simd (no v128 path).
export function sobel(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  const w = <i32>imageWidth(paramPtr)
  const h = <i32>imageHeight(paramPtr)
  const img = <usize>inPtr
  const lum = scratch(<usize>n)
  if (lum == 0) return ERR_NO_MEMORY
  for (let i = 0; i < n; i++) {
    store<u8>(lum + <usize>i, <u8>luma(img + (<usize>i << 2)))
  }
  for (let y = 0; y < h; y++) {
    const ya = <usize>(max(y - 1, 0) * w)
    const yb = <usize>(y * w)
    const yc = <usize>(min(y + 1, h - 1) * w)
    for (let x = 0; x < w; x++) {
      const xa = <usize>max(x - 1, 0)
      const xb = <usize>x
      const xc = <usize>min(x + 1, w - 1)
      const p00 = <i32>load<u8>(lum + ya + xa)
      const p01 = <i32>load<u8>(lum + ya + xb)
      const p02 = <i32>load<u8>(lum + ya + xc)
      const p10 = <i32>load<u8>(lum + yb + xa)
      const p12 = <i32>load<u8>(lum + yb + xc)
      const p20 = <i32>load<u8>(lum + yc + xa)
      const p21 = <i32>load<u8>(lum + yc + xb)
      const p22 = <i32>load<u8>(lum + yc + xc)
      const gx = (p02 + 2 * p12 + p22) - (p00 + 2 * p10 + p20)
      const gy = (p20 + 2 * p21 + p22) - (p00 + 2 * p01 + p02)
      const m = <u8>min(abs(gx) + abs(gy), 255)
      const p = img + ((yb + xb) << 2)
      store<u8>(p, m)
      store<u8>(p, m, 1)
      store<u8>(p, m, 2)
    }
  }
  return setOutput(img, inLen)
}
