import { beforeAll, describe, expect, it } from 'vitest'
import { FunctionFailedError, FunctionTrapError, InvalidModuleError, MemoryLimitError } from '../core/errors.js'
import { applyMemoryCap, DEFAULT_MAX_MODULE_BYTES, inspectModule } from './abi.js'
import { createExecutor } from './executor.js'
import { buildFilters, filterWasm, hostileWasm, tinyModule } from './test-support.js'
import { parseModule } from './wasm-module.js'

beforeAll(() => { buildFilters() }, 60_000)

const none = new Uint8Array(0)

function expectInvalid (bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown
  try { inspectModule(bytes) } catch (e) { err = e }
  expect(err).toBeInstanceOf(InvalidModuleError)
  expect((err as Error).message).toMatch(pattern)
}

/** Byte offset of the body of section `id` and its length (tinyModule's sections are small, but read LEB128 anyway). */
function findSection (bytes: Uint8Array, id: number): { start: number, size: number } {
  let p = 8
  while (p < bytes.length) {
    const sid = bytes[p++]
    let size = 0
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++]
      size |= (b & 0x7f) << shift
      if ((b & 0x80) === 0) break
    }
    if (sid === id) return { start: p, size }
    p += size
  }
  throw new Error(`no section ${id}`)
}

/** Renames an export to a name of the same length, so no size changes. */
function renameExport (bytes: Uint8Array, from: string, to: string): Uint8Array {
  const out = bytes.slice()
  const { start, size } = findSection(out, 7)
  const needle = [from.length, ...new TextEncoder().encode(from)]
  const at = out.subarray(start, start + size).findIndex((_, i, a) => needle.every((b, j) => a[i + j] === b))
  if (at < 0 || to.length !== from.length) throw new Error(`cannot rename ${from}`)
  out.set(new TextEncoder().encode(to), start + at + 1)
  return out
}

/** Gives defined function `index` another type (tinyModule's types: 0 (i32)->i32, 1 ()->i32, 2 entry, 3 ()->()). */
function retypeFunction (bytes: Uint8Array, index: number, type: number): Uint8Array {
  const out = bytes.slice()
  out[findSection(out, 3).start + 1 + index] = type
  return out
}

describe('inspectModule', () => {
  it('describes a built filter', () => {
    const info = inspectModule(filterWasm('wordcount'))
    expect(info.entries).toEqual(expect.arrayContaining(['map', 'reduce']))
    expect(info.memory).toEqual({ initialPages: 1, maximumPages: null })
    expect(info.imports).toEqual([])
  })

  it('accepts a hand-assembled minimal module', () => {
    expect(inspectModule(tinyModule()).entries).toEqual(['run'])
  })

  it('refuses garbage, bad magic, wrong version, truncation and oversize', () => {
    expectInvalid(new Uint8Array([1, 2, 3]), /does not start with/)
    expectInvalid(new TextEncoder().encode('<!doctype html><html></html>'), /not a WebAssembly module/)
    const v2 = tinyModule(); v2[4] = 2
    expectInvalid(v2, /version 2/)
    expectInvalid(tinyModule().subarray(0, 30), /malformed|runs past/)
    expect(() => inspectModule(tinyModule(), { maxBytes: 10 })).toThrow(/limit is 10/)
  })

  it('names a forbidden import', () => {
    expectInvalid(hostileWasm('forbidden'), /env\.fetch.*not allowed/)
    expectInvalid(tinyModule({ imports: [{ module: 'wasi_snapshot_preview1', name: 'fd_write' }] }), /wasi_snapshot_preview1\.fd_write/)
    // Right name, wrong signature.
    expectInvalid(tinyModule({ imports: [{ module: 'env', name: 'abort', type: 3 }] }), /env\.abort.*\(\)->\(\).*not allowed/)
  })

  it('allows env.abort with its exact signature', () => {
    expect(inspectModule(hostileWasm('asabort')).imports).toEqual([{ module: 'env', name: 'abort', signature: '(i32,i32,i32,i32)->()' }])
  })

  it('refuses imported, missing and shared memory', () => {
    expectInvalid(tinyModule({ importMemory: true, memory: null }), /imports its memory/)
    expectInvalid(tinyModule({ memory: null }), /defines no memory/)
    expectInvalid(tinyModule({ memory: { initial: 1, maximum: 1, shared: true } }), /shared/)
  })

  it('refuses an uploaded module at the default 4 MiB limit before parsing it', () => {
    const big = new Uint8Array(DEFAULT_MAX_MODULE_BYTES + 1)
    big.set(tinyModule())
    expectInvalid(big, new RegExp(`is ${DEFAULT_MAX_MODULE_BYTES + 1} bytes; the limit is ${DEFAULT_MAX_MODULE_BYTES}`))
  })

  it('refuses a module that keeps its memory unexported', () => {
    expectInvalid(renameExport(tinyModule(), 'memory', 'memorx'), /does not export its memory as "memory"/)
  })

  it('refuses missing or mistyped ABI functions', () => {
    expectInvalid(renameExport(tinyModule(), 'fedra_alloc', 'fedra_allox'), /does not export function "fedra_alloc" \(i32\)->i32/)
    expectInvalid(renameExport(tinyModule(), 'fedra_output_ptr', 'fedra_output_ptx'), /does not export function "fedra_output_ptr" \(\)->i32/)
    expectInvalid(retypeFunction(tinyModule(), 0, 1), /export "fedra_alloc" has type \(\)->i32; the Fedra ABI requires \(i32\)->i32/)
  })

  it('refuses a module whose only entry has the wrong signature', () => {
    expectInvalid(retypeFunction(tinyModule(), 2, 3), /exports no entry point \(i32,i32,i32,i32\)->i32/)
    expectInvalid(retypeFunction(tinyModule(), 2, 0), /exports no entry point/)
  })

  it('refuses a module whose code the engine rejects', () => {
    // "run" is local.get 1; local 9 does not exist.
    const bad = tinyModule()
    const { start, size } = findSection(bad, 10)
    const at = bad.subarray(start, start + size).findIndex((b, i, a) => b === 0x20 && a[i + 1] === 1 && a[i + 2] === 0x0b)
    bad[start + at + 1] = 9
    expectInvalid(bad, /fails WebAssembly validation/)
  })

  it('allows a start function only without imports', () => {
    expect(inspectModule(tinyModule({ start: true })).hasStart).toBe(true)
    expectInvalid(tinyModule({ start: true, imports: [{ module: 'env', name: 'abort', type: 4 }] }), /start function/)
  })
})

