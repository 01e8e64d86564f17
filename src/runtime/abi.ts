/**
 * The Fedra function ABI v1, host side (docs/abi.md). Shared by every
 * environment: the worker pool's workers, in-process runs in Node, and the
 * tests. The C interpreter on the board implements the same rules.
 */
import { FedraError, FunctionFailedError, FunctionTrapError, InvalidModuleError, MemoryLimitError } from '../core/errors.js'
import { formatSignature, functionType, parseModule, rewriteMemoryLimits, type RawModule } from './wasm-module.js'

export const ABI_VERSION = 1
export const PAGE_SIZE = 65536
export const DEFAULT_MAX_MODULE_BYTES = 4 * 1024 * 1024
/** The most pages a task may ask for: 1 GiB keeps every offset a positive i32. */
export const MAX_MEMORY_PAGES = 16384

export const ALLOC_EXPORT = 'fedra_alloc'
export const OUTPUT_PTR_EXPORT = 'fedra_output_ptr'
export const ENTRY_SIGNATURE = '(i32,i32,i32,i32)->i32'

export interface AllowedImport {
  module: string
  name: string
  signature: string
}

/** AssemblyScript's `abort(message, fileName, line, column)`; it always traps. */
export const DEFAULT_ALLOWED_IMPORTS: readonly AllowedImport[] = [
  { module: 'env', name: 'abort', signature: '(i32,i32,i32,i32)->()' }
]

export interface InspectOptions {
  /** Larger modules are refused (default 4 MiB). */
  maxBytes?: number
  allowedImports?: readonly AllowedImport[]
  /** Also run the engine's full validation (default true). */
  validate?: boolean
}

export interface ModuleImportInfo {
  module: string
  name: string
  signature: string
}

export interface ModuleInfo {
  abi: typeof ABI_VERSION
  size: number
  /** Exported functions with the entry signature, in export order. */
  entries: string[]
  memory: { initialPages: number, maximumPages: number | null }
  imports: ModuleImportInfo[]
  hasStart: boolean
}

export interface CallLimits {
  /** Memory cap in 64 KiB pages. */
  memoryPages: number
  /** Longest output accepted; defaults to the whole memory. */
  maxOutputBytes?: number
}

function describeImport (mod: RawModule, i: RawModule['imports'][number]): string {
  if (i.kind !== 'function' || i.type == null) return `${i.kind} "${i.module}.${i.name}"`
  const t = mod.types[i.type]
  return `function "${i.module}.${i.name}" ${t == null ? '(unknown type)' : formatSignature(t)}`
}

function requireFunction (mod: RawModule, name: string, signature: string): void {
  const exp = mod.exports.find(e => e.name === name)
  if (exp == null || exp.kind !== 'function') {
    throw new InvalidModuleError(`module does not export function "${name}" ${signature}, which the Fedra ABI requires`)
  }
  const t = functionType(mod, exp.index)
  const actual = t == null ? 'an unknown type' : formatSignature(t)
  if (actual !== signature) throw new InvalidModuleError(`export "${name}" has type ${actual}; the Fedra ABI requires ${signature}`)
}

function checkImports (mod: RawModule, allowed: readonly AllowedImport[]): void {
  for (const imp of mod.imports) {
    if (imp.kind === 'memory') {
      throw new InvalidModuleError(`module imports its memory "${imp.module}.${imp.name}"; Fedra modules define and export their own`)
    }
    const sig = imp.kind === 'function' && imp.type != null && mod.types[imp.type] != null ? formatSignature(mod.types[imp.type]) : null
    const ok = allowed.some(a => a.module === imp.module && a.name === imp.name && a.signature === sig)
    if (!ok) {
      const list = allowed.map(a => `${a.module}.${a.name}${a.signature}`).join(', ')
      throw new InvalidModuleError(`module imports ${describeImport(mod, imp)}, which is not allowed (allowed: ${list === '' ? 'none' : list})`)
    }
  }
}

function checkMemory (mod: RawModule): void {
  if (mod.memories.length === 0) throw new InvalidModuleError('module defines no memory; the Fedra ABI requires an exported "memory"')
  if (mod.memories.length > 1) throw new InvalidModuleError(`module defines ${mod.memories.length} memories; the Fedra ABI allows one`)
  const m = mod.memories[0]
  if (m.shared) throw new InvalidModuleError('module memory is shared; Fedra functions use private memory')
  if (m.memory64) throw new InvalidModuleError('module memory is 64-bit; Fedra functions use 32-bit memory')
  const exp = mod.exports.find(e => e.name === 'memory')
  if (exp == null || exp.kind !== 'memory' || exp.index !== 0) throw new InvalidModuleError('module does not export its memory as "memory"')
}

/**
 * Checks `bytes` against the ABI and describes the module. Throws
 * InvalidModuleError naming the first problem found.
 */
