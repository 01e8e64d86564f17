export { fedra_alloc, fedra_output_ptr } from '../lib/fedra'

export function crash(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  if (inLen >= 0) unreachable()
  return 0
}

// Fails on purpose with a function-defined code.
export function fail(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  return -42
}
