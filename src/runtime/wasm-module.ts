/**
 * Just enough of the WebAssembly binary format to check a module against the
 * Fedra ABI before any engine sees it: types, imports, functions, memory,
 * exports and start. Everything else is skipped and left to the engine's own
 * validation. Bounds are checked on every read, so hostile bytes end in an
 * InvalidModuleError, never in a RangeError from deep inside.
 */
import { InvalidModuleError } from '../core/errors.js'

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref'
export type ExternalKind = 'function' | 'table' | 'memory' | 'global' | 'tag'

export interface FuncType {
  params: ValueType[]
  results: ValueType[]
}

export interface MemoryLimits {
  initialPages: number
  maximumPages: number | null
  shared: boolean
  memory64: boolean
}

export interface RawImport {
  module: string
  name: string
  kind: ExternalKind
  /** Type index, for function imports. */
  type?: number
  /** Limits, for memory imports. */
  limits?: MemoryLimits
}

export interface RawExport {
  name: string
  kind: ExternalKind
  index: number
}

export interface RawModule {
  types: FuncType[]
  imports: RawImport[]
  /** Type index of each function defined in the module (not imported). */
  functions: number[]
  memories: MemoryLimits[]
  exports: RawExport[]
  start: number | null
  /** Byte range of the memory section (header included), if present. */
  memorySection: { start: number, end: number } | null
}

const VALUE_TYPES: Record<number, ValueType> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref'
}
const KINDS: ExternalKind[] = ['function', 'table', 'memory', 'global', 'tag']
const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count', 'tag']

export const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d]

class Reader {
  pos: number
  constructor (readonly bytes: Uint8Array, start: number, readonly end: number, readonly what: string) {
    this.pos = start
  }

  fail (detail: string): never {
    throw new InvalidModuleError(`malformed ${this.what} at byte ${this.pos}: ${detail}`)
  }

  byte (): number {
    if (this.pos >= this.end) this.fail('unexpected end')
    return this.bytes[this.pos++]
  }

  u32 (): number {
    let result = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) this.fail('integer too large')
        return result
      }
    }
    return this.fail('integer too long')
  }

  name (): string {
    const len = this.u32()
    if (len > this.end - this.pos) this.fail('name runs past the section')
    const slice = this.bytes.subarray(this.pos, this.pos + len)
    this.pos += len
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(slice)
    } catch {
      return this.fail('name is not UTF-8')
    }
  }

  valueType (): ValueType {
    const b = this.byte()
    return VALUE_TYPES[b] ?? this.fail(`unsupported value type 0x${b.toString(16)}`)
  }

  limits (): MemoryLimits {
    const flags = this.byte()
    if (flags > 0x07) this.fail(`unsupported limits flags 0x${flags.toString(16)}`)
    const initialPages = this.u32()
    const maximumPages = (flags & 1) !== 0 ? this.u32() : null
    return { initialPages, maximumPages, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 }
  }

  count (unit: number): number {
    const n = this.u32()
    // Each item takes at least `unit` bytes: refuse counts the section cannot hold.
    if (n * unit > this.end - this.pos) this.fail(`count ${n} exceeds the section`)
    return n
  }
}

