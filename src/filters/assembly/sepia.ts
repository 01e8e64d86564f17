import { beginEntry, imagePixels, setOutput } from './lib/fedra'
import { BLUE, GREEN, RED, alphaOf, channel, pack, weigh } from './lib/simd'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// The classic sepia matrix in 8.8 fixed point (weights × 256, rounded):
//   R' = min(255, (101R + 197G + 48B + 128) >> 8)
//   G' = min(255, ( 89R + 176G + 43B + 128) >> 8)
//   B' = min(255, ( 70R + 137G + 34B + 128) >> 8)
// Alpha kept. In place. The SIMD build does four pixels per step.
export function sepia(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  let p = <usize>inPtr
  const end = p + <usize>inLen
  if (ASC_FEATURE_SIMD) p = sepia4(p, end)
  for (; p < end; p += 4) {
    const r = <u32>load<u8>(p)
    const g = <u32>load<u8>(p, 1)
    const b = <u32>load<u8>(p, 2)
    store<u8>(p, <u8>min((101 * r + 197 * g + 48 * b + 128) >> 8, 255))
    store<u8>(p, <u8>min((89 * r + 176 * g + 43 * b + 128) >> 8, 255), 1)
    store<u8>(p, <u8>min((70 * r + 137 * g + 34 * b + 128) >> 8, 255), 2)
  }
  return setOutput(<usize>inPtr, inLen)
}

function sepia4(p: usize, end: usize): usize {
  const top = i32x4.splat(255)
  for (; p + 16 <= end; p += 16) {
    const px = v128.load(p)
    const r = channel(px, RED)
    const g = channel(px, GREEN)
    const b = channel(px, BLUE)
    const r2 = i32x4.min_u(weigh(r, g, b, 101, 197, 48), top)
    const g2 = i32x4.min_u(weigh(r, g, b, 89, 176, 43), top)
    const b2 = i32x4.min_u(weigh(r, g, b, 70, 137, 34), top)
    v128.store(p, pack(r2, g2, b2, alphaOf(px)))
  }
  return p
}
