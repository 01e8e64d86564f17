import { isIP } from 'node:net'
import { isLoopbackHost } from './options.js'

/** What `/fedra.json` tells the app: the relays to dial and the ICE servers for WebRTC. */
export interface FedraConfig {
  relays: string[]
  iceServers: RTCIceServer[]
}

export interface RelayEndpoint {
  /** The relay's TCP port. */
  port: number
  /** The relay's peer id. */
  peerId: string
  /** WSS (true) or WS (false). */
  secure: boolean
}

/** `host[:port]` → the host alone, without IPv6 brackets; null when it is not a host. */
export function hostOfHeader (hostHeader: string | undefined): string | null {
  if (hostHeader == null || hostHeader === '') return null
  let url: URL
  try {
    url = new URL(`http://${hostHeader}/`)
  } catch {
    return null
  }
  if (url.username !== '' || url.password !== '' || url.pathname !== '/') return null
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return host === '' ? null : host
}

/** The relay as a multiaddr on `host`: the same name or address the browser reached the app by. */
export function relayMultiaddr (host: string, relay: RelayEndpoint): string {
  const kind = isIP(host)
  const proto = kind === 4 ? 'ip4' : kind === 6 ? 'ip6' : 'dns'
  return `/${proto}/${host}/tcp/${relay.port}/${relay.secure ? 'tls/ws' : 'ws'}/p2p/${relay.peerId}`
}

/**
 * `/fedra.json` for one request. The relay address uses the host of the
 * request (its Host header), so a phone that opened `https://laptop.local:8080`
 * dials `wss://laptop.local:<relay port>`: a name the phone can resolve, and
 * one the certificate covers. Without a usable Host header, the relay's own
 * listening addresses.
 */
export function fedraConfig (init: { hostHeader?: string, relay: RelayEndpoint, fallback: string[], iceServers: RTCIceServer[] }): FedraConfig {
  const host = hostOfHeader(init.hostHeader)
  const relays = host != null ? [relayMultiaddr(host, init.relay)] : init.fallback
  return { relays, iceServers: init.iceServers }
}

/** A URL for `host` (IPv6 in brackets). */
export function appUrl (host: string, port: number, tls: boolean): string {
  const h = isIP(host) === 6 ? `[${host}]` : host
  return `${tls ? 'https' : 'http'}://${h}:${port}/`
}

/**
 * The links to print, best first: the operator's names, then this machine's
 * network addresses when bound to all of them, else the bound address.
 */
export function appLinks (init: { host: string, port: number, tls: boolean, names: string[], interfaceAddresses: string[] }): string[] {
  const wildcard = init.host === '0.0.0.0' || init.host === '::'
  const hosts = [...init.names]
  if (wildcard) {
    hosts.push(...init.interfaceAddresses.filter(a =>
      !isLoopbackHost(a) && !a.toLowerCase().startsWith('fe80:') && (init.host === '::' || isIP(a) === 4)))
  }
  else hosts.push(init.host)
  if (hosts.length === 0) hosts.push(isIP(init.host) === 6 ? '::1' : '127.0.0.1')
  return [...new Set(hosts)].map(h => appUrl(h, init.port, init.tls))
}
