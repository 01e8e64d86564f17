import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureCertificate } from './certificate.js'
import { startStaticServer } from './static-server.js'
import type { TlsFiles } from './certificate.js'
import type { StaticServer } from './static-server.js'

interface Reply { status: number, headers: Record<string, unknown>, body: string }

async function get (url: string, opts: { ca?: string, host?: string } = {}): Promise<Reply> {
  const u = new URL(url)
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(u, { ca: opts.ca, servername: 'localhost', headers: opts.host != null ? { host: opts.host } : {} }, res => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end()
  })
}

/** The app server on loopback with a generated certificate: HTTPS and plain HTTP share one port. */
describe('static server over TLS', () => {
  let dir = ''
  let tls: TlsFiles
  let server: StaticServer

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedra-static-'))
    await writeFile(join(dir, 'index.html'), '<p>fedra</p>')
    tls = await ensureCertificate(join(dir, 'data'), { dns: ['localhost'], ips: ['127.0.0.1'] })
    server = await startStaticServer({
      root: dir,
      host: '127.0.0.1',
      port: 0,
      tls,
      files: { '/fedra-ca.crt': { type: 'application/x-x509-ca-cert', body: tls.ca ?? '' } },
      documents: { '/fedra.json': req => ({ host: req.headers.host }) }
    })
  })

  afterAll(async () => {
    server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('serves the app over HTTPS with a certificate the authority signed', async () => {
    const r = await get(`https://127.0.0.1:${server.port}/`, { ca: tls.ca })
    expect(r.status).toBe(200)
    expect(r.body).toBe('<p>fedra</p>')
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp')
  })

  it('builds documents per request (from the Host header)', async () => {
    const r = await get(`https://127.0.0.1:${server.port}/fedra.json`, { ca: tls.ca, host: 'fedra.test:1' })
    expect(JSON.parse(r.body)).toEqual({ host: 'fedra.test:1' })
  })

  it('redirects plain HTTP on the same port to https, but hands out the authority', async () => {
    const r = await get(`http://127.0.0.1:${server.port}/x?y#z`, { host: 'fedra.test:8080' })
    expect(r.status).toBe(301)
    expect(r.headers.location).toBe('https://fedra.test:8080/x?y')
    const ca = await get(`http://127.0.0.1:${server.port}/fedra-ca.crt`)
    expect(ca.status).toBe(200)
    expect(ca.body).toBe(tls.ca)
  })
})

describe('static server compression', () => {
  let dir = ''
  let server: StaticServer

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedra-static-gz-'))
    await writeFile(join(dir, 'app.js'), 'export const fedra = "room";\n'.repeat(2000))
    await writeFile(join(dir, 'clip.webm'), new Uint8Array(1000))
    server = await startStaticServer({ root: dir, host: '127.0.0.1', port: 0 })
  })

  afterAll(async () => {
    server?.close()
    await rm(dir, { recursive: true, force: true })
  })

  const fetchRaw = async (path: string, encoding?: string): Promise<{ headers: Record<string, unknown>, body: Buffer }> => new Promise((resolve, reject) => {
    const req = httpRequest(`http://127.0.0.1:${server.port}${path}`, { headers: encoding != null ? { 'accept-encoding': encoding } : {} }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => { parts.push(d) })
      res.on('end', () => { resolve({ headers: res.headers, body: Buffer.concat(parts) }) })
    })
    req.on('error', reject)
    req.end()
  })

  it('sends JavaScript gzipped to a browser that takes it, the same bytes once unzipped, and plain to one that does not', async () => {
    const { gunzipSync } = await import('node:zlib')
    const plain = await fetchRaw('/app.js')
    expect(plain.headers['content-encoding']).toBeUndefined()
    const zipped = await fetchRaw('/app.js', 'gzip, deflate, br')
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(Number(zipped.headers['content-length'])).toBe(zipped.body.byteLength)
    expect(zipped.body.byteLength).toBeLessThan(plain.body.byteLength / 10)
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true)
    // media is already compressed: sent as it is
    expect((await fetchRaw('/clip.webm', 'gzip')).headers['content-encoding']).toBeUndefined()
  })
})
