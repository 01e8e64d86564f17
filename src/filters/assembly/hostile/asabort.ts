export { fedra_alloc, fedra_output_ptr } from '../lib/fedra'

// Built with AssemblyScript's default abort, which imports env.abort: the
// one import the host allows.
export function check(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  assert(inLen < 4, 'input too long')
  return 0
}
