import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { extname, join, normalize, resolve } from 'node:path'
import type { Server } from 'node:http'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8'
}

export interface StaticServerInit {
  root: string
  host: string
  port: number
  /** Extra JSON documents served at fixed paths (e.g. the relay's addresses). */
  documents?: Record<string, () => unknown>
}

/**
 * Serves the built web app. Cross-origin isolation headers let the page use
 * SharedArrayBuffer (WASM threads, onnxruntime's threaded build).
 */
export async function startStaticServer (init: StaticServerInit): Promise<{ server: Server, url: string }> {
  const root = resolve(init.root)
  const server = createServer((req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp')
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const doc = init.documents?.[path]
    if (doc != null) {
      res.setHeader('Content-Type', 'application/json')
      res.setHeader('Cache-Control', 'no-store')
      res.end(JSON.stringify(doc()))
      return
    }
    const file = normalize(join(root, path === '/' ? '/index.html' : path))
    if (!file.startsWith(root)) {
      res.statusCode = 403
      res.end('forbidden')
      return
    }
    stat(file).then(s => {
      if (!s.isFile()) throw new Error('not a file')
      res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream')
      res.setHeader('Content-Length', s.size)
      createReadStream(file).pipe(res)
    }).catch(() => {
      res.statusCode = 404
      res.end('not found')
    })
  })
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject)
    server.listen(init.port, init.host, () => { resolvePromise() })
  })
  const addr = server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : init.port
  return { server, url: `http://${init.host === '0.0.0.0' ? '127.0.0.1' : init.host}:${port}/` }
}
