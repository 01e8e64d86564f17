import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { certificateFits, certificateNames, ensureCertificate, spkiHash } from './certificate.js'

describe('certificateNames', () => {
  it('covers loopback, the names given and the bound address', () => {
    expect(certificateNames({ host: '192.168.1.5', names: ['Fedra.Test'], interfaceAddresses: ['10.0.0.2'] })).toEqual({
      dns: ['localhost', 'fedra.test'],
      ips: ['127.0.0.1', '::1', '192.168.1.5']
    })
  })

  it('covers every interface and the machine\'s names on a wildcard bind', () => {
    const n = certificateNames({ host: '0.0.0.0', names: [], interfaceAddresses: ['127.0.0.1', '192.168.1.5', 'fe80::1', 'fd00::5'], hostname: 'laptop' })
    expect(n.dns).toEqual(['localhost', 'laptop', 'laptop.local'])
    expect(n.ips).toEqual(['127.0.0.1', '::1', '192.168.1.5', 'fd00::5'])
  })
})

describe('ensureCertificate', () => {
  let dir = ''
  afterEach(async () => { if (dir !== '') await rm(dir, { recursive: true, force: true }) })

  it('makes an authority and a server certificate once, and a new server certificate when the names change', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedra-cert-'))
    const names = { dns: ['localhost', 'fedra.test'], ips: ['127.0.0.1'] }
    const first = await ensureCertificate(dir, names)
    expect(first.created).toBe(true)
    const leaf = new X509Certificate(await readFile(first.certPath, 'utf8'))
    const ca = new X509Certificate(first.ca ?? '')
    expect(ca.ca).toBe(true)
    expect(leaf.ca).toBe(false)
    expect(leaf.verify(ca.publicKey)).toBe(true)
    expect(leaf.checkHost('fedra.test')).toBe('fedra.test')
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1')
    // served as a chain: server certificate first
    expect(new X509Certificate(first.cert).fingerprint256).toBe(leaf.fingerprint256)

    const again = await ensureCertificate(dir, names)
    expect(again.created).toBe(false)
    expect(spkiHash(again.cert)).toBe(spkiHash(first.cert))

    const moved = await ensureCertificate(dir, { ...names, ips: ['127.0.0.1', '192.168.1.7'] })
    expect(moved.created).toBe(true)
    expect(moved.ca).toBe(first.ca)
    expect(new X509Certificate(moved.cert).checkIP('192.168.1.7')).toBe('192.168.1.7')
  })

  it('renews a server certificate that is about to expire', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedra-cert-'))
    const names = { dns: ['localhost'], ips: [] }
    const made = await ensureCertificate(dir, names)
    expect(certificateFits(made.cert, made.ca ?? '', names)).toBe(true)
    expect(certificateFits(made.cert, made.ca ?? '', names, Date.now() + 350 * 86_400_000)).toBe(false)
    expect(certificateFits(made.cert, made.ca ?? '', { dns: ['other.test'], ips: [] })).toBe(false)
  })
})

describe('spkiHash', () => {
  it('is the base64 SHA-256 of the public key, as Chromium pins it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedra-cert-'))
    try {
      const { cert } = await ensureCertificate(dir, { dns: ['localhost'], ips: [] })
      expect(spkiHash(cert)).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
