import { beginEntry, imagePixels, luma, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// In place: the output is the input tile.
export function grayscale(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  for (let p = <usize>inPtr, end = p + <usize>inLen; p < end; p += 4) {
    const y = <u8>luma(p)
    store<u8>(p, y)
    store<u8>(p, y, 1)
    store<u8>(p, y, 2)
  }
  return setOutput(<usize>inPtr, inLen)
}
