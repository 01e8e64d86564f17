import { beginEntry, imagePixels, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

export function invert(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  const n = imagePixels(inLen, paramPtr, paramLen, 0)
  if (n < 0) return n
  for (let p = <usize>inPtr, end = p + <usize>inLen; p < end; p += 4) {
    store<u8>(p, 255 - load<u8>(p))
    store<u8>(p, 255 - load<u8>(p, 1), 1)
    store<u8>(p, 255 - load<u8>(p, 2), 2)
  }
  return setOutput(<usize>inPtr, inLen)
}
