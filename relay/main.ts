import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import { resolve } from 'node:path'
import qrcode from 'qrcode-terminal'
import { certificateNames, ensureCertificate, loadCertificate } from './certificate.js'
import { appLinks, fedraConfig } from './config.js'
import { isLoopbackHost, parseIceFile, parseRelayArgs, UsageError, USAGE } from './options.js'
import { createRelayNode } from './relay-node.js'
import { startStaticServer } from './static-server.js'
import type { TlsFiles } from './certificate.js'
import type { RelayOptions } from './options.js'

/**
 * `npm start -- [--host 0.0.0.0] [--port 8080] [--name laptop.local] …` (see USAGE)
 * Starts the relay and serves the web app: HTTPS + WSS on a network address
 * (phones need a secure context), HTTP + WS on loopback. Prints one JSON
 * "ready" line on stdout for scripts and tests; everything for people
 * (links, QR code, certificate) goes to stderr.
 */
let opts: RelayOptions
let iceServers: RTCIceServer[]
try {
  opts = parseRelayArgs(process.argv.slice(2))
  if (opts.help === true) {
    console.error(USAGE)
    process.exit(0)
  }
  iceServers = [
    ...(opts.iceFile != null ? parseIceFile(JSON.parse(await readFile(opts.iceFile, 'utf8'))) : []),
    ...opts.iceServers
  ]
} catch (err) {
  if (!(err instanceof UsageError) && !(err instanceof SyntaxError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  console.error(`${(err as Error).message}\n\n${USAGE}`)
  process.exit(2)
}

const interfaceAddresses = Object.values(networkInterfaces()).flatMap(list => (list ?? []).map(i => i.address))
let tls: TlsFiles | undefined
if (opts.cert != null && opts.key != null) {
  tls = await loadCertificate(opts.cert, opts.key)
} else if (opts.tls) {
  tls = await ensureCertificate(resolve(opts.dataDir), certificateNames({
    host: opts.host, names: opts.names, interfaceAddresses, hostname: hostname()
  }))
}

const relay = await createRelayNode({ host: opts.host, port: opts.relayPort, tls })
await relay.start()
const relayAddrs = (): string[] => relay.getMultiaddrs().map(a => a.toString())
const relayPort = Number(relay.getMultiaddrs()[0]?.getComponents().find(c => c.name === 'tcp')?.value ?? opts.relayPort)
const CA_PATH = '/fedra-ca.crt'
const server = await startStaticServer({
  root: resolve(opts.root),
  host: opts.host,
  port: opts.port,
  ...(tls != null ? { tls: { cert: tls.cert, key: tls.key } } : {}),
  // DER, the form both Android and iOS install from a download
  ...(tls?.ca != null ? { files: { [CA_PATH]: { type: 'application/x-x509-ca-cert', body: new X509Certificate(tls.ca).raw } } } : {}),
  documents: {
    '/fedra.json': (req) => fedraConfig({
      hostHeader: req.headers.host,
      relay: { port: relayPort, peerId: relay.peerId.toString(), secure: tls != null },
      fallback: relayAddrs(),
      iceServers
    })
  }
})

const links = appLinks({ host: opts.host, port: server.port, tls: tls != null, names: opts.names, interfaceAddresses })
console.log(JSON.stringify({ event: 'ready', url: links[0], urls: links, relays: relayAddrs(), ...(tls != null ? { cert: tls.certPath } : {}) }))

console.error(`Fedra is running. Open ${links[0]} to create a room.`)
for (const other of links.slice(1)) console.error(`  also: ${other}`)
if (opts.qr ?? !isLoopbackHost(new URL(links[0]).hostname)) {
  qrcode.generate(links[0], { small: true }, (code: string) => { console.error(code) })
}
if (tls?.ca != null) {
  const ca = new X509Certificate(tls.ca)
  console.error(`${tls.created ? 'Made a new' : 'Using the'} certificate ${tls.certPath}.`)
  console.error(`Each device trusts the authority once: ${new URL(CA_PATH, links[0]).href.replace(/^https:/, 'http:')}`)
  console.error(`  SHA-256 ${ca.fingerprint256} (docs/deploy.md)`)
} else if (tls != null) {
  console.error(`Using the certificate ${tls.certPath}.`)
}
if (tls == null && !isLoopbackHost(opts.host)) {
  console.error('Warning: plain HTTP on a network address: phones will not give the page a camera, WebCodecs or WebCrypto.')
}

const stop = (): void => {
  server.close()
  void Promise.resolve(relay.stop()).finally(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
