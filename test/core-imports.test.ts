/**
 * src/core is pure logic: it must run unchanged in a browser tab, in Node and
 * in the simulator. This test scans its sources and fails on any import from
 * outside src/core (bar a few pure npm packages) and on any use of DOM or
 * Node globals. WebCrypto (`crypto.subtle`, `crypto.getRandomValues`),
 * TextEncoder/TextDecoder, atob/btoa are standard in both and allowed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CORE = join(ROOT, 'src', 'core')

/** Pure npm packages core may use (exact name or a subpath of it). */
const ALLOWED_PACKAGES = ['cborg', 'multiformats']

/** Globals that exist only in a browser or only in Node. */
const FORBIDDEN_GLOBALS = [
  'window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'indexedDB', 'XMLHttpRequest', 'HTMLElement',
  'process', 'Buffer', 'global', '__dirname', '__filename', 'setImmediate'
]

function listSources (dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listSources(path))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out.sort()
}

/**
 * Source with comments removed and the contents of string and template
 * literals blanked (their quotes kept), so globals named in prose do not
 * count. Template `${…}` expressions are kept as code.
 */
function codeOnly (src: string): string {
  let out = ''
  let i = 0
  let braces = 0
  const templates: number[] = [] // for each open `${`, the brace depth that closes it
  /** Skips a literal's body from i (just past its opening quote); stops at its end or at `${`. */
  const skipLiteral = (quote: string): void => {
    while (i < src.length && src[i] !== quote) {
      if (src[i] === '\\') {
        i += 2
        continue
      }
      if (quote === '`' && src[i] === '$' && src[i + 1] === '{') {
        out += '${'
        i += 2
        templates.push(braces++)
        return
      }
      i++
    }
    out += quote
    i++
  }
  while (i < src.length) {
    const c = src[i]
    const n = src[i + 1]
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2)
      i = end < 0 ? src.length : end + 2
    } else if (c === '\\') {
      // in code, a backslash only occurs in a regex literal: drop it and the char it escapes
      i += 2
    } else if (c === '\'' || c === '"' || c === '`') {
      out += c
      i++
      skipLiteral(c)
    } else if (c === '}' && templates.length > 0 && templates[templates.length - 1] === braces - 1) {
      // the end of a template's `${…}`: the template text goes on
      templates.pop()
      braces--
      out += '}'
      i++
      skipLiteral('`')
    } else {
      if (c === '{') braces++
      else if (c === '}') braces--
      out += c
      i++
    }
  }
  return out
}

