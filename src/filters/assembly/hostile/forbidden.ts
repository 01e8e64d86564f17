export { fedra_alloc, fedra_output_ptr } from '../lib/fedra'

// An import outside the allow-list: the host must refuse the module.
@external('env', 'fetch')
declare function fetch(ptr: i32, len: i32): i32

export function steal(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  return fetch(inPtr, inLen)
}
