import { describe, expect, it } from 'vitest'
import { appLinks, fedraConfig, hostOfHeader, relayMultiaddr } from './config.js'

const relay = { port: 9443, peerId: '12D3KooWTest', secure: true }

describe('/fedra.json', () => {
  it('points the browser at the relay by the name it reached the app by', () => {
    expect(fedraConfig({ hostHeader: 'fedra.test:8443', relay, fallback: ['/ip4/0.0.0.0/x'], iceServers: [] })).toEqual({
      relays: ['/dns/fedra.test/tcp/9443/tls/ws/p2p/12D3KooWTest'],
      iceServers: []
    })
  })

  it('uses ip4 / ip6 for addresses, ws for a plain relay', () => {
    expect(relayMultiaddr('192.168.1.5', relay)).toBe('/ip4/192.168.1.5/tcp/9443/tls/ws/p2p/12D3KooWTest')
    expect(relayMultiaddr('fd00::5', { ...relay, secure: false })).toBe('/ip6/fd00::5/tcp/9443/ws/p2p/12D3KooWTest')
    expect(fedraConfig({ hostHeader: '[fd00::5]:8080', relay, fallback: [], iceServers: [] }).relays).toEqual(['/ip6/fd00::5/tcp/9443/tls/ws/p2p/12D3KooWTest'])
  })

  it('falls back to the relay\'s own addresses without a usable Host header', () => {
    for (const h of [undefined, '', 'a b', 'u@h:1', 'h/x']) {
      expect(hostOfHeader(h)).toBeNull()
      expect(fedraConfig({ hostHeader: h, relay, fallback: ['/ip4/127.0.0.1/tcp/1/ws'], iceServers: [] }).relays).toEqual(['/ip4/127.0.0.1/tcp/1/ws'])
    }
  })

  it('carries the operator\'s ICE servers', () => {
    const iceServers = [{ urls: 'stun:192.168.1.5:3478' }]
    expect(fedraConfig({ hostHeader: '127.0.0.1:8080', relay, fallback: [], iceServers }).iceServers).toBe(iceServers)
  })
})

describe('appLinks', () => {
  it('prints the names first, then the LAN addresses of a wildcard bind', () => {
    expect(appLinks({ host: '0.0.0.0', port: 8080, tls: true, names: ['laptop.local'], interfaceAddresses: ['127.0.0.1', '::1', '192.168.1.5', 'fe80::1', '10.0.0.2'] }))
      .toEqual(['https://laptop.local:8080/', 'https://192.168.1.5:8080/', 'https://10.0.0.2:8080/'])
  })

  it('prints the bound address, or loopback when there is no network', () => {
    expect(appLinks({ host: '127.0.0.1', port: 8080, tls: false, names: [], interfaceAddresses: [] })).toEqual(['http://127.0.0.1:8080/'])
    expect(appLinks({ host: '0.0.0.0', port: 8080, tls: true, names: [], interfaceAddresses: ['127.0.0.1'] })).toEqual(['https://127.0.0.1:8080/'])
    expect(appLinks({ host: '::', port: 1, tls: true, names: [], interfaceAddresses: ['fd00::5'] })).toEqual(['https://[fd00::5]:1/'])
  })
})