/** Module specifiers of static imports/exports, side-effect imports and dynamic import(). */
function specifiers (src: string): string[] {
  const found: string[] = []
  const patterns = [
    /\b(?:import|export)\s[^;'"]*?\bfrom\s*(['"])([^'"]+)\1/g,
    /\bimport\s*(['"])([^'"]+)\1/g,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
    /\brequire\s*\(\s*(['"])([^'"]+)\1\s*\)/g
  ]
  for (const re of patterns) for (const m of src.matchAll(re)) found.push(m[2])
  return found
}

function importProblems (file: string, src: string): string[] {
  const problems: string[] = []
  for (const spec of specifiers(src)) {
    if (spec.startsWith('.')) {
      const target = resolve(dirname(file), spec)
      if (target !== CORE && !target.startsWith(CORE + sep)) problems.push(`imports ${spec}, which leaves src/core`)
      else if (!spec.endsWith('.js')) problems.push(`imports ${spec} without a .js extension`)
      else if (!existsSync(target.replace(/\.js$/, '.ts'))) problems.push(`imports ${spec}, which does not exist`)
    } else if (!ALLOWED_PACKAGES.some(p => spec === p || spec.startsWith(`${p}/`))) {
      problems.push(`imports ${spec}, which is not on the allow-list (${ALLOWED_PACKAGES.join(', ')})`)
    }
  }
  return problems
}

function globalProblems (src: string): string[] {
  const code = codeOnly(src)
  const problems: string[] = []
  for (const g of FORBIDDEN_GLOBALS) {
    // an identifier, not a property (`x.window`) nor an object key (`{ window: 1 }`)
    const re = new RegExp(`(?<![.\\w$])${g.replace(/\$/g, '\\$')}(?![\\w$])(?!\\s*:(?!:))`, 'g')
    if (re.test(code)) problems.push(`uses the global ${g}`)
  }
  if (/(?<![.\w$])require\s*\(/.test(code)) problems.push('calls require(')
  return problems
}

describe('src/core stays environment-free', () => {
  const files = listSources(CORE)

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(10)
  })

  it('imports only core files and allowed pure packages', () => {
    const problems = files.flatMap(f => importProblems(f, readFileSync(f, 'utf8')).map(p => `${relative(ROOT, f)}: ${p}`))
    expect(problems).toEqual([])
  })

  it('uses no DOM or Node globals', () => {
    const problems = files.flatMap(f => globalProblems(readFileSync(f, 'utf8')).map(p => `${relative(ROOT, f)}: ${p}`))
    expect(problems).toEqual([])
  })
})

describe('the scanner itself', () => {
  const file = join(CORE, 'x', 'y.ts')

  it('flags forbidden imports and accepts allowed ones', () => {
    const src = [
      "import { a } from '../errors.js'",
      "import type { B } from '../protocol/codec.js'",
      "import { decode } from 'cborg'",
      "import { CID } from 'multiformats/cid'",
      "import { readFile } from 'node:fs'",
      "import type { Stream } from '@libp2p/interface'",
      "import { createLibp2p } from 'libp2p'",
      "export { x } from 'helia'",
      "import '@helia/unixfs'",
      "const ort = await import('onnxruntime-web')",
      "import { y } from '../../net/room.js'",
      "import fs from 'fs'",
      "const c = require('crypto')"
    ].join('\n')
    expect(importProblems(file, src).map(p => p.split(',')[0]).sort()).toEqual([
      'imports ../../net/room.js', 'imports @helia/unixfs', 'imports @libp2p/interface', 'imports crypto', 'imports fs',
      'imports helia', 'imports libp2p', 'imports node:fs', 'imports onnxruntime-web'
    ].sort())
    expect(importProblems(file, "import { a } from '../errors'")).toEqual(['imports ../errors without a .js extension'])
    expect(importProblems(file, "import { a } from './missing.js'")).toEqual(['imports ./missing.js, which does not exist'])
  })

  it('flags globals in code but not in comments, strings or as properties and keys', () => {
    expect(globalProblems('const w = window.innerWidth')).toEqual(['uses the global window'])
    expect(globalProblems('if (typeof document !== "undefined") {}')).toEqual(['uses the global document'])
    expect(globalProblems('const n = navigator.hardwareConcurrency')).toEqual(['uses the global navigator'])
    expect(globalProblems('const e = process.env.X')).toEqual(['uses the global process'])
    expect(globalProblems('Buffer.from(x)')).toEqual(['uses the global Buffer'])
    expect(globalProblems('const m = require("x")')).toEqual(['calls require('])
    expect(globalProblems('const t = `${window.x}`')).toEqual(['uses the global window'])
    expect(globalProblems('const t = `a ${f({ k: 1 })} b`; process.exit()')).toEqual(['uses the global process'])
    expect(globalProblems('const t = `a ${`b ${1}`} c` + document.title')).toEqual(['uses the global document'])
    expect(globalProblems([
      '// the window of opportunity; document it',
      '/* navigator, process */',
      'const s = "process the window"',
      "const r = 'Buffer'",
      'const t = `a document ${1 + 1} navigator`',
      'const o = { window: 1, process: 2 }',
      'o.process(); o.document = 3',
      'const b = crypto.subtle; const e = new TextEncoder(); btoa(atob("x"))',
      'const re = /\\/\\//g; const q = a.replace(/\'/g, "")',
      'const nested = `a ${`b ${"window"} c`} d`; const after = 1'
    ].join('\n'))).toEqual([])
  })
})
