#!/usr/bin/env node
// Compiles the AssemblyScript filters in src/filters/assembly into
// public/filters/<name>.wasm (MVP only, for every host, boards included), the
// image filters also into public/filters/<name>.simd.wasm (the same source
// with WebAssembly SIMD enabled), plus public/filters/index.json, and the
// hostile test modules into .cache/filters/hostile/. Skips the work when the
// sources, the flags and the compiler version are unchanged and the outputs
// exist (a stamp in .cache/filters records their hash), so tests can call it
// before every run.
//
//   node scripts/build-filters.mjs [--force] [--quiet]
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const srcDir = join(root, 'src/filters/assembly')
const outDir = join(root, 'public/filters')
const hostileOut = join(root, '.cache/filters/hostile')
const force = process.argv.includes('--force')
const quiet = process.argv.includes('--quiet')

// MVP only, no imports: the board's interpreter runs exactly these modules.
// No maximum memory: the host sets it from the task's memory cap.
const BOARD_FLAGS = [
  '-O3', '--runtime', 'stub', '--noAssert', '--initialMemory', '1', '--use', 'abort=',
  '--disable', 'bulk-memory,sign-extension,nontrapping-f2i,mutable-globals'
]
// The SIMD builds: the board flags plus SIMD and nothing else, so a SIMD build
// needs exactly the wasmSimd capability. Sources pick their v128 path with the
// compile-time constant ASC_FEATURE_SIMD.
const SIMD_FLAGS = [...BOARD_FLAGS, '--enable', 'simd']
// The image filters (kind 'image' in src/filters/catalog.ts; filters.test.ts
// checks that the two agree) get a SIMD build.
const SIMD_BUILDS = new Set(['blur', 'boxblur', 'brightness', 'grayscale', 'invert', 'pixelate', 'sepia', 'sobel', 'vignette'])
// Keeps AssemblyScript's env.abort import (the one import the ABI allows).
const WITH_ABORT_FLAGS = [
  '-O3', '--runtime', 'stub', '--initialMemory', '1',
  '--disable', 'bulk-memory,sign-extension,nontrapping-f2i,mutable-globals'
]

const log = (...args) => { if (!quiet) console.log(...args) }

async function listTs (dir) {
  const names = await readdir(dir, { withFileTypes: true })
  return names.filter(d => d.isFile() && d.name.endsWith('.ts')).map(d => d.name).sort()
}

async function sourceHash (ascVersion) {
  const h = createHash('sha256')
  h.update(`asc ${ascVersion}\n${BOARD_FLAGS.join(' ')}\n${SIMD_FLAGS.join(' ')}\n${WITH_ABORT_FLAGS.join(' ')}\n`)
  for (const sub of ['lib', '.', 'hostile']) {
    for (const name of await listTs(join(srcDir, sub))) {
      h.update(`${sub}/${name}\n`)
      h.update(await readFile(join(srcDir, sub, name)))
    }
  }
  h.update(await readFile(fileURLToPath(import.meta.url)))
  return h.digest('hex')
}

async function readJson (path) {
  try { return JSON.parse(await readFile(path, 'utf8')) } catch { return null }
}

// Writes through a temporary name so that concurrent builds (parallel test
// files) never expose a half-written module.
async function writeAtomic (path, data) {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  await writeFile(tmp, data)
  await rename(tmp, path)
}

function fileInfo (bytes) {
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
}

function entryPoints (bytes) {
  const mod = new WebAssembly.Module(bytes)
  return WebAssembly.Module.exports(mod)
    .filter(e => e.kind === 'function' && !e.name.startsWith('fedra_'))
    .map(e => e.name)
}

async function compile (asc, file, flags) {
  let stderr = ''
  const outputs = new Map()
  const { error } = await asc.main([relative(root, file), '--outFile', 'out.wasm', ...flags], {
    baseDir: root,
    stdout: { write: () => true },
    stderr: { write: (s) => { stderr += String(s); return true } },
    writeFile: (name, contents) => { outputs.set(name, contents) }
  })
  if (error != null) throw new Error(`asc failed for ${relative(root, file)}: ${error.message}\n${stderr}`)
  const wasm = outputs.get('out.wasm')
  if (wasm == null) throw new Error(`asc produced no module for ${relative(root, file)}`)
  return new Uint8Array(wasm)
}

