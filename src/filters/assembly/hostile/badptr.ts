export { fedra_alloc } from '../lib/fedra'

// Claims an output far outside its memory.
export function fedra_output_ptr(): i32 {
  return 0x7ff00000
}

export function lie(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  return 4096
}
