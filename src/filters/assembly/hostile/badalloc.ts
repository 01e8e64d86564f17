export { fedra_output_ptr } from '../lib/fedra'

// Hands the host a pointer past the end of memory.
export function fedra_alloc(size: i32): i32 {
  return <i32>(memory.size() << 16) - 2
}

export function run(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  return 0
}
