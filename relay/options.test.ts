import { describe, expect, it } from 'vitest'
import { iceServersFromFlags, isLoopbackHost, parseIceFile, parseRelayArgs } from './options.js'

describe('parseRelayArgs', () => {
  it('serves plain HTTP + WS on loopback by default', () => {
    const o = parseRelayArgs([])
    expect(o).toMatchObject({ host: '127.0.0.1', port: 8080, relayPort: 0, root: 'dist', dataDir: '.fedra', names: [], tls: false, iceServers: [] })
    expect(o.qr).toBeUndefined()
  })

  it('turns TLS on for a network address, and --no-tls turns it off', () => {
    expect(parseRelayArgs(['--host', '0.0.0.0']).tls).toBe(true)
    expect(parseRelayArgs(['--host', '192.168.1.5']).tls).toBe(true)
    expect(parseRelayArgs(['--host', '0.0.0.0', '--no-tls']).tls).toBe(false)
    expect(parseRelayArgs(['--tls']).tls).toBe(true)
  })

  it('takes names, ports, the data directory and the operator\'s certificate', () => {
    const o = parseRelayArgs(['--name', 'fedra.test', '--name', 'laptop.local', '--port', '0', '--relay-port', '9090', '--data', '/tmp/x', '--cert', 'c.pem', '--key', 'k.pem', '--no-qr'])
    expect(o).toMatchObject({ names: ['fedra.test', 'laptop.local'], port: 0, relayPort: 9090, dataDir: '/tmp/x', cert: 'c.pem', key: 'k.pem', tls: true, qr: false })
  })

  it('refuses what cannot work, naming the flag', () => {
    expect(() => parseRelayArgs(['--cert', 'c.pem'])).toThrow(/--cert and --key/)
    expect(() => parseRelayArgs(['--cert', 'c.pem', '--key', 'k.pem', '--no-tls'])).toThrow(/contradict/)
    expect(() => parseRelayArgs(['--port', '70000'])).toThrow(/--port/)
    expect(() => parseRelayArgs(['--host', 'localhost'])).toThrow(/--host takes an IP/)
    expect(() => parseRelayArgs(['--name', 'https://x'])).toThrow(/--name/)
    expect(() => parseRelayArgs(['--bogus'])).toThrow(expect.objectContaining({ name: 'UsageError' }))
  })

  it('builds ICE servers from --stun and --turn', () => {
    const o = parseRelayArgs(['--stun', 'stun:192.168.1.5:3478', '--turn', 'turn:192.168.1.5:3478', '--turn', 'turns:turn.example.org:5349', '--turn-user', 'fedra', '--turn-credential', 's3cret'])
    expect(o.iceServers).toEqual([
      { urls: ['stun:192.168.1.5:3478'] },
      { urls: ['turn:192.168.1.5:3478', 'turns:turn.example.org:5349'], username: 'fedra', credential: 's3cret' }
    ])
  })
})

describe('ICE servers', () => {
  it('needs credentials for TURN and the right scheme for each flag', () => {
    expect(() => iceServersFromFlags({ turn: ['turn:h:3478'] })).toThrow(/--turn-user/)
    expect(() => iceServersFromFlags({ stun: ['turn:h:3478'] })).toThrow(/--stun/)
    expect(() => iceServersFromFlags({ turnUser: 'u' })).toThrow(/go with --turn/)
    expect(iceServersFromFlags({})).toEqual([])
  })

  it('reads an --ice file as an array or { iceServers }', () => {
    const list = [{ urls: 'stun:h:3478' }, { urls: ['turn:h:3478?transport=tcp'], username: 'u', credential: 'p', extra: 1 }]
    const want = [{ urls: 'stun:h:3478' }, { urls: ['turn:h:3478?transport=tcp'], username: 'u', credential: 'p' }]
    expect(parseIceFile(list)).toEqual(want)
    expect(parseIceFile({ iceServers: list })).toEqual(want)
    expect(() => parseIceFile({})).toThrow(/array/)
    expect(() => parseIceFile([{ urls: 'http://x' }])).toThrow(/entry 0/)
    expect(() => parseIceFile([{ urls: 'turn:h' }])).toThrow(/username/)
  })
})

describe('isLoopbackHost', () => {
  it('knows this machine\'s own names', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'app.localhost']) expect(isLoopbackHost(h)).toBe(true)
    for (const h of ['0.0.0.0', '192.168.1.5', '::', 'fedra.test', 'fd00::1']) expect(isLoopbackHost(h)).toBe(false)
  })
})