const lockPath = join(root, '.cache/filters/build.lock')

// Parallel test files all call this script: one builds, the others wait for
// it and then find the stamp fresh. A lock older than a minute is stale.
async function withLock (fn) {
  await mkdir(dirname(lockPath), { recursive: true })
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx')
      await handle.close()
      break
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
      const age = await stat(lockPath).then(s => Date.now() - s.mtimeMs, () => 0)
      if (age > 60_000) await rm(lockPath, { force: true })
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  try { return await fn() } finally { await rm(lockPath, { force: true }) }
}

const stampPath = join(root, '.cache/filters/build-stamp.json')

async function exists (path) {
  return await stat(path).then(() => true, () => false)
}

async function upToDate (hash) {
  if (force) return null
  const stamp = await readJson(stampPath)
  const index = await readJson(join(outDir, 'index.json'))
  if (stamp?.hash !== hash || index == null) return null
  for (const f of index.filters) {
    if (!await exists(join(outDir, f.file))) return null
    if (f.simd != null && !await exists(join(outDir, f.simd.file))) return null
  }
  for (const name of stamp.hostile ?? []) if (!await exists(join(hostileOut, name))) return null
  return index
}

async function main () {
  const { default: asc } = await import('assemblyscript/asc')
  const hash = await sourceHash(asc.version)
  const fresh = await upToDate(hash)
  if (fresh != null) {
    log(`filters up to date (${fresh.filters.length} modules)`)
    return
  }
  await withLock(async () => {
    if (await upToDate(hash) != null) return
    await buildAll(asc, hash)
  })
}

async function buildAll (asc, hash) {
  await mkdir(outDir, { recursive: true })
  await mkdir(hostileOut, { recursive: true })
  const started = Date.now()

  const filters = []
  for (const name of await listTs(srcDir)) {
    const base = name.slice(0, -3)
    const bytes = await compile(asc, join(srcDir, name), BOARD_FLAGS)
    await writeAtomic(join(outDir, `${base}.wasm`), bytes)
    const entry = { name: base, file: `${base}.wasm`, entries: entryPoints(bytes), ...fileInfo(bytes) }
    if (SIMD_BUILDS.has(base)) {
      const simd = await compile(asc, join(srcDir, name), SIMD_FLAGS)
      await writeAtomic(join(outDir, `${base}.simd.wasm`), simd)
      entry.simd = { file: `${base}.simd.wasm`, ...fileInfo(simd) }
    }
    filters.push(entry)
  }
  const missing = [...SIMD_BUILDS].filter(name => !filters.some(f => f.name === name))
  if (missing.length > 0) throw new Error(`SIMD_BUILDS names filters without a source: ${missing.join(', ')}`)
  const hostile = []
  for (const name of await listTs(join(srcDir, 'hostile'))) {
    const base = name.slice(0, -3)
    const flags = base === 'asabort' ? WITH_ABORT_FLAGS : BOARD_FLAGS
    await writeAtomic(join(hostileOut, `${base}.wasm`), await compile(asc, join(srcDir, 'hostile', name), flags))
    hostile.push(`${base}.wasm`)
  }
  await writeAtomic(join(outDir, 'index.json'), JSON.stringify({ abi: 1, filters }, null, 2) + '\n')
  await writeAtomic(stampPath, JSON.stringify({ hash, hostile }) + '\n')
  log(`built ${filters.length} filters in ${Date.now() - started} ms: ${filters.map(f => `${f.name} (${f.size} B${f.simd != null ? `, simd ${f.simd.size} B` : ''})`).join(', ')}`)
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err)
  await rm(stampPath, { force: true })
  process.exit(1)
})
