import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { createServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import { extname, join, normalize, resolve } from 'node:path'
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Socket } from 'node:net'

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

const gzip = promisify(gzipCb)
/** Sent gzipped when the browser takes it: the app's JavaScript is a third of its size so (a phone on 3G loads it seconds sooner). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.wasm', '.txt'])
const MAX_GZIP_BYTES = 32 * 1024 * 1024

/** Gzipped files by path, made once per version of the file (its modification time and size). */
class GzipCache {
  private readonly entries = new Map<string, { key: string, body: Promise<Buffer> }>()

  async get (file: string, size: number, mtimeMs: number): Promise<Buffer> {
    const key = `${size}:${mtimeMs}`
    let e = this.entries.get(file)
    if (e == null || e.key !== key) {
      e = { key, body: readFile(file).then(async b => gzip(b, { level: 9 })) }
      this.entries.set(file, e)
      e.body.catch(() => { this.entries.delete(file) })
    }
    return e.body
  }
}

export interface StaticServerInit {
  root: string
  host: string
  port: number
  /** Extra JSON documents served at fixed paths (e.g. the relay's addresses), built per request. */
  documents?: Record<string, (req: IncomingMessage) => unknown>
  /** Extra files served at fixed paths, also over plain HTTP on a TLS port (the certificate authority). */
  files?: Record<string, { type: string, body: string | Uint8Array }>
  /** Serve HTTPS with this PEM certificate (chain) and key; plain HTTP on the same port is redirected. */
  tls?: { cert: string, key: string }
}

export interface StaticServer {
  /** Closes the listener and every open connection. */
  close: () => void
  /** The port it listens on. */
  port: number
}

/** First byte of a TLS handshake record (handshake, 0x16) vs. an ASCII HTTP method. */
function isTlsHello (byte: number): boolean {
  return byte < 32 || byte >= 127
}

/**
 * Plain HTTP on the TLS port: a phone that was given `host:8080` without a
 * scheme gets sent to https:// instead of a dropped connection.
 */
function redirectToHttps (files: StaticServerInit['files']): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = files?.[path]
    if (file != null) {
      res.setHeader('Content-Type', file.type)
      res.end(file.body)
      return
    }
    const host = req.headers.host
    if (host == null || /[\s/@]/.test(host)) {
      res.statusCode = 400
      res.end('use https://')
      return
    }
    res.statusCode = 301
    res.setHeader('Location', `https://${host}${req.url ?? '/'}`)
    res.end()
  }
}

/**
 * Serves the built web app. Cross-origin isolation headers let the page use
 * SharedArrayBuffer (WASM threads, onnxruntime's threaded build).
 */
export async function startStaticServer (init: StaticServerInit): Promise<StaticServer> {
  const root = resolve(init.root)
  const gzipped = new GzipCache()
  const serve: RequestListener = (req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp')
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin')
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const doc = init.documents?.[path]
    if (doc != null) {
      res.setHeader('Content-Type', 'application/json')
      res.setHeader('Cache-Control', 'no-store')
      res.end(JSON.stringify(doc(req)))
      return
    }
    const extra = init.files?.[path]
    if (extra != null) {
      res.setHeader('Content-Type', extra.type)
      res.end(extra.body)
      return
    }
    const file = normalize(join(root, path === '/' ? '/index.html' : path))
    if (!file.startsWith(root)) {
      res.statusCode = 403
      res.end('forbidden')
      return
    }
    stat(file).then(async s => {
      if (!s.isFile()) throw new Error('not a file')
      const ext = extname(file)
      res.setHeader('Content-Type', TYPES[ext] ?? 'application/octet-stream')
      if (COMPRESSIBLE.has(ext) && s.size <= MAX_GZIP_BYTES && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        const body = await gzipped.get(file, s.size, s.mtimeMs)
        res.setHeader('Content-Encoding', 'gzip')
        res.setHeader('Vary', 'Accept-Encoding')
        res.setHeader('Content-Length', body.byteLength)
        res.end(body)
        return
      }
      res.setHeader('Content-Length', s.size)
      createReadStream(file).pipe(res)
    }).catch(() => {
      res.statusCode = 404
      res.end('not found')
    })
  }
  const servers: Array<Server | HttpsServer> = []
  let listener: Server | ReturnType<typeof createNetServer>
  const sockets = new Set<Socket>()
  if (init.tls == null) {
    const http = createServer(serve)
    servers.push(http)
    listener = http
  } else {
    // one port, both protocols: TLS goes to the HTTPS server, anything else
    // to a server that redirects (as @libp2p/websockets does, after httpolyglot)
    const https = createHttpsServer({ cert: init.tls.cert, key: init.tls.key }, serve)
    https.on('tlsClientError', (_err, socket) => { socket.destroy() })
    const http = createServer(redirectToHttps(init.files))
    servers.push(https, http)
    listener = createNetServer({ pauseOnConnect: true }, socket => {
      sockets.add(socket)
      socket.on('close', () => { sockets.delete(socket) })
      socket.on('error', () => { socket.destroy() })
      const route = (): void => {
        const first = socket.read(1) as Buffer | null
        if (first == null) { socket.once('readable', route); return }
        socket.unshift(first)
        ;(isTlsHello(first[0]) ? https : http).emit('connection', socket)
      }
      route()
    })
  }
  await new Promise<void>((resolvePromise, reject) => {
    listener.once('error', reject)
    listener.listen(init.port, init.host, () => { resolvePromise() })
  })
  const addr = listener.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : init.port
  return {
    port,
    close: () => {
      listener.close()
      for (const s of servers) { s.close(); s.closeAllConnections() }
      for (const s of sockets) s.destroy()
    }
  }
}