export function inspectModule (bytes: Uint8Array, opts: InspectOptions = {}): ModuleInfo {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MODULE_BYTES
  if (bytes.length > maxBytes) throw new InvalidModuleError(`module is ${bytes.length} bytes; the limit is ${maxBytes}`)
  const mod = parseModule(bytes)
  checkImports(mod, opts.allowedImports ?? DEFAULT_ALLOWED_IMPORTS)
  if (mod.start != null && mod.imports.length > 0) {
    throw new InvalidModuleError('module has a start function and imports; a start function is allowed only in modules that import nothing')
  }
  checkMemory(mod)
  requireFunction(mod, ALLOC_EXPORT, '(i32)->i32')
  requireFunction(mod, OUTPUT_PTR_EXPORT, '()->i32')
  const entries = mod.exports
    .filter(e => e.kind === 'function' && !e.name.startsWith('fedra_'))
    .filter(e => { const t = functionType(mod, e.index); return t != null && formatSignature(t) === ENTRY_SIGNATURE })
    .map(e => e.name)
  if (entries.length === 0) throw new InvalidModuleError(`module exports no entry point ${ENTRY_SIGNATURE}`)
  if (opts.validate !== false && !WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) {
    throw new InvalidModuleError('module fails WebAssembly validation (malformed code, or a feature this engine lacks)')
  }
  const m = mod.memories[0]
  return {
    abi: ABI_VERSION,
    size: bytes.length,
    entries,
    memory: { initialPages: m.initialPages, maximumPages: m.maximumPages },
    imports: mod.imports.map(i => ({ module: i.module, name: i.name, signature: i.type != null && mod.types[i.type] != null ? formatSignature(mod.types[i.type]) : i.kind })),
    hasStart: mod.start != null
  }
}

export function checkMemoryPages (memoryPages: number): void {
  if (!Number.isInteger(memoryPages) || memoryPages < 1 || memoryPages > MAX_MEMORY_PAGES) {
    throw new MemoryLimitError(`memory cap must be a whole number of pages from 1 to ${MAX_MEMORY_PAGES}, not ${memoryPages}`)
  }
}

/**
 * Returns the module bytes with the memory's maximum lowered to the cap, so
 * that the engine itself refuses growth past it (memory.grow returns -1).
 * A module whose initial memory exceeds the cap cannot run under it.
 */
export function applyMemoryCap (bytes: Uint8Array, memoryPages: number): Uint8Array {
  checkMemoryPages(memoryPages)
  const mod = parseModule(bytes)
  checkMemory(mod)
  const { initialPages, maximumPages } = mod.memories[0]
  if (initialPages > memoryPages) {
    throw new MemoryLimitError(`module starts with ${initialPages} memory pages; the task allows ${memoryPages}`)
  }
  if (maximumPages != null && maximumPages <= memoryPages) return bytes
  return rewriteMemoryLimits(bytes, mod, initialPages, memoryPages)
}

/** Reads an AssemblyScript string (UTF-16, byte length at ptr - 4), bounded. */
function readAsString (memory: WebAssembly.Memory | undefined, ptr: number): string | null {
  if (memory == null || ptr < 4) return null
  const buf = memory.buffer
  if (ptr > buf.byteLength) return null
  const len = new DataView(buf).getUint32(ptr - 4, true)
  if (len > 512 || len % 2 !== 0 || ptr + len > buf.byteLength) return null
  return String.fromCharCode(...new Uint16Array(buf.slice(ptr, ptr + len)))
}

/**
 * The host functions a module may import. `getMemory` is late-bound: the
 * instance's memory exists only once it is instantiated.
 */
export function hostImports (getMemory: () => WebAssembly.Memory | undefined): WebAssembly.Imports {
  return {
    env: {
      abort: (msg: number, file: number, line: number, column: number): never => {
        const text = readAsString(getMemory(), msg >>> 0)
        const where = readAsString(getMemory(), file >>> 0)
        const detail = [text, where != null ? `${where}:${line}:${column}` : null].filter(s => s != null).join(' at ')
        throw new FunctionTrapError(`abort called${detail === '' ? '' : `: ${detail}`}`)
      }
    }
  }
}

interface AbiExports {
  memory: WebAssembly.Memory
  alloc: (size: number) => number
  outputPtr: () => number
  entry: (inPtr: number, inLen: number, paramPtr: number, paramLen: number) => number
}

function abiExports (exports: WebAssembly.Exports, entry: string): AbiExports {
  const memory = exports.memory
  if (!(memory instanceof WebAssembly.Memory)) throw new InvalidModuleError('module does not export its memory as "memory"')
  const fn = (name: string): ((...args: number[]) => number) => {
    const f = exports[name]
    if (typeof f !== 'function') throw new InvalidModuleError(`module does not export function "${name}"`)
    return f as (...args: number[]) => number
  }
  if (entry.startsWith('fedra_')) throw new InvalidModuleError(`"${entry}" is an ABI function, not an entry point`)
  return { memory, alloc: fn(ALLOC_EXPORT), outputPtr: fn(OUTPUT_PTR_EXPORT), entry: fn(entry) }
}

