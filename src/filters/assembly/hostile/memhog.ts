export { fedra_alloc, fedra_output_ptr } from '../lib/fedra'

// Grows memory a page at a time until refused, then traps, as an allocator
// that runs out would.
export function hog(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  while (memory.grow(1) >= 0) {}
  unreachable()
  return 0
}