/** Parses the sections the ABI cares about. Throws InvalidModuleError. */
export function parseModule (bytes: Uint8Array): RawModule {
  if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InvalidModuleError('not a WebAssembly module: the file does not start with "\\0asm"')
  }
  const version = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24)
  if (version !== 1) throw new InvalidModuleError(`unsupported WebAssembly binary version ${version}; Fedra runs version 1`)

  const mod: RawModule = { types: [], imports: [], functions: [], memories: [], exports: [], start: null, memorySection: null }
  const top = new Reader(bytes, 8, bytes.length, 'module')
  while (top.pos < bytes.length) {
    const sectionStart = top.pos
    const id = top.byte()
    const size = top.u32()
    if (size > bytes.length - top.pos) top.fail(`section ${SECTION_NAMES[id] ?? id} runs past the end of the module`)
    const r = new Reader(bytes, top.pos, top.pos + size, `${SECTION_NAMES[id] ?? `unknown (${id})`} section`)
    top.pos += size
    switch (id) {
      case 1: readTypes(r, mod); break
      case 2: readImports(r, mod); break
      case 3: for (let n = r.count(1); n > 0; n--) mod.functions.push(r.u32()); break
      case 5:
        for (let n = r.count(2); n > 0; n--) mod.memories.push(r.limits())
        mod.memorySection = { start: sectionStart, end: r.end }
        break
      case 7: readExports(r, mod); break
      case 8: mod.start = r.u32(); break
      default:
        if (id > 13) r.fail(`unknown section id ${id}`)
        continue
    }
    if (r.pos !== r.end) r.fail('section has trailing bytes')
  }
  return mod
}

function readTypes (r: Reader, mod: RawModule): void {
  for (let n = r.count(3); n > 0; n--) {
    const form = r.byte()
    if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)}`)
    const params: ValueType[] = []
    for (let p = r.count(1); p > 0; p--) params.push(r.valueType())
    const results: ValueType[] = []
    for (let q = r.count(1); q > 0; q--) results.push(r.valueType())
    mod.types.push({ params, results })
  }
}

function readImports (r: Reader, mod: RawModule): void {
  for (let n = r.count(4); n > 0; n--) {
    const module = r.name()
    const name = r.name()
    const kindByte = r.byte()
    const kind = KINDS[kindByte] ?? r.fail(`unknown import kind ${kindByte}`)
    const imp: RawImport = { module, name, kind }
    if (kind === 'function') imp.type = r.u32()
    else if (kind === 'memory') imp.limits = r.limits()
    else if (kind === 'table') { r.valueType(); r.limits() } else if (kind === 'global') { r.valueType(); r.byte() } else { r.byte(); r.u32() }
    mod.imports.push(imp)
  }
}

function readExports (r: Reader, mod: RawModule): void {
  for (let n = r.count(3); n > 0; n--) {
    const name = r.name()
    const kindByte = r.byte()
    const kind = KINDS[kindByte] ?? r.fail(`unknown export kind ${kindByte}`)
    mod.exports.push({ name, kind, index: r.u32() })
  }
}

/** The type of function `index` in the function index space (imports first). */
export function functionType (mod: RawModule, index: number): FuncType | undefined {
  const imported = mod.imports.filter(i => i.kind === 'function')
  const typeIndex = index < imported.length ? imported[index].type : mod.functions[index - imported.length]
  return typeIndex == null ? undefined : mod.types[typeIndex]
}

export function formatSignature (t: FuncType): string {
  return `(${t.params.join(',')})->${t.results.length === 0 ? '()' : t.results.join(',')}`
}

function uleb (value: number): number[] {
  const out: number[] = []
  do {
    let b = value & 0x7f
    value = Math.floor(value / 128)
    if (value !== 0) b |= 0x80
    out.push(b)
  } while (value !== 0)
  return out
}

/**
 * Returns a copy of `bytes` whose single memory has the given limits. Used to
 * put the task's memory cap into the module itself, since a module's own
 * memory cannot be given a maximum from outside.
 */
export function rewriteMemoryLimits (bytes: Uint8Array, mod: RawModule, initialPages: number, maximumPages: number): Uint8Array {
  if (mod.memorySection == null) throw new InvalidModuleError('module defines no memory')
  const payload = [1, 0x01, ...uleb(initialPages), ...uleb(maximumPages)]
  const section = [5, ...uleb(payload.length), ...payload]
  const { start, end } = mod.memorySection
  const out = new Uint8Array(bytes.length - (end - start) + section.length)
  out.set(bytes.subarray(0, start), 0)
  out.set(section, start)
  out.set(bytes.subarray(end), start + section.length)
  return out
}
