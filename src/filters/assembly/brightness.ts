import { ERR_PARAMS, beginEntry, imagePixels, setOutput } from './lib/fedra'
import { BLUE, GREEN, RED, alphaOf, channel, pack } from './lib/simd'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Params: width, height, u32le brightness 0..510 (meaning -255..255, 255 =
// unchanged), u32le contrast 0..200 (percent, 100 = unchanged). Integers
// only, so every host gives the same bytes:
//   k  = (contrast * 256 + 50) / 100             (contrast in 8.8, 100% = 256)
//   c' = clamp((((c - 128) * k + 128) >> 8) + 128 + (brightness - 255), 0, 255)
// where >> is an arithmetic (flooring) shift. Alpha kept. In place. The SIMD
// build does four pixels per step.
export function brightness(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 8)
  if (n < 0) return n
  const bright = load<u32>(<usize>paramPtr, 8)
  const contrast = load<u32>(<usize>paramPtr, 12)
  if (bright > 510 || contrast > 200) return ERR_PARAMS
  const k = <i32>((contrast * 256 + 50) / 100)
  const offset = <i32>bright - 127
  let p = <usize>inPtr
  const end = p + <usize>inLen
  if (ASC_FEATURE_SIMD) p = adjust4(p, end, k, offset)
  for (; p < end; p += 4) {
    store<u8>(p, adjust(load<u8>(p), k, offset))
    store<u8>(p, adjust(load<u8>(p, 1), k, offset), 1)
    store<u8>(p, adjust(load<u8>(p, 2), k, offset), 2)
  }
  return setOutput(<usize>inPtr, inLen)
}

// @ts-ignore: decorator
@inline
function adjust(c: u8, k: i32, offset: i32): u8 {
  const v = ((((<i32>c) - 128) * k + 128) >> 8) + offset
  return <u8>min(max(v, 0), 255)
}

// @ts-ignore: decorator
@inline
function adjustLanes(c: v128, k: v128, offset: v128): v128 {
  const v = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.sub(c, i32x4.splat(128)), k), i32x4.splat(128)), 8), offset)
  return i32x4.min_s(i32x4.max_s(v, i32x4.splat(0)), i32x4.splat(255))
}

function adjust4(p: usize, end: usize, k: i32, offset: i32): usize {
  const kv = i32x4.splat(k)
  const ov = i32x4.splat(offset)
  for (; p + 16 <= end; p += 16) {
    const px = v128.load(p)
    const r = adjustLanes(channel(px, RED), kv, ov)
    const g = adjustLanes(channel(px, GREEN), kv, ov)
    const b = adjustLanes(channel(px, BLUE), kv, ov)
    v128.store(p, pack(r, g, b, alphaOf(px)))
  }
  return p
}
