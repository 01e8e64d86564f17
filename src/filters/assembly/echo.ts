import { beginEntry, setOutput } from './lib/fedra'
export { fedra_alloc, fedra_output_ptr } from './lib/fedra'

// Returns its input untouched: the latency benchmarks measure the ABI alone.
export function echo(inPtr: i32, inLen: i32, paramPtr: i32, paramLen: i32): i32 {
  beginEntry()
  return setOutput(<usize>inPtr, inLen)
}
