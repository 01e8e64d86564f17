// Fedra function ABI v1, module side (see docs/abi.md).
//
// A bump arena over linear memory. Hosts may reuse one instance for many
// tasks (the board does), so the first fedra_alloc after an entry call starts
// a new task and rewinds the arena; the previous output stays readable until
// then. Only constant global initialisers are used so that no start function
// is emitted.

let arenaTop: usize = 0
let outputPtr: usize = 0
let taskDone: bool = true

// Error codes shared by the built-in filters (negative entry results).
export const ERR_PARAMS: i32 = -1
export const ERR_SIZE: i32 = -2
export const ERR_NO_MEMORY: i32 = -3
export const ERR_RECORDS: i32 = -4

function heapStart(): usize {
  return (__heap_base + 15) & ~(<usize>15)
}

// Grows memory so that [0, end) is addressable; false when the host's cap
// (the memory maximum) refuses the growth.
function ensure(end: usize): bool {
  const have = (<usize>memory.size()) << 16
  if (end <= have) return true
  const pages = (end - have + 0xffff) >> 16
  return memory.grow(<i32>pages) >= 0
}

// Bump allocation inside the current task; returns 0 on failure, which is
// never a valid arena address because the arena starts above static data.
export function scratch(size: usize): usize {
  if (arenaTop == 0) arenaTop = heapStart()
  const ptr = arenaTop
  const end = ptr + size
  if (end < ptr || !ensure(end)) return 0
  arenaTop = (end + 7) & ~(<usize>7)
  return ptr
}

export function fedra_alloc(size: i32): i32 {
  if (taskDone) {
    arenaTop = heapStart()
    taskDone = false
  }
  if (size < 0) return -1
  const ptr = scratch(<usize>size)
  return ptr == 0 ? -1 : <i32>ptr
}

export function fedra_output_ptr(): i32 {
  return <i32>outputPtr
}

// Every entry point calls this first: the next fedra_alloc opens a new task.
export function beginEntry(): void {
  taskDone = true
}

export function setOutput(ptr: usize, len: i32): i32 {
  outputPtr = ptr
  return len
}

// Image parameters: u32le width, u32le height, then filter bytes. Returns the
// pixel count, or a negative error code when they do not match the input.
export function imagePixels(inLen: i32, paramPtr: i32, paramLen: i32, extra: i32): i32 {
  if (paramLen < 8 + extra) return ERR_PARAMS
  const w = load<u32>(<usize>paramPtr)
  const h = load<u32>(<usize>paramPtr, 4)
  if (w == 0 || h == 0 || w > 0x4000 || h > 0x4000) return ERR_PARAMS
  const n = w * h
  if (n > 0x1fffffff || <i32>(n << 2) != inLen) return ERR_SIZE
  return <i32>n
}

export function imageWidth(paramPtr: i32): u32 {
  return load<u32>(<usize>paramPtr)
}

export function imageHeight(paramPtr: i32): u32 {
  return load<u32>(<usize>paramPtr, 4)
}

// ITU-R BT.601 luma in 8.8 fixed point; the weights sum to 256.
// @ts-ignore: decorator
@inline
export function luma(p: usize): u32 {
  return (77 * <u32>load<u8>(p) + 150 * <u32>load<u8>(p, 1) + 29 * <u32>load<u8>(p, 2) + 128) >> 8
}