describe('applyMemoryCap', () => {
  it('writes the cap into the module as its maximum', () => {
    const capped = applyMemoryCap(tinyModule(), 3)
    expect(parseModule(capped).memories[0]).toMatchObject({ initialPages: 1, maximumPages: 3 })
    expect(WebAssembly.validate(capped as Uint8Array<ArrayBuffer>)).toBe(true)
  })

  it('keeps a smaller maximum and refuses a larger initial memory', () => {
    const small = tinyModule({ memory: { initial: 1, maximum: 2 } })
    expect(applyMemoryCap(small, 8)).toBe(small)
    expect(() => applyMemoryCap(tinyModule({ memory: { initial: 4 } }), 2)).toThrow(MemoryLimitError)
  })
})

describe('callEntry through an executor, against hostile modules', () => {
  const exec = createExecutor()
  const run = async (name: string, entry: string, input = new Uint8Array(8), memoryPages = 16): Promise<Uint8Array> =>
    (await exec.run({ key: name, module: hostileWasm(name), entry, input, params: none, memoryPages })).output

  it('echoes through the hand-assembled module', async () => {
    const out = await exec.run({ key: 'tiny', module: tinyModule(), entry: 'run', input: new Uint8Array([1, 2, 3]), params: none, memoryPages: 1 })
    expect([...out.output]).toEqual([1, 2, 3])
  })

  it('an out-of-range output pointer is a clear InvalidModuleError', async () => {
    await expect(run('badptr', 'lie')).rejects.toThrow(/fedra_output_ptr\(\) returned offset .* outside/)
    await expect(run('badptr', 'lie')).rejects.toBeInstanceOf(InvalidModuleError)
  })

  it('an out-of-range allocation is a clear InvalidModuleError', async () => {
    await expect(run('badalloc', 'run')).rejects.toThrow(/fedra_alloc\(8\) returned offset .* outside/)
  })

  it('unreachable is a FunctionTrapError with the trap text', async () => {
    await expect(run('trap', 'crash')).rejects.toBeInstanceOf(FunctionTrapError)
    await expect(run('trap', 'crash')).rejects.toThrow(/unreachable/)
  })

  it('a negative result is a FunctionFailedError with the code', async () => {
    await expect(run('trap', 'fail')).rejects.toBeInstanceOf(FunctionFailedError)
    await expect(run('trap', 'fail')).rejects.toThrow(/-42/)
  })

  it('AssemblyScript abort is a FunctionTrapError "abort called"', async () => {
    await expect(run('asabort', 'check', new Uint8Array(9))).rejects.toThrow(/abort called: input too long/)
    expect((await run('asabort', 'check', new Uint8Array(2))).length).toBe(0)
  })

  it('growing past the cap is a MemoryLimitError', async () => {
    await expect(run('memhog', 'hog', new Uint8Array(8), 8)).rejects.toBeInstanceOf(MemoryLimitError)
  })

  it('input larger than the cap is a MemoryLimitError', async () => {
    const exec2 = createExecutor()
    await expect(exec2.run({ key: 'g', module: filterWasm('grayscale'), entry: 'grayscale', input: new Uint8Array(200_000), params: none, memoryPages: 2 }))
      .rejects.toBeInstanceOf(MemoryLimitError)
    // Fits the cap as a whole but not next to the arena's static data.
    await expect(exec2.run({ key: 'g', entry: 'grayscale', input: new Uint8Array(65536), params: none, memoryPages: 1 }))
      .rejects.toBeInstanceOf(MemoryLimitError)
  })

  it('an unknown entry is an InvalidModuleError', async () => {
    await expect(run('trap', 'nope')).rejects.toBeInstanceOf(InvalidModuleError)
    await expect(run('trap', 'fedra_alloc')).rejects.toBeInstanceOf(InvalidModuleError)
  })

  it('reuses a compiled module per key and cap', async () => {
    const e = createExecutor()
    await e.run({ key: 'echo', module: filterWasm('echo'), entry: 'echo', input: none, params: none, memoryPages: 4 })
    const second = await e.run({ key: 'echo', entry: 'echo', input: new Uint8Array([9]), params: none, memoryPages: 4 })
    expect(second.compiled).toBe(false)
    expect(e.compiles).toBe(1)
    await e.run({ key: 'echo', entry: 'echo', input: none, params: none, memoryPages: 8 })
    expect(e.compiles).toBe(2)
  })
})
