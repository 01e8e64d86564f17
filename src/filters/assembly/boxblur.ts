import { ERR_NO_MEMORY, ERR_PARAMS, beginEntry, imageHeight, imagePixels, imageWidth, scratch, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Params: width, height, u32le radius 1..32. Each of R, G, B becomes the
// rounded mean of the (2r+1)² window around the pixel, edges clamped:
//   c' = (Σ window + n/2) / n,  n = (2r+1)²,  integer division
// Alpha kept. Separable with running sums, exact in integers: a horizontal
// pass writes each pixel's row sums (u16: at most 65 × 255) to scratch, then
// a vertical pass walks strips of columns down the image, keeping column
// sums in a small accumulator, and writes the result over the input.
// SIMD build: this same code compiled with --enable simd (no v128 path).
const MAX_RADIUS: u32 = 32
const STRIP: i32 = 64

export function boxblur(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 4)
  if (n < 0) return n
  const w = <i32>imageWidth(paramPtr)
  const h = <i32>imageHeight(paramPtr)
  const radius = load<u32>(<usize>paramPtr, 8)
  if (radius == 0 || radius > MAX_RADIUS) return ERR_PARAMS
  const r = <i32>radius
  const img = <usize>inPtr
  const sums = scratch(<usize>n * 6)
  const acc = scratch(<usize>STRIP * 12)
  if (sums == 0 || acc == 0) return ERR_NO_MEMORY
  for (let y = 0; y < h; y++) {
    const row = <usize>(y * w)
    for (let c = 0; c < 3; c++) rowSums(img + (row << 2) + <usize>c, sums + row * 6 + (<usize>c << 1), w, r)
  }
  const count = <u32>((2 * r + 1) * (2 * r + 1))
  const half = count >> 1
  for (let x0 = 0; x0 < w; x0 += STRIP) {
    const cols = min(STRIP, w - x0) * 3
    for (let i = 0; i < cols; i++) store<u32>(acc + (<usize>i << 2), 0)
    for (let dy = -r; dy <= r; dy++) addRow(acc, sums, min(max(dy, 0), h - 1), w, x0, cols)
    for (let y = 0; y < h; y++) {
      let out = img + (<usize>(y * w + x0) << 2)
      for (let a = acc, stop = acc + (<usize>cols << 2); a < stop; a += 12, out += 4) {
        store<u8>(out, <u8>((load<u32>(a) + half) / count))
        store<u8>(out, <u8>((load<u32>(a, 4) + half) / count), 1)
        store<u8>(out, <u8>((load<u32>(a, 8) + half) / count), 2)
      }
      addRow(acc, sums, min(y + r + 1, h - 1), w, x0, cols)
      subRow(acc, sums, max(y - r, 0), w, x0, cols)
    }
  }
  return setOutput(img, inLen)
}

// Sums of one channel of one row over [x - r, x + r], clamped, for every x;
// `src` steps 4 bytes per pixel, `dst` 6 (three u16 per pixel).
function rowSums(src: usize, dst: usize, w: i32, r: i32): void {
  let s: u32 = 0
  for (let dx = -r; dx <= r; dx++) s += load<u8>(src + (<usize>min(max(dx, 0), w - 1) << 2))
  for (let x = 0; x < w; x++) {
    store<u16>(dst + <usize>x * 6, <u16>s)
    s += load<u8>(src + (<usize>min(x + r + 1, w - 1) << 2))
    s -= load<u8>(src + (<usize>max(x - r, 0) << 2))
  }
}

// acc[i] += (or -=) the row sums of row y, columns x0 .. x0 + cols/3.
function addRow(acc: usize, sums: usize, y: i32, w: i32, x0: i32, cols: i32): void {
  const row = sums + <usize>(y * w + x0) * 6
  for (let i = 0; i < cols; i++) {
    const a = acc + (<usize>i << 2)
    store<u32>(a, load<u32>(a) + load<u16>(row + (<usize>i << 1)))
  }
}

function subRow(acc: usize, sums: usize, y: i32, w: i32, x0: i32, cols: i32): void {
  const row = sums + <usize>(y * w + x0) * 6
  for (let i = 0; i < cols; i++) {
    const a = acc + (<usize>i << 2)
    store<u32>(a, load<u32>(a) - load<u16>(row + (<usize>i << 1)))
  }
}
