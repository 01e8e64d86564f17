export { fedra_alloc, fedra_output_ptr } from '../lib/fedra'

// Never returns (x stays odd, so never 0): the host must stop it with its
// deadline. The arithmetic keeps the optimiser from proving anything.
export function spin(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  let x = inLen | 1
  while (x != 0) x = (x * 1103515245 + 12345) | 1
  return x
}
