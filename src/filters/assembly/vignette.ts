import { ERR_NO_MEMORY, ERR_PARAMS, beginEntry, imageHeight, imagePixels, imageWidth, scratch, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Params: width, height, u32le strength 0..100. Darkens towards the corners
// of the tile it is given (a video job gives it the whole frame; an image
// job split into tiles gets one vignette per tile). Fixed point only:
//   dx = 2x + 1 - w, dy = 2y + 1 - h          (offset from the centre, in half pixels)
//   qx = floor(dx² · 2^15 / w²), qy = floor(dy² · 2^15 / h²)   (each < 2^15)
//   f  = 2^15 - floor(strength · (qx + qy) / 200)               (1 .. 2^15)
//   c' = (c · f + 2^14) >> 15
// so strength 0 changes nothing, and strength 100 takes the corners to
// nearly black and the middle of each edge to half.
// SIMD build: this same code compiled with --enable simd (no v128 path).
export function vignette(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 4)
  if (n < 0) return n
  const w = imageWidth(paramPtr)
  const h = imageHeight(paramPtr)
  const strength = load<u32>(<usize>paramPtr, 8)
  if (strength > 100) return ERR_PARAMS
  // qx for each column, as u16.
  const cols = scratch(<usize>w << 1)
  if (cols == 0) return ERR_NO_MEMORY
  for (let x: u32 = 0; x < w; x++) store<u16>(cols + (<usize>x << 1), <u16>offsetSquared(x, w))
  let p = <usize>inPtr
  for (let y: u32 = 0; y < h; y++) {
    const qy = offsetSquared(y, h)
    for (let x: u32 = 0; x < w; x++, p += 4) {
      const q = qy + <u32>load<u16>(cols + (<usize>x << 1))
      const f = 0x8000 - strength * q / 200
      store<u8>(p, <u8>((<u32>load<u8>(p) * f + 0x4000) >> 15))
      store<u8>(p, <u8>((<u32>load<u8>(p, 1) * f + 0x4000) >> 15), 1)
      store<u8>(p, <u8>((<u32>load<u8>(p, 2) * f + 0x4000) >> 15), 2)
    }
  }
  return setOutput(<usize>inPtr, inLen)
}

// floor(d² · 2^15 / size²) with d = |2i + 1 - size|; below 2^15.
function offsetSquared(i: u32, size: u32): u32 {
  const twice: u32 = 2 * i + 1
  const d = twice > size ? twice - size : size - twice
  return <u32>((<u64>(d * d) << 15) / <u64>(size * size))
}
