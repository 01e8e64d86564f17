import { describe, expect, it } from 'vitest'
import { insecureContextMessage, secureUrlFor } from './secure-context.js'
import type { PageLocation } from './secure-context.js'

function loc (href: string): PageLocation {
  const u = new URL(href)
  return { protocol: u.protocol, host: u.host, hostname: u.hostname, pathname: u.pathname, search: u.search, hash: u.hash }
}

describe('insecureContextMessage', () => {
  it('says nothing in a secure context', () => {
    expect(insecureContextMessage(loc('https://192.168.1.5:8080/'), true)).toBeNull()
    expect(insecureContextMessage(loc('http://127.0.0.1:8080/'), true)).toBeNull()
  })

  it('names the missing features and the https link for a LAN address over http', () => {
    const msg = insecureContextMessage(loc('http://192.168.1.5:8080/#/r/abc.key'), false)
    expect(msg).toContain('plain HTTP on a network address (192.168.1.5)')
    expect(msg).toContain('camera, video codecs and encryption')
    // the room link survives the switch to https
    expect(msg).toContain('https://192.168.1.5:8080/#/r/abc.key')
  })

  it('keeps IPv6 hosts in brackets', () => {
    expect(secureUrlFor(loc('http://[fd00::5]:8080/'))).toBe('https://[fd00::5]:8080/')
  })

  it('explains other insecure schemes too', () => {
    expect(insecureContextMessage(loc('https://fedra.test/'), false)).toContain('not a secure context')
  })
})
