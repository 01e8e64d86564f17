/** Test helpers: build the filters once and read the compiled modules. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SUITE_MODULES, type SuiteModuleName } from './runner-suite.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

export function buildFilters (): void {
  execFileSync(process.execPath, ['scripts/build-filters.mjs', '--quiet'], { cwd: root, stdio: 'inherit' })
}

export function filterWasm (name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${root}public/filters/${name}.wasm`))
}

export function hostileWasm (name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${root}.cache/filters/hostile/${name}.wasm`))
}

/** Every module the runner suite (runner-suite.ts) uses, by name; call buildFilters() first. */
export function suiteModules (): Record<SuiteModuleName, Uint8Array> {
  const filters = new Set(['echo', 'grayscale', 'invert'])
  return Object.fromEntries(SUITE_MODULES.map(name => [name,
    name === 'bigmem' ? tinyModule({ memory: { initial: 2 } }) : filters.has(name) ? filterWasm(name) : hostileWasm(name)
  ])) as Record<SuiteModuleName, Uint8Array>
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function noise (length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

function uleb (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

const str = (s: string): number[] => { const b = [...new TextEncoder().encode(s)]; return [...uleb(b.length), ...b] }
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body]
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()]

export interface TinyModuleOptions {
  /** Function imports, all typed ()->() unless `type` is given (0:(i32)->i32 1:()->i32 2:entry 3:()->() 4:abort). */
  imports?: Array<{ module: string, name: string, type?: number }>
  importMemory?: boolean
  /** Memory limits; null leaves the memory out. */
  memory?: { initial: number, maximum?: number, shared?: boolean } | null
  start?: boolean
  /** Body of entry "run" (locals then code, without its size); default: return inLen. */
  runBody?: number[]
}

/**
 * Hand-assembles a minimal ABI module: fedra_alloc always answers 16,
 * fedra_output_ptr 16, and entry "run" returns inLen, so it echoes its input
 * when no params are sent.
 */
export function tinyModule (opts: TinyModuleOptions = {}): Uint8Array {
  const types = vec([
    [0x60, 1, 0x7f, 1, 0x7f],
    [0x60, 0, 1, 0x7f],
    [0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f],
    [0x60, 0, 0],
    [0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 0]
  ])
  const imports = (opts.imports ?? []).map(i => [...str(i.module), ...str(i.name), 0, i.type ?? 3])
  if (opts.importMemory === true) imports.push([...str('env'), ...str('memory'), 2, 0, 1])
  const nImported = (opts.imports ?? []).length
  const funcs = [0, 1, 2, 3]
  const bodies = [
    [0, 0x41, 16, 0x0b],
    [0, 0x41, 16, 0x0b],
    opts.runBody ?? [0, 0x20, 1, 0x0b],
    [0, 0x0b]
  ].map(b => [...uleb(b.length), ...b])
  const mem = opts.memory === undefined ? { initial: 1 } : opts.memory
  const exports = [
    [...str('fedra_alloc'), 0, nImported],
    [...str('fedra_output_ptr'), 0, nImported + 1],
    [...str('run'), 0, nImported + 2]
  ]
  if (mem != null || opts.importMemory === true) exports.push([...str('memory'), 2, 0])
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, types),
    ...(imports.length > 0 ? section(2, vec(imports)) : []),
    ...section(3, vec(funcs.map(f => [f]))),
    ...(mem != null
      ? section(5, vec([[(mem.maximum != null ? 1 : 0) | (mem.shared === true ? 2 : 0), ...uleb(mem.initial), ...(mem.maximum != null ? uleb(mem.maximum) : [])]]))
      : []),
    ...section(7, vec(exports)),
    ...(opts.start === true ? section(8, uleb(nImported + 3)) : []),
    ...section(10, vec(bodies))
  ]
  return new Uint8Array(bytes)
}