function pages (memory: WebAssembly.Memory): number {
  return memory.buffer.byteLength / PAGE_SIZE
}

/** Turns whatever a call threw into a typed error; `grew` says memory grew to the cap during the call. */
function asTypedError (err: unknown, what: string, memory: WebAssembly.Memory, limits: CallLimits, grew: boolean): FedraError {
  const atCap = pages(memory) >= limits.memoryPages
  const text = err instanceof Error ? err.message : String(err)
  if (atCap && grew) {
    return new MemoryLimitError(`${what} failed at the memory cap of ${limits.memoryPages} pages (${text})`, undefined, { cause: err })
  }
  if (err instanceof FedraError) return err
  return new FunctionTrapError(`${what} trapped: ${text}`, undefined, { cause: err })
}

function place (abi: AbiExports, bytes: Uint8Array, what: string, limits: CallLimits): number {
  let ptr: number
  try {
    ptr = abi.alloc(bytes.length) >>> 0
  } catch (err) {
    throw asTypedError(err, `${ALLOC_EXPORT}(${bytes.length}) for the ${what}`, abi.memory, limits, true)
  }
  const size = abi.memory.buffer.byteLength
  if (ptr + bytes.length > size) {
    // -1 is the allocator's "cannot grow"; at the cap that is the cap's doing.
    // Any other out-of-range answer is the module breaking the ABI.
    if (ptr === 0xffffffff && pages(abi.memory) >= limits.memoryPages) {
      throw new MemoryLimitError(`the ${what} (${bytes.length} bytes) does not fit in the memory cap of ${limits.memoryPages} pages`)
    }
    throw new InvalidModuleError(`${ALLOC_EXPORT}(${bytes.length}) returned offset ${ptr | 0}, outside the module's ${size}-byte memory`)
  }
  new Uint8Array(abi.memory.buffer, ptr, bytes.length).set(bytes)
  return ptr
}

/**
 * Runs one task on an instance, following the ABI's call sequence: allocate
 * and copy the input, then the params, call the entry, copy the output out.
 * Every offset the module returns is checked against its memory. Throws
 * FunctionFailedError, FunctionTrapError, MemoryLimitError or
 * InvalidModuleError.
 */
export function callEntry (exports: WebAssembly.Exports, entry: string, input: Uint8Array, params: Uint8Array, limits: CallLimits): Uint8Array {
  return callEntryView(exports, entry, input, params, limits).slice()
}

/**
 * callEntry without the final copy: the output is a view of the module's
 * memory, valid until the next call into the instance (the ABI keeps an
 * output readable until the next `fedra_alloc`). For hosts that call one
 * instance many times (a video unit: one call per frame) and copy the
 * output where it goes next anyway.
 */
export function callEntryView (exports: WebAssembly.Exports, entry: string, input: Uint8Array, params: Uint8Array, limits: CallLimits): Uint8Array {
  const abi = abiExports(exports, entry)
  const capBytes = limits.memoryPages * PAGE_SIZE
  if (input.length + params.length > capBytes) {
    throw new MemoryLimitError(`input and params (${input.length + params.length} bytes) exceed the memory cap of ${limits.memoryPages} pages`)
  }
  const inPtr = place(abi, input, 'input', limits)
  const paramPtr = place(abi, params, 'params', limits)

  const before = pages(abi.memory)
  let n: number
  try {
    n = abi.entry(inPtr, input.length, paramPtr, params.length)
  } catch (err) {
    throw asTypedError(err, `entry "${entry}"`, abi.memory, limits, pages(abi.memory) > before)
  }
  if (!Number.isInteger(n)) throw new InvalidModuleError(`entry "${entry}" returned ${String(n)}, not an i32`)
  if (n < 0) throw new FunctionFailedError(`entry "${entry}" reported failure code ${n}`)

  let outPtr: number
  try {
    outPtr = abi.outputPtr() >>> 0
  } catch (err) {
    throw asTypedError(err, OUTPUT_PTR_EXPORT, abi.memory, limits, false)
  }
  const size = abi.memory.buffer.byteLength
  const maxOut = limits.maxOutputBytes ?? size
  if (n > maxOut) throw new InvalidModuleError(`entry "${entry}" returned ${n} output bytes; the limit is ${maxOut}`)
  if (outPtr + n > size) {
    throw new InvalidModuleError(`${OUTPUT_PTR_EXPORT}() returned offset ${outPtr} for ${n} output bytes, outside the module's ${size}-byte memory`)
  }
  return new Uint8Array(abi.memory.buffer, outPtr, n)
}
