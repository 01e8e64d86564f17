import { isIP } from 'node:net'
import { parseArgs } from 'node:util'

/**
 * The relay's command line, parsed and checked without touching the disk or
 * the network, so that tests can call it directly.
 */
export interface RelayOptions {
  /** Address the app server and the relay bind to. */
  host: string
  /** App server port (HTTPS or HTTP). */
  port: number
  /** libp2p relay port (WSS or WS); 0 picks a free one. */
  relayPort: number
  /** Built app to serve. */
  root: string
  /** Where the generated certificate is kept. */
  dataDir: string
  /** Extra DNS names the server is reached by (certificate names, printed link). */
  names: string[]
  /** HTTPS + WSS (true) or HTTP + WS (false). */
  tls: boolean
  /** The operator's own certificate and key (PEM files), instead of a generated one. */
  cert?: string
  key?: string
  /** A JSON file with RTCIceServer entries (an array, or `{ iceServers: [...] }`). */
  iceFile?: string
  /** ICE servers from --stun / --turn flags. */
  iceServers: RTCIceServer[]
  /** Print a QR code of the link (--qr / --no-qr); by default when the link is not loopback. */
  qr?: boolean
  /** --help: print USAGE and stop. */
  help?: boolean
}

export class UsageError extends Error {
  static override name = 'UsageError'
  override name = 'UsageError'
}

export const USAGE = `usage: npm start -- [options]
  --host <addr>          bind address (127.0.0.1; 0.0.0.0 serves the LAN over HTTPS)
  --port <n>             app port (8080)
  --relay-port <n>       relay WebSocket port (0: any free port)
  --root <dir>           built app to serve (dist)
  --name <host>          a DNS name the server is reached by (repeatable)
  --tls | --no-tls       force HTTPS+WSS or plain HTTP+WS (default: TLS unless the host is loopback)
  --qr | --no-qr         print the link as a QR code (default: when the link is not loopback)
  --data <dir>           where the generated certificate is kept (.fedra)
  --cert <pem> --key <pem>  use your own certificate instead
  --ice <file.json>      ICE servers for WebRTC (an RTCIceServer array)
  --stun <url>           add a STUN server, e.g. stun:192.168.1.5:3478 (repeatable)
  --turn <url>           add a TURN server, e.g. turn:192.168.1.5:3478 (repeatable)
  --turn-user <name> --turn-credential <secret>  credentials for every --turn`

/** True for addresses and names that only this machine can reach. */
export function isLoopbackHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1'
  return false
}

function portOf (flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number (0-65535), not "${value}"`)
  return n
}

const ICE_SCHEME = /^(stuns?|turns?):/

function checkIceUrl (flag: string, url: string, schemes: RegExp): string {
  if (!schemes.test(url)) throw new UsageError(`${flag} takes a ${flag === '--stun' ? 'stun:' : 'turn:'} URL, not "${url}"`)
  return url
}

/** ICE servers from --stun / --turn flags. */
export function iceServersFromFlags (init: { stun?: string[], turn?: string[], turnUser?: string, turnCredential?: string }): RTCIceServer[] {
  const servers: RTCIceServer[] = []
  const stun = (init.stun ?? []).map(u => checkIceUrl('--stun', u, /^stuns?:/))
  if (stun.length > 0) servers.push({ urls: stun })
  const turn = (init.turn ?? []).map(u => checkIceUrl('--turn', u, /^turns?:/))
  if (turn.length > 0) {
    if (init.turnUser == null || init.turnCredential == null) {
      throw new UsageError('--turn needs --turn-user and --turn-credential (browsers refuse a TURN server without them)')
    }
    servers.push({ urls: turn, username: init.turnUser, credential: init.turnCredential })
  } else if (init.turnUser != null || init.turnCredential != null) {
    throw new UsageError('--turn-user and --turn-credential go with --turn')
  }
  return servers
}

/** Checks the contents of an --ice file: an RTCIceServer array or `{ iceServers: [...] }`. */
export function parseIceFile (json: unknown): RTCIceServer[] {
  const list = Array.isArray(json) ? json : (json as { iceServers?: unknown } | null)?.iceServers
  if (!Array.isArray(list)) throw new UsageError('--ice file must hold an array of ICE servers, or { "iceServers": [...] }')
  return list.map((entry: unknown, i): RTCIceServer => {
    const e = entry as Record<string, unknown> | null
    const urls = typeof e?.urls === 'string' ? [e.urls] : e?.urls
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every(u => typeof u === 'string' && ICE_SCHEME.test(u))) {
      throw new UsageError(`--ice entry ${i}: "urls" must be stun:/turn: URLs`)
    }
    const out: RTCIceServer = { urls: typeof e?.urls === 'string' ? e.urls : urls as string[] }
    if (typeof e?.username === 'string') out.username = e.username
    if (typeof e?.credential === 'string') out.credential = e.credential
    if (urls.some(u => /^turns?:/.test(u as string)) && (out.username == null || out.credential == null)) {
      throw new UsageError(`--ice entry ${i}: a TURN server needs "username" and "credential"`)
    }
    return out
  })
}

export function parseRelayArgs (argv: string[]): RelayOptions {
  let values
  try {
    values = parseArgs({
      args: argv,
      allowNegative: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        'relay-port': { type: 'string', default: '0' },
        root: { type: 'string', default: 'dist' },
        data: { type: 'string', default: '.fedra' },
        name: { type: 'string', multiple: true, default: [] },
        tls: { type: 'boolean' },
        qr: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        cert: { type: 'string' },
        key: { type: 'string' },
        ice: { type: 'string' },
        stun: { type: 'string', multiple: true, default: [] },
        turn: { type: 'string', multiple: true, default: [] },
        'turn-user': { type: 'string' },
        'turn-credential': { type: 'string' }
      }
    }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (isIP(values.host) === 0) throw new UsageError(`--host takes an IP address to bind (127.0.0.1, 0.0.0.0, a LAN address), not "${values.host}"; use --name for a DNS name`)
  if ((values.cert == null) !== (values.key == null)) throw new UsageError('--cert and --key go together')
  if (values.cert != null && values.tls === false) throw new UsageError('--cert/--key and --no-tls contradict each other')
  for (const name of values.name) {
    if (!/^[a-z0-9.-]+$/i.test(name) || name.startsWith('.') || name.startsWith('-')) throw new UsageError(`--name takes a host name, not "${name}"`)
  }
  const tls = values.tls ?? (values.cert != null || !isLoopbackHost(values.host))
  return {
    host: values.host,
    port: portOf('--port', values.port),
    relayPort: portOf('--relay-port', values['relay-port']),
    root: values.root,
    dataDir: values.data,
    names: values.name,
    tls,
    ...(values.cert != null ? { cert: values.cert, key: values.key } : {}),
    ...(values.ice != null ? { iceFile: values.ice } : {}),
    ...(values.qr != null ? { qr: values.qr } : {}),
    ...(values.help === true ? { help: true } : {}),
    iceServers: iceServersFromFlags({ stun: values.stun, turn: values.turn, turnUser: values['turn-user'], turnCredential: values['turn-credential'] })
  }
}
